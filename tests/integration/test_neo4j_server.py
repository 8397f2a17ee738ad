"""The Neo4j server graphfraud assembles from Maven Central and runs by itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr

from graphfraud.errors import GraphFraudError
from graphfraud.model import EntityRef
from graphfraud.neo4j_server import (
    NEO4J_VERSION,
    ensure_installed,
    server_status,
    start_server,
    stop_server,
)
from graphfraud.settings import Settings
from graphfraud.store import open_store
from tests.neo4j_server import PASSWORD, Neo4jForTests, free_port

pytestmark = pytest.mark.neo4j


@pytest.fixture
def own_server_home(neo4j_server: Neo4jForTests) -> Path:
    if neo4j_server.home is None:
        pytest.skip("the session uses a Neo4j it did not start")
    return neo4j_server.home


def test_installation_is_reused(neo4j_server: Neo4jForTests) -> None:
    started = time.monotonic()
    home = ensure_installed()
    assert time.monotonic() - started < 1
    assert (home / "lib" / f"neo4j-{NEO4J_VERSION}.jar").is_file()
    assert any(jar.name.startswith("apoc-core") for jar in (home / "plugins").iterdir())


def test_missing_maven_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = shutil.which("java")
    assert java is not None
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").symlink_to(java)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(GraphFraudError, match="Maven"):
        ensure_installed(tmp_path / "install")


def test_status_names_the_running_server(
    neo4j_server: Neo4jForTests, own_server_home: Path
) -> None:
    info = server_status(own_server_home)
    assert info is not None
    assert info.url == neo4j_server.url


def test_second_start_in_the_same_home_is_refused(own_server_home: Path) -> None:
    with pytest.raises(GraphFraudError, match="already running"):
        start_server(own_server_home, port=free_port(), password=PASSWORD)


def test_a_port_in_use_is_refused(neo4j_server: Neo4jForTests, tmp_path: Path) -> None:
    port = int(neo4j_server.url.rsplit(":", 1)[1])
    with pytest.raises(GraphFraudError, match=f"port {port}"):
        start_server(tmp_path, port=port, password=PASSWORD)


def test_status_of_a_home_without_server_exits_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "graphfraud", "neo4j", "status", "--home", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "not running" in done.stdout


@pytest.mark.slow
def test_a_stopped_server_keeps_its_data_for_the_next_start(tmp_path: Path) -> None:
    first = start_server(tmp_path, port=free_port(), password=PASSWORD, pagecache="128m")
    try:
        with open_store(first.url, settings=_settings()) as store:
            store.upsert_entities(pd.DataFrame({"kind": ["Account"], "key": ["A1"]}))
    finally:
        assert stop_server(tmp_path)
    assert server_status(tmp_path) is None
    second = start_server(tmp_path, port=free_port(), password=PASSWORD, pagecache="128m")
    try:
        with open_store(second.url, settings=_settings()) as store:
            assert store.entity(EntityRef("Account", "A1"))["key"] == "A1"
    finally:
        stop_server(tmp_path)


@pytest.mark.slow
def test_restarting_with_another_password_is_refused(tmp_path: Path) -> None:
    start_server(tmp_path, port=free_port(), password=PASSWORD, pagecache="128m")
    stop_server(tmp_path)
    with pytest.raises(GraphFraudError, match="another password"):
        start_server(tmp_path, port=free_port(), password="something-else", pagecache="128m")
    assert server_status(tmp_path) is None


def _settings() -> Settings:
    return Settings(neo4j_password=SecretStr(PASSWORD))
