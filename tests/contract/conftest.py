"""The store under test: every engine runs the same contract suite.

A new engine plugs in by adding one entry to ``ENGINES`` and a branch in ``Opener.open``. The
caching store runs the suite over the embedded engine, as the API uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graphfraud.store import GraphStore, open_store
from graphfraud.store.cached import CachedStore

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j),
    pytest.param("cached-duckdb", id="cached-duckdb"),
]

#: Opens the store under test again, as a process started afresh would.
Reopen = Callable[[], GraphStore]


class Opener:
    """Opens handles on one store of an engine; closes them all at the end."""

    def __init__(self, engine: str, request: pytest.FixtureRequest, folder: Path) -> None:
        self.engine = engine
        self._request = request
        self._folder = folder
        self._files = 0
        self.opened: list[GraphStore] = []

    @property
    def _url(self) -> str:
        return f"duckdb:///{self._folder / f'graph-{self._files}.duckdb'}"

    def open(self, *, empty: bool) -> GraphStore:
        """A handle on a new, empty store, or another handle on the last one opened."""
        self._files += empty
        if self.engine == "neo4j":
            from tests.neo4j_server import empty_store, opened_store, wipe

            server = self._request.getfixturevalue("neo4j_server")
            if empty and self.opened:  # wiping is quicker than connecting afresh
                wipe(server)
                return self.opened[-1]
            store: GraphStore = empty_store(server) if empty else opened_store(server)
        elif self.engine == "cached-duckdb":
            store = CachedStore(open_store(self._url))
            store.build()
        else:
            store = open_store(self._url)
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=ENGINES)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    made = Opener(request.param, request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def store(opener: Opener) -> GraphStore:
    return opener.open(empty=True)


@pytest.fixture
def reopen(opener: Opener, store: GraphStore) -> Reopen:
    """Close the store under test and open it again (what a restart does)."""

    def again() -> GraphStore:
        store.close()
        opener.opened.remove(store)
        return opener.open(empty=False)

    return again
