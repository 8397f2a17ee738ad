"""Graph stores behind one contract, chosen by URL.

``duckdb:///graphfraud.duckdb`` (a relative path), ``duckdb:////abs/path.duckdb``,
``duckdb:///:memory:``; ``neo4j://host:7687`` or ``bolt://host:7687`` (credentials from settings).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graphfraud.errors import ConfigError, StoreUnavailable
from graphfraud.settings import Settings, get_settings
from graphfraud.store.base import GraphStore

NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


def open_store(
    url: str | None = None, *, settings: Settings | None = None, bulk_home: Path | None = None
) -> GraphStore:
    """Open the store at ``url`` (default: the ``store_url`` setting).

    ``bulk_home``: for a Neo4j URL, the folder of the local server it reaches, so that a whole
    load goes through ``neo4j-admin database import`` (see :class:`Neo4jStore`).

    Raises
    ------
    ConfigError
        The URL names no known engine, or ``bulk_home`` is given for an embedded store.
    StoreUnavailable
        The engine's driver is not installed or the store cannot be reached.
    """
    settings = settings or get_settings()
    url = url or settings.store_url
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(
            f"store URL {url!r} has no scheme; use duckdb:///path.duckdb or neo4j://host:7687"
        )
    if scheme == "duckdb":
        from graphfraud.store.duckdb import DuckDBStore

        if bulk_home is not None:
            raise ConfigError(
                "bulk import builds a Neo4j database; the embedded store already writes a "
                "load into an empty store in one bulk insert: load without --bulk"
            )
        return DuckDBStore(_duckdb_path(url, rest), url=url)
    if scheme in NEO4J_SCHEMES:
        try:
            from graphfraud.store.neo4j import Neo4jStore
        except ImportError as exc:
            raise StoreUnavailable(
                "the Neo4j engine needs the neo4j driver: pip install 'graphfraud[neo4j]'"
            ) from exc
        return Neo4jStore(url, settings=settings, bulk_home=bulk_home)
    raise ConfigError(
        f"store URL {url!r}: unknown engine {scheme!r}; use duckdb:/// or neo4j:// (bolt://)"
    )


@contextmanager
def store_for_writing(
    url: str | None = None, *, settings: Settings | None = None, bulk_home: Path | None = None
) -> Iterator[GraphStore]:
    """The store at ``url``, for a write that leaves nothing behind if it fails.

    Like ``with open_store(url) as store``, except that when the block raises, a store file
    this call created (an embedded store that did not exist) is removed again: a load that
    fails creates nothing. ``bulk_home`` is passed to :func:`open_store`.
    """
    settings = settings or get_settings()
    url = url or settings.store_url
    scheme, _, rest = url.partition("://")
    path = _duckdb_path(url, rest) if scheme == "duckdb" else ":memory:"
    created = [] if path == ":memory:" or Path(path).exists() else [Path(path)]
    store = open_store(url, settings=settings, bulk_home=bulk_home)
    try:
        with store:
            yield store
    except BaseException:
        for made in created:
            made.unlink(missing_ok=True)
            made.with_name(made.name + ".wal").unlink(missing_ok=True)
        raise


def _duckdb_path(url: str, rest: str) -> str:
    """The database file of a ``duckdb:///path`` URL (``rest`` is what follows ``://``)."""
    path = rest[1:] if rest.startswith("/") else rest
    if not path:
        raise ConfigError(f"store URL {url!r} names no database file")
    return path


__all__ = ["GraphStore", "open_store", "store_for_writing"]
