"""``graphfraud serve`` as a user runs it: a real process, the keys and URL it prints, curl-like
calls with those keys."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api_server import duckdb_marketplace, free_port


@dataclass(frozen=True)
class Served:
    """What ``graphfraud serve`` printed."""

    index_url: str
    read_key: str
    investigator_key: str
    base: str


def printed_value(pattern: str, printed: str) -> str:
    found = re.search(pattern, printed)
    assert found, printed
    return found.group(1)


@contextmanager
def running(*args: str, cwd: Path, port: int) -> Iterator[Served]:
    """``graphfraud *args`` as a process, once it prints its URL and answers on ``port``."""
    env = {
        name: value for name, value in os.environ.items() if not name.startswith("GRAPHFRAUD_API")
    }
    env |= {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "graphfraud", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        printed = ""
        deadline = time.monotonic() + 300
        while "Ctrl+C" not in printed and process.poll() is None:
            assert time.monotonic() < deadline, printed
            printed += process.stdout.readline()
        assert process.poll() is None, printed
        base = f"http://127.0.0.1:{port}"
        while True:
            assert time.monotonic() < deadline, printed
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Served(
            index_url=printed_value(r"Rings: (\S+)", printed),
            read_key=printed_value(r"read-only key: +(\S+)", printed),
            investigator_key=printed_value(r"investigator key: +(\S+)", printed),
            base=base,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(marketplace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    store_url = duckdb_marketplace(marketplace, folder)
    port = free_port()
    with running("serve", "--port", str(port), "--store", store_url, cwd=folder, port=port) as up:
        yield up


def test_printed_index_url_shows_the_rings(served: Served) -> None:
    page = httpx.get(served.index_url)
    assert page.status_code == 200
    assert 'class="ring-link"' in page.text


def test_read_only_key_answers_a_linkage_question(served: Served) -> None:
    headers = {"X-API-Key": served.read_key}
    ring = httpx.get(f"{served.base}/api/rings", headers=headers).json()["rings"][0]
    member = httpx.get(f"{served.base}/api/rings/{ring['ring_id']}", headers=headers).json()
    account = member["members"][0]["account"]
    linkage = httpx.get(f"{served.base}/api/accounts/{account}/linkage", headers=headers)
    assert linkage.status_code == 200
    assert linkage.json()["rings"][0]["ring_id"] == ring["ring_id"]


def test_read_only_key_is_refused_a_status_change(served: Served) -> None:
    headers = {"X-API-Key": served.read_key}
    ring_id = httpx.get(f"{served.base}/api/rings", headers=headers).json()["rings"][0]["ring_id"]
    response = httpx.put(
        f"{served.base}/api/rings/{ring_id}/status", headers=headers, json={"status": "benign"}
    )
    assert response.status_code == 403


def test_investigator_key_changes_a_status(served: Served) -> None:
    headers = {"X-API-Key": served.investigator_key}
    ring_id = httpx.get(f"{served.base}/api/rings", headers=headers).json()["rings"][0]["ring_id"]
    response = httpx.put(
        f"{served.base}/api/rings/{ring_id}/status",
        headers=headers,
        json={"status": "under_review", "note": "looking"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "under_review"


def test_demo_ends_serving_its_rings_at_the_printed_url(tmp_path: Path) -> None:
    port = free_port()
    demo = (
        "demo",
        "--accounts",
        "2000",
        "--seed",
        "5",
        "--out",
        "data",
        "--port",
        str(port),
        "--serve",
    )
    store = ("--store", f"duckdb:///{tmp_path / 'demo.duckdb'}")
    with running(*demo, *store, cwd=tmp_path, port=port) as up:
        index = httpx.get(up.index_url)
        first_view = re.search(r'class="ring-link" href="([^"]+)"', index.text)
        assert first_view, index.text
        view = httpx.get(f"{up.base}{html.unescape(first_view.group(1))}")
    assert view.status_code == 200
    assert "vis.Network" in view.text
