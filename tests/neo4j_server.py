"""A real Neo4j server for the test session, and empty stores on it.

The session fixture ``neo4j_server`` assembles Neo4j once (cached in the user's cache folder;
the first run downloads about 130 MB from Maven Central), starts it on a free port with a fresh
data folder under pytest's temporary directory, and stops it when the session ends. Load it
from the top-level ``tests/conftest.py``::

    pytest_plugins = ("tests.neo4j_server",)

To test against a Neo4j of your own instead, set ``GRAPHFRAUD_TEST_NEO4J_URL`` (and
``GRAPHFRAUD_TEST_NEO4J_PASSWORD``): the tests then wipe that database, so never point it at
data you care about.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pytest
from pydantic import SecretStr

from graphfraud.neo4j_server import start_server, stop_server
from graphfraud.settings import Settings
from graphfraud.store import cypher
from graphfraud.store.neo4j import Neo4jStore

PASSWORD = "graphfraud-tests"


@dataclass(frozen=True)
class Neo4jForTests:
    """Where the session's server is and how to log in."""

    url: str
    password: str
    home: Path | None

    @property
    def settings(self) -> Settings:
        """Settings a store needs to open this server."""
        return Settings(neo4j_password=SecretStr(self.password))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_neo4j(
    home: Path, *, heap: str = "1g", pagecache: str = "512m"
) -> Iterator[Neo4jForTests]:
    """Start a fresh server in ``home`` on a free port; stop it on exit."""
    info = start_server(
        home, port=free_port(), password=PASSWORD, heap=heap, pagecache=pagecache, fresh=True
    )
    try:
        yield Neo4jForTests(info.url, PASSWORD, info.home)
    finally:
        stop_server(info.home)


def wipe(server: Neo4jForTests) -> None:
    """Delete every node and relationship (constraints stay)."""
    with (
        neo4j.GraphDatabase.driver(server.url, auth=("neo4j", server.password)) as driver,
        driver.session(database="neo4j") as session,
    ):
        session.run(cypher.DELETE_EVERYTHING).consume()


def empty_store(server: Neo4jForTests, **options: int) -> Neo4jStore:
    """A store on ``server`` with nothing in it (``options`` go to :class:`Neo4jStore`)."""
    wipe(server)
    return opened_store(server, **options)


def opened_store(server: Neo4jForTests, **options: int) -> Neo4jStore:
    """A store on ``server`` as it is (``options`` go to :class:`Neo4jStore`)."""
    return Neo4jStore(server.url, settings=server.settings, **options)


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jForTests]:
    """The session's Neo4j: started on first use, stopped at the end of the session."""
    url = os.environ.get("GRAPHFRAUD_TEST_NEO4J_URL")
    if url:
        yield Neo4jForTests(url, os.environ.get("GRAPHFRAUD_TEST_NEO4J_PASSWORD", ""), None)
        return
    with running_neo4j(tmp_path_factory.mktemp("neo4j")) as server:
        yield server
