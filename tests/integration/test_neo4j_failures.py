"""How the Neo4j engine fails: clearly, and so that running the same load again completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr

from graphfraud.errors import StoreError, StoreUnavailable
from graphfraud.neo4j_server import server_status, start_server, stop_server
from graphfraud.settings import Settings
from graphfraud.store import open_store
from graphfraud.store.base import LINK_KEY
from tests.neo4j_server import PASSWORD, Neo4jForTests, empty_store, free_port, running_neo4j

pytestmark = pytest.mark.neo4j


def test_server_not_running_names_the_url_and_how_to_start_one() -> None:
    url = f"neo4j://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match="graphfraud neo4j start") as caught:
        open_store(url)
    assert url in str(caught.value)


def test_server_not_running_is_one_line_from_the_command_line() -> None:
    url = f"neo4j://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "graphfraud", "stats", "--store", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert url in done.stderr.replace("\n", "")
    assert "graphfraud neo4j start" in done.stderr.replace("\n", " ")


def test_wrong_password_is_a_clear_error(neo4j_server: Neo4jForTests) -> None:
    wrong = Settings(neo4j_password=SecretStr("not-the-password"))
    with pytest.raises(StoreUnavailable, match="wrong user or password"):
        open_store(neo4j_server.url, settings=wrong)


def _links(accounts: int) -> pd.DataFrame:
    """Each account uses one of a tenth as many devices, so devices are shared."""
    return pd.DataFrame(
        {
            "src_kind": "Account",
            "src_key": [f"A{i}" for i in range(accounts)],
            "kind": "USES_DEVICE",
            "dst_kind": "Device",
            "dst_key": [f"D{i % (accounts // 10)}" for i in range(accounts)],
            "first_seen": "2026-01-01",
            "last_seen": "2026-01-02",
            "count": 1,
            "amount": None,
        }
    )


@pytest.mark.slow
def test_server_dying_mid_load_fails_clearly_and_a_rerun_completes(tmp_path: Path) -> None:
    links = _links(40_000)
    failures: list[BaseException] = []
    with running_neo4j(tmp_path / "dying", pagecache="256m") as server:
        assert server.home is not None
        store = empty_store(server, batch_size=500)

        def load() -> None:
            try:
                store.upsert_links(links)
            except BaseException as exc:  # handed over to the test's thread
                failures.append(exc)

        writer = threading.Thread(target=load)
        writer.start()
        deadline = time.monotonic() + 60
        while store.stats().link_total == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        running = server_status(server.home)
        assert running is not None
        os.kill(running.pid, signal.SIGKILL)
        writer.join(timeout=120)
        store.close()
        assert not writer.is_alive()
        assert len(failures) == 1
        assert isinstance(failures[0], StoreError)
        assert "lost the connection" in str(failures[0])
        assert "run the same command again" in str(failures[0])
        stop_server(server.home)

        again = start_server(server.home, port=free_port(), password=PASSWORD)
        try:
            with open_store(again.url, settings=server.settings) as reopened:
                assert 0 < reopened.stats().link_total < len(links)
                assert reopened.upsert_links(links) == len(links)
                stored = reopened.links()
        finally:
            stop_server(again.home)
    assert len(stored) == len(links)
    assert not stored.duplicated(LINK_KEY).any()
