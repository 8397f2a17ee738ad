"""A real API server for the tests: a generated marketplace, loaded and detected, served by
uvicorn on 127.0.0.1.

The fixture ``api`` is parametrised by store engine (``ENGINES``): every test that uses it runs
on the embedded DuckDB store and, with the ``neo4j`` mark, on the session's Neo4j server. It is
module-scoped because the Neo4j tests elsewhere wipe the one database between tests. Load it
from the top-level ``tests/conftest.py``::

    pytest_plugins = ("tests.neo4j_server", "tests.api_server")
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from algorithms.pipeline import detect_rings
from graphfraud.settings import Settings, named_keys
from graphfraud.store import GraphStore, open_store
from loaders.generator import generate_marketplace
from loaders.load import load_tables
from loaders.mapping import builtin_mapping

READ_KEY = "read-key-for-tests"
INVESTIGATOR_KEY = "investigator-key-for-tests"
INGEST_KEY = "ingest-key-for-tests"
#: The names the keys carry (what the audit trail records).
READER, INVESTIGATOR = "Rita Reader", "Ivan Investigator"
ACCOUNTS = 2_000
SEED = 11

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j),
]


@dataclass(frozen=True)
class ServedApi:
    """A running API server, the store it serves and the keys it accepts."""

    url: str
    engine: str
    store_url: str
    settings: Settings

    def open_store(self) -> GraphStore:
        """A store handle of the test's own on the store served (a DuckDB file may be opened
        again in the process that serves it)."""
        return open_store(self.store_url, settings=self.settings)

    def client(self, key: str | None = READ_KEY) -> httpx.Client:
        """An HTTP client sending ``key`` (none when ``None``)."""
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_settings(base: Settings | None = None) -> Settings:
    """``base`` (default: the defaults) with one read-only, one investigator and one ingest
    key."""
    keys = {
        "api_read_keys": named_keys({READ_KEY: READER}),
        "api_investigator_keys": named_keys({INVESTIGATOR_KEY: INVESTIGATOR}),
        "api_ingest_keys": named_keys({INGEST_KEY: "Ingest Pipeline"}),
    }
    return (base or Settings()).model_copy(update=keys)


def fill(store: GraphStore, data: Path) -> None:
    """Load the generated marketplace into ``store`` and detect its rings."""
    load_tables(store, builtin_mapping(), data)
    detect_rings(store, seed=SEED)


@contextmanager
def serving(settings: Settings, store_url: str, *, engine: str) -> Iterator[ServedApi]:
    """Run the API for ``store_url`` under uvicorn on a free local port until the block ends."""
    from api import create_app  # here, so collecting unrelated tests never imports the API

    port = free_port()
    config = uvicorn.Config(
        create_app(settings, store_url=store_url),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    served = ServedApi(f"http://127.0.0.1:{port}", engine, store_url, settings)
    deadline = time.monotonic() + 60
    # Started, and answering from its read model once it has one (until then it reads the
    # store, which the tests of that path ask for by turning the read model off).
    while not server.started or _read_model(served) == "building":
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not get ready")
        time.sleep(0.02)
    try:
        yield served
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _read_model(served: ServedApi) -> str:
    with served.client(None) as client:
        state: str = client.get("/health").json()["read_model"]
        return state


def duckdb_marketplace(data: Path, folder: Path) -> str:
    """A DuckDB store in ``folder`` filled from ``data``; returns its URL."""
    store_url = f"duckdb:///{folder / 'graph.duckdb'}"
    with open_store(store_url) as store:
        fill(store, data)
    return store_url


@pytest.fixture(scope="session")
def marketplace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated tables (made once per session)."""
    out = tmp_path_factory.mktemp("marketplace")
    generate_marketplace(out, accounts=ACCOUNTS, seed=SEED)
    return out


@pytest.fixture(scope="module", params=ENGINES)
def api(
    request: pytest.FixtureRequest,
    marketplace: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServedApi]:
    """The API serving the marketplace's rings from the engine under test."""
    if request.param == "neo4j":
        from tests.neo4j_server import empty_store

        neo4j = request.getfixturevalue("neo4j_server")
        with empty_store(neo4j) as store:
            fill(store, marketplace)
        settings, store_url = api_settings(neo4j.settings), neo4j.url
    else:
        settings = api_settings()
        store_url = duckdb_marketplace(marketplace, tmp_path_factory.mktemp("store"))
    with serving(settings, store_url, engine=request.param) as served:
        yield served
