"""``graphfraud load --append`` as a user runs it: into a store no one holds, and through the
server that holds one (a real ``graphfraud serve`` process), or a message saying how."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graphfraud.model import Page, RingFilter
from graphfraud.store import open_store
from tests.api_server import duckdb_marketplace, free_port
from tests.integration.test_api_cli import Served, running


def farm_devices(store_url: str) -> tuple[str, list[str]]:
    """The best device farm's id and the devices its members share."""
    with open_store(store_url) as store:
        (farm,) = store.rings(RingFilter(typology="device_farm"), Page(limit=1)).rings
    assert farm.evidence is not None
    shared = farm.evidence.shared_identifiers
    return farm.ring_id, [thing.key for thing in shared if thing.kind == "Device"]


def new_rows(folder: Path, account: str, devices: list[str]) -> Path:
    """A folder with a sign-up of ``account`` and its logins from ``devices``."""
    folder.mkdir()
    with (folder / "accounts.csv").open("w", newline="") as out:
        rows = csv.writer(out)
        rows.writerow(["account_id", "created_at", "account_type", "email", "phone", "country",
                       "signup_ip", "known_bad"])  # fmt: skip
        rows.writerow([account, "2026-01-16T14:02:11Z", "buyer", "", "", "US", "", ""])
    with (folder / "logins.csv").open("w", newline="") as out:
        rows = csv.writer(out)
        rows.writerow(["account_id", "ts", "device_fingerprint", "ip"])
        for device in devices:
            rows.writerow([account, "2026-01-16T14:05:00Z", device, ""])
    return folder


def graphfraud(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("GRAPHFRAUD_")}
    env |= {"COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def store_url(marketplace: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return duckdb_marketplace(marketplace, tmp_path_factory.mktemp("append"))


def test_append_without_a_server_loads_and_re_detects(marketplace: Path, tmp_path: Path) -> None:
    url = duckdb_marketplace(marketplace, tmp_path)
    ring_id, devices = farm_devices(url)
    data = new_rows(tmp_path / "new", "A9990101", devices)

    done = graphfraud("load", str(data), "--append", "--store", url, cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Appended to" in done.stdout
    assert "Re-detected" in done.stdout
    with open_store(url) as store:
        assert "A9990101" in store.ring(ring_id).accounts


@pytest.fixture(scope="module")
def served(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serving")
    port = free_port()
    with running("serve", "--port", str(port), "--store", store_url, cwd=folder, port=port) as up:
        yield up


def test_append_to_a_held_store_without_a_server_says_what_to_do(
    served: Served, store_url: str, tmp_path: Path
) -> None:
    data = new_rows(tmp_path / "new", "A9990102", ["abc"])

    done = graphfraud("load", str(data), "--append", "--store", store_url, cwd=tmp_path)

    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert "held by another process" in said
    assert "--server http://HOST:PORT --key KEY" in said
    assert "Conflicting lock" not in said


def test_append_through_the_server_updates_its_rings(
    served: Served, store_url: str, tmp_path: Path
) -> None:
    headers = {"X-API-Key": served.read_key}
    farm = httpx.get(
        f"{served.base}/api/rings", params={"typology": "device_farm", "limit": 1},
        headers=headers,
    ).json()["rings"][0]  # fmt: skip
    detail = httpx.get(f"{served.base}/api/rings/{farm['ring_id']}", headers=headers).json()
    devices = [s["key"] for s in detail["evidence"]["shared_identifiers"] if s["kind"] == "Device"]
    data = new_rows(tmp_path / "new", "A9990103", devices)

    done = graphfraud(
        "load", str(data), "--append", "--store", store_url, "--server", served.base,
        "--key", served.investigator_key, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Sent to" in done.stdout
    grown = httpx.get(f"{served.base}/api/rings/{farm['ring_id']}", headers=headers).json()
    assert "A9990103" in [member["account"] for member in grown["members"]]
    alerts = httpx.get(f"{served.base}/api/alerts", params={"limit": 1}, headers=headers).json()
    assert alerts["alerts"][0]["joined"] == ["A9990103"]


def test_a_read_key_is_refused_by_the_server(
    served: Served, store_url: str, tmp_path: Path
) -> None:
    data = new_rows(tmp_path / "new", "A9990104", ["abc"])

    done = graphfraud(
        "load", str(data), "--append", "--store", store_url, "--server", served.base,
        "--key", served.read_key, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 1
    assert "refused the key" in " ".join(done.stderr.split())
