"""``graphfraud load --bulk``: a new Neo4j database built by neo4j-admin import, from the CLI.

The session's server is restarted by the import, as a user's would be.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphfraud.model import LINK_COLUMNS
from graphfraud.store import open_store
from loaders import builtin_mapping, load_tables
from loaders.generator import generate_marketplace
from tests.neo4j_server import Neo4jForTests, opened_store, wipe

pytestmark = pytest.mark.neo4j


def graphfraud(*args: str, server: Neo4jForTests) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRAPHFRAUD_NEO4J_HOME": str(server.home),
        "GRAPHFRAUD_NEO4J_PASSWORD": server.password,
    }
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bulk") / "data"
    generate_marketplace(folder, accounts=1_000, seed=3)
    return folder


@pytest.fixture
def server(neo4j_server: Neo4jForTests) -> Neo4jForTests:
    if neo4j_server.home is None:
        pytest.skip("bulk import needs the server's folder: the tests' own server, not one given")
    return neo4j_server


def test_a_bulk_load_holds_what_a_merging_load_holds(
    server: Neo4jForTests, data: Path, tmp_path: Path
) -> None:
    wipe(server)
    with opened_store(server) as store:
        key = store.fingerprint_key()
    done = graphfraud("load", str(data), "--store", server.url, "--bulk", server=server)
    assert done.returncode == 0, done.stderr
    assert "Loaded into" in done.stdout
    with open_store(f"duckdb:///{tmp_path / 'merged.duckdb'}") as merged:
        merged.set_fingerprint_key(key)
        load_tables(merged, builtin_mapping(), data)
        with opened_store(server) as imported:
            assert imported.stats() == merged.stats()
            assert imported.fingerprint_key() == key


def test_a_bulk_load_into_a_database_with_data_is_refused_before_reading(
    server: Neo4jForTests, tmp_path: Path
) -> None:
    with opened_store(server) as store:
        store.upsert_links(
            pd.DataFrame(
                [("Account", "A1", "USES_DEVICE", "Device", "D1", "2026-01-01", "2026-01-01", 1)],
                columns=list(LINK_COLUMNS[:-1]),
            )
        )
    # The folder does not exist: the refusal comes first, before any data is read.
    missing = tmp_path / "missing"
    done = graphfraud("load", str(missing), "--store", server.url, "--bulk", server=server)
    assert done.returncode == 2  # a configuration error
    assert "Traceback" not in done.stderr
    assert "already holds data" in done.stderr.replace("\n", " ")


def test_bulk_into_the_embedded_store_is_a_clean_error(server: Neo4jForTests, data: Path) -> None:
    url = f"duckdb:///{data.parent / 'graph.duckdb'}"
    done = graphfraud("load", str(data), "--store", url, "--bulk", server=server)
    assert done.returncode == 2  # a configuration error
    assert "Traceback" not in done.stderr
    assert "bulk import builds a Neo4j database" in done.stderr.replace("\n", " ")
