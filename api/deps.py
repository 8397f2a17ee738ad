"""Typed dependencies of the routes: settings, a store per request, and API-key roles.

``StoreDep`` hands each request a store it may use alone for its duration. A DuckDB connection
must not be used by two threads at once, and FastAPI runs requests on a pool of threads, so
the :class:`StorePool` lends every request a connection of its own and takes it back afterwards;
connections are opened on demand and reused, and all of them share the one database that
DuckDB keeps per file and process. Engines with a thread-safe driver (Neo4j) share one store.

A DuckDB file the app serves is the app's alone (no other process can write it meanwhile), so
the pool can also keep a :class:`~graphfraud.store.cached.CachedStore` over it: rings and the
link graph in memory, built on a thread of its own at start. Once it is ready, reads use it;
writes (``WriterDep``) always go through it, ready or not, so the memory never misses one.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, APIKeyQuery
from starlette.concurrency import run_in_threadpool

from algorithms.risk import RiskModel
from api.batching import IdentifierBatcher
from api.ties import StoreTies, TieGraph, TieSource
from graphfraud.association import require_scores
from graphfraud.errors import ConfigError
from graphfraud.settings import ApiKey, Settings
from graphfraud.store import GraphStore, open_store
from graphfraud.store.cached import CachedStore

log = logging.getLogger(__name__)
T = TypeVar("T")

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
        #: The caching store over a DuckDB file the app owns, once :meth:`cache` made it.
        self.cached: CachedStore | None = None
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

    @contextmanager
    def writer(self) -> Iterator[GraphStore]:
        """A store to write through until the ``with`` block ends: the caching store when
        there is one (it must see every write), else one of the pool's."""
        if self.cached is not None:
            yield self.cached
            return
        with self.borrow() as store:
            yield store

    def cache(self, *, then: Callable[[GraphStore], None] | None = None) -> None:
        """Keep a caching store over this pool's DuckDB file and build it on a daemon thread,
        unless there is one already (an app's lifespan may start again before it stops);
        ``then`` runs on that thread with the built store (one connection, used in turn)."""
        with self._lock:
            if self.cached is not None or not self._per_request:
                return
            self.cached = CachedStore(open_store(self.url, settings=self._settings))
            self._opened.append(self.cached)
        threading.Thread(target=self._build, args=(self.cached, then), daemon=True).start()

    @staticmethod
    def _build(cached: CachedStore, then: Callable[[GraphStore], None] | None) -> None:
        began = time.perf_counter()
        try:
            cached.build()
        except Exception:  # a thread boundary: reads then keep going to the store
            log.exception("the in-memory cache could not be built; reading the store")
            return
        log.info("in-memory cache built in %.1f s", time.perf_counter() - began)
        if then is None:
            return
        began = time.perf_counter()
        try:
            then(cached)
        except Exception:  # a thread boundary: the first use does it again, and says why
            log.exception("preparing after the cache was built failed")
            return
        log.info("prepared after the cache in %.1f s", time.perf_counter() - began)

    def close(self) -> None:
        """Close every handle opened."""
        with self._lock:
            opened, self._opened, self._idle = self._opened, [], []
            self.cached = None
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
    """A store for this request's reads: the caching store once it is ready, else a handle of
    the pool for this request alone."""
    pool: StorePool = request.app.state.stores
    if pool.cached is not None and pool.cached.ready:
        yield pool.cached
        return
    async with _lent(request) as store:
        yield store


async def get_writer(request: Request) -> AsyncIterator[GraphStore]:
    """A store for this request's writes: the caching store whenever there is one."""
    pool: StorePool = request.app.state.stores
    if pool.cached is not None:
        yield pool.cached
        return
    async with _lent(request) as store:
        yield store


async def run_read(store: GraphStore, work: Callable[[GraphStore], T]) -> T:
    """``work(store)`` where it belongs: on the event loop when the store answers from memory
    (a thread hop costs more than the work), else on a worker thread, as it may block."""
    if isinstance(store, CachedStore) and store.ready:
        return work(store)
    return await run_in_threadpool(work, store)


class RiskModels:
    """The risk model of the latest run, read from the store once per run, and where risk
    checks read the links (thread-safe).

    On the caching store, the links are its adjacency arrays, which its own writes keep
    current; on any other store (Neo4j, shared with other writers), each check reads the links
    it needs from the store.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: RiskModel | None = None
        self._ties: TieGraph | None = None

    def of(self, store: GraphStore) -> RiskModel:
        """The model of the run whose risk ``store`` keeps; NotFound before any run."""
        run = require_scores(store)
        model = self._model
        if model is not None and model.run_id == run:
            return model
        with self._lock:
            if self._model is None or self._model.run_id != run:
                self._read(store, run)
            assert self._model is not None
            return self._model

    def ties(self, store: GraphStore) -> TieSource:
        """Where risk checks on ``store`` read the links, with the latest run's hubs marked;
        NotFound before any run."""
        model = self.of(store)
        links = store.link_index() if isinstance(store, CachedStore) else None
        if links is None:
            return StoreTies(store, model.hubs, model.run_id)
        with self._lock:
            found = self._ties
            # The caching store replaces its arrays when a write changed the links.
            if found is None or found.links is not links or found.run_id != model.run_id:
                found = self._ties = TieGraph.of(links, model.hubs, run_id=model.run_id)
            return found

    def _read(self, store: GraphStore, run: str) -> None:
        self._model = RiskModel.of(run, store.risk(), store.hubs())
        self._ties = None

    def hubs(self, store: GraphStore) -> dict[tuple[str, str], int]:
        """The latest run's hubs (``(kind, key)`` → users); none before any run."""
        if store.scores_run() is None:
            return {}
        return self.of(store).hubs


async def get_risk_models(request: Request) -> RiskModels:
    """The app's risk models (made on first use)."""
    state = request.app.state
    if not hasattr(state, "risk_models"):
        state.risk_models = RiskModels()
    models: RiskModels = state.risk_models
    return models


async def get_batcher(request: Request) -> IdentifierBatcher:
    """The app's identifier batcher."""
    batcher: IdentifierBatcher = request.app.state.batcher
    return batcher


SettingsDep = Annotated[Settings, Depends(get_settings)]
BatcherDep = Annotated[IdentifierBatcher, Depends(get_batcher)]
RiskModelsDep = Annotated[RiskModels, Depends(get_risk_models)]
StoreDep = Annotated[GraphStore, Depends(get_store)]
WriterDep = Annotated[GraphStore, Depends(get_writer)]


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
    #: May send new rows (``POST /api/events``), nothing else.
    INGEST = "ingest"


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


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the role their key grants and the name it carries."""

    role: Role
    name: str


def caller_of(key: str | None, settings: Settings) -> Caller:
    """The caller an API key names; 401 when there is no key or it is not recognised."""
    if not key:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"missing API key: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    for role, keys in (
        (Role.INVESTIGATOR, settings.api_investigator_keys),
        (Role.READER, settings.api_read_keys),
        (Role.INGEST, settings.api_ingest_keys),
    ):
        name = _holder(key, keys)
        if name is not None:
            return Caller(role, name)
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "API key not recognised",
        headers={"WWW-Authenticate": "ApiKey"},
    )


def _holder(key: str, allowed: list[ApiKey]) -> str | None:
    given = key.encode()
    # Compare with every key, in constant time each, so timing tells nothing about the keys.
    found = [
        k.name
        for k in allowed
        if secrets.compare_digest(given, k.secret.get_secret_value().encode())
    ]
    return found[0] if found else None


async def require_reader(
    settings: SettingsDep, key: Annotated[str | None, Security(header_key)]
) -> Caller:
    """Any valid key but an ingest key: read access."""
    return _reading(caller_of(key, settings))


async def require_page_reader(
    settings: SettingsDep,
    key: Annotated[str | None, Security(header_key)],
    key_in_query: Annotated[str | None, Security(query_key)],
) -> Caller:
    """Any valid key but an ingest key, in the header or in ``?key=`` (HTML pages a browser
    opens)."""
    return _reading(caller_of(key or key_in_query, settings))


def _reading(caller: Caller) -> Caller:
    """The caller, if their key may read; 403 for an ingest key."""
    if caller.role is Role.INGEST:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key may only send new rows (POST /api/events); reading needs a read or "
            "investigator key",
        )
    return caller


async def require_investigator(caller: Annotated[Caller, Depends(require_reader)]) -> Caller:
    """An investigator key: may change verdicts and start detection; 403 for others."""
    if caller.role is not Role.INVESTIGATOR:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key is read-only: changing rings and running detection need an "
            "investigator key",
        )
    return caller


InvestigatorDep = Annotated[Caller, Depends(require_investigator)]


async def require_ingest(
    settings: SettingsDep, key: Annotated[str | None, Security(header_key)]
) -> Caller:
    """An ingest or investigator key: may send new rows; 403 for read keys."""
    caller = caller_of(key, settings)
    if caller.role is Role.READER:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key is read-only: sending rows needs an ingest or investigator key",
        )
    return caller


IngestDep = Annotated[Caller, Depends(require_ingest)]
