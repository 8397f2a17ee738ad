"""The store under test: every engine runs the same contract suite.

A new engine plugs in by adding one entry to ``ENGINES`` and a branch in ``store``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graphfraud.store import GraphStore, open_store

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j),
]


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    if request.param == "neo4j":
        from tests.neo4j_server import empty_store

        with empty_store(request.getfixturevalue("neo4j_server")) as opened:
            yield opened
        return
    with open_store("duckdb:///:memory:") as opened:
        yield opened
