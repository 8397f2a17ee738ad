"""Typed dependencies of the routes: settings, a store handle per request, and API-key roles.

``StoreDep`` hands each request a store it may use alone for its duration. A DuckDB connection
must not be used by two threads at once, and FastAPI runs requests on a pool of threads, so
the :class:`StorePool` lends every request a connection of its own and takes it back afterwards;
connections are opened on demand and reused, and all of them share the one database that
DuckDB keeps per file and process. Engines with a thread-safe driver (Neo4j) share one store.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, APIKeyQuery
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool

from api.reads import ReadModel, Reads, StoreReads
from graphfraud.errors import ConfigError
from graphfraud.settings import Settings
from graphfraud.store import GraphStore, open_store

API_KEY_HEADER = "X-API-Key"
API_KEY_QUERY = "key"


class StorePool:
    """Store handles for concurrent requests, opened lazily from one URL.

    Parameters
    ----------
    url
        Store URL (``duckdb:///file.duckdb`` or ``neo4j://…``).
    settings
        Settings the stores are opened with (credentials of server engines).
    """

    def __init__(self, url: str, *, settings: Settings) -> None:
        self.url = url
        self._settings = settings
        self._per_request = url.startswith("duckdb:")
        if self._per_request and url.endswith(":memory:"):
            raise ConfigError(
                "the API needs a DuckDB file: an in-memory database is not shared between "
                "the connections that serve requests"
            )
        self._lock = threading.Lock()
        self._idle: list[GraphStore] = []
        self._opened: list[GraphStore] = []

    @property
    def engine(self) -> str:
        """The store engine's name, from the URL scheme."""
        return "duckdb" if self._per_request else "neo4j"

    def take(self) -> GraphStore | None:
        """An idle store for the caller's sole use, or None when a new one must be opened."""
        with self._lock:
            if not self._per_request:
                return self._opened[0] if self._opened else None
            return self._idle.pop() if self._idle else None

    def open(self) -> GraphStore:
        """Open a store for the caller's sole use (blocks while connecting)."""
        if self._per_request:
            store = open_store(self.url, settings=self._settings)
            with self._lock:
                self._opened.append(store)
            return store
        # Under the lock, so concurrent first requests open one shared store, not several.
        with self._lock:
            if not self._opened:
                self._opened.append(open_store(self.url, settings=self._settings))
            return self._opened[0]

    def give_back(self, store: GraphStore) -> None:
        """Return a store from :meth:`take` or :meth:`open` for others to use; one that was
        out when the pool closed (which closed it) is dropped, never lent again."""
        if self._per_request:
            with self._lock:
                if any(store is mine for mine in self._opened):
                    self._idle.append(store)

    @contextmanager
    def borrow(self) -> Iterator[GraphStore]:
        """A store for the caller's sole use until the ``with`` block ends."""
        store = self.take() or self.open()
        try:
            yield store
        finally:
            self.give_back(store)

    def close(self) -> None:
        """Close every handle opened."""
        with self._lock:
            opened, self._opened, self._idle = self._opened, [], []
        for store in opened:
            store.close()


# The light dependencies below are ``async``: FastAPI then runs them on the event loop instead
# of sending each to its thread pool, a hop that costs more than they do.


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


@asynccontextmanager
async def _lent(request: Request) -> AsyncIterator[GraphStore]:
    pool: StorePool = request.app.state.stores
    store = pool.take()
    if store is None:
        store = await run_in_threadpool(pool.open)
    try:
        yield store
    finally:
        pool.give_back(store)


async def get_store(request: Request) -> AsyncIterator[GraphStore]:
    """A store handle for this request alone."""
    async with _lent(request) as store:
        yield store


async def get_reads(request: Request) -> AsyncIterator[Reads]:
    """Ring and linkage reads: from memory once the read model is ready, else the store."""
    model: ReadModel | None = request.app.state.read_model
    if model is not None and model.ready:
        yield model
        return
    async with _lent(request) as store:
        yield StoreReads(store)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[GraphStore, Depends(get_store)]
ReadsDep = Annotated[Reads, Depends(get_reads)]


async def reject_unknown_parameters(request: Request) -> None:
    """422 for a query parameter the operation does not take, or one it takes once given
    several times: a typo such as ``min_scor=3`` must not silently return everything, and
    ``account=a&account=b`` must not silently answer for ``b`` alone."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    known = _query_names(dependant)
    errors = [
        {"loc": ("query", name), "msg": "unknown parameter", "type": "extra_forbidden"}
        for name in request.query_params
        if name not in known
    ]
    errors += [
        {
            "loc": ("query", name),
            "msg": f"given {count} times; this parameter takes one value",
            "type": "value_error",
        }
        for name in dict.fromkeys(request.query_params)
        if name in known
        and not known[name]
        and (count := len(request.query_params.getlist(name))) > 1
    ]
    if errors:
        raise RequestValidationError(errors)


def _query_names(dependant: Dependant) -> dict[str, bool]:
    """Every query parameter of an operation, and whether it takes several values."""
    # The key a browser may send with any page counts as known everywhere.
    names = {API_KEY_QUERY: False}
    names |= {
        param.alias: _repeatable(param.field_info.annotation) for param in dependant.query_params
    }
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _repeatable(annotation: Any) -> bool:
    """Whether a parameter's type is a list (``list[str] | None`` included)."""
    if get_origin(annotation) in (Union, UnionType):
        return any(_repeatable(part) for part in get_args(annotation))
    return get_origin(annotation) in (list, tuple, set, frozenset)


# -- access --------------------------------------------------------------------------------


class Role(StrEnum):
    """What an API key may do."""

    READER = "reader"
    INVESTIGATOR = "investigator"


header_key = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKeyHeader",
    description="A read-only key (product teams) or an investigator key.",
    auto_error=False,
)
query_key = APIKeyQuery(
    name=API_KEY_QUERY,
    scheme_name="ApiKeyQuery",
    description="The API key as a query parameter, so a browser can open the HTML pages.",
    auto_error=False,
)


def role_of(key: str | None, settings: Settings) -> Role:
    """The role an API key grants; 401 when there is no key or it is not recognised."""
    if not key:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"missing API key: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    if _matches(key, settings.api_investigator_keys):
        return Role.INVESTIGATOR
    if _matches(key, settings.api_read_keys):
        return Role.READER
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "API key not recognised",
        headers={"WWW-Authenticate": "ApiKey"},
    )


def _matches(key: str, allowed: list[SecretStr]) -> bool:
    given = key.encode()
    # Compare with every key, in constant time each, so timing tells nothing about the keys.
    found = [secrets.compare_digest(given, k.get_secret_value().encode()) for k in allowed]
    return any(found)


async def require_reader(
    settings: SettingsDep, key: Annotated[str | None, Security(header_key)]
) -> Role:
    """Any valid key: read access."""
    return role_of(key, settings)


async def require_page_reader(
    settings: SettingsDep,
    key: Annotated[str | None, Security(header_key)],
    key_in_query: Annotated[str | None, Security(query_key)],
) -> Role:
    """Any valid key, in the header or in ``?key=`` (HTML pages a browser opens)."""
    return role_of(key or key_in_query, settings)


async def require_investigator(role: Annotated[Role, Depends(require_reader)]) -> Role:
    """An investigator key: may change ring status and start detection; 403 for others."""
    if role is not Role.INVESTIGATOR:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key is read-only: changing rings and running detection need an "
            "investigator key",
        )
    return role
