"""What the hot endpoints read: rings and linkage, from memory when the app owns its store.

Ring listings, ring detail and account linkage answer product teams' online questions, so they
must stay fast under concurrent load. On the embedded engine a query costs about a millisecond
before it does any work, and a linkage answer takes six queries. But while the API serves a
DuckDB file its process owns that file (DuckDB lets one process write it), so every change goes
through this app, and the app can keep what these endpoints read in memory: the active rings,
by id and by member, and the links as adjacency arrays (:class:`ReadModel`). It is built on a
thread of its own when the app starts; until it is ready, and on engines shared with other
writers (a Neo4j server), requests read the store (:class:`StoreReads`). Both give the same
answers (the walk in memory is the store's walk) and the tests hold them to it.

Links do not change while the API serves (loads go through the CLI, which cannot open the file
meanwhile); rings do, through the API, and :meth:`ReadModel.reload_rings` is called after each
such write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool

from api.schemas import Entity, Link, ReadModelState, entities_of, links_of
from graphfraud.errors import InputError, NotFound
from graphfraud.model import (
    ENTITY_COLUMNS,
    LINK_COLUMNS,
    EntityRef,
    Page,
    Ring,
    RingFilter,
    RingPage,
)
from graphfraud.store import GraphStore
from graphfraud.store.base import MAX_HOPS

log = logging.getLogger(__name__)

#: Every active ring, as one page.
ALL = Page(limit=10**9)

Render = Callable[[Ring], bytes]
T = TypeVar("T")


@dataclass(frozen=True)
class Around:
    """An entity's neighbourhood as the API shows it."""

    #: In (kind, key) order, the entity itself among them.
    entities: list[Entity]
    links: list[Link]
    #: Whether the walk stopped at its node limit.
    truncated: bool


class Reads(Protocol):
    """The reads behind ring listings, ring detail and account linkage."""

    async def run(self, work: Callable[[Reads], T]) -> T:
        """``work(self)`` where it belongs: on a worker thread when it may block on a store,
        on the event loop when it reads memory (a thread hop costs more than the work)."""

    def rendered(self, ring_id: str, render: Render) -> bytes:
        """``render(ring)`` of a ring by id, active or retired (kept by readers that can keep
        it); raises NotFound."""

    def rings(self, flt: RingFilter, page: Page) -> RingPage:
        """As :meth:`graphfraud.store.GraphStore.rings`."""

    def neighbourhood(self, ref: EntityRef, *, hops: int, limit: int) -> Around:
        """As :meth:`graphfraud.store.GraphStore.neighbourhood`; NotFound for no entity."""


class StoreReads:
    """Reads that go to a store each time."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def run(self, work: Callable[[Reads], T]) -> T:
        return await run_in_threadpool(work, self)

    def rendered(self, ring_id: str, render: Render) -> bytes:
        return render(self._store.ring(ring_id))

    def rings(self, flt: RingFilter, page: Page) -> RingPage:
        return self._store.rings(flt, page)

    def neighbourhood(self, ref: EntityRef, *, hops: int, limit: int) -> Around:
        found = self._store.neighbourhood(ref, hops=hops, limit=limit)
        return Around(entities_of(found.nodes), links_of(found.edges), found.truncated)


class RingIndex:
    """The active rings by id and by member, and what has been rendered of them."""

    def __init__(self, rings: list[Ring]) -> None:
        self.by_id = {ring.ring_id: ring for ring in rings}
        self.by_account: dict[str, list[Ring]] = {}
        for ring in rings:
            for member in ring.members:
                self.by_account.setdefault(member.account, []).append(ring)
        self.rendered: dict[str, bytes] = {}


class LinkIndex:
    """The links as adjacency arrays over entities numbered in (kind, key) order.

    Numbering entities in the order the store sorts them makes "sorted node ids" mean "sorted
    (kind, key)", so the walk truncates at the same nodes the store's does. Columns are kept as
    plain arrays (kinds as category codes): picking a few rows from them takes microseconds,
    from Arrow-backed frames a millisecond. Links whose ends are not entities (a load always
    creates them) are left out.
    """

    def __init__(self, entities: pd.DataFrame, links: pd.DataFrame) -> None:
        nodes = entities.sort_values(["kind", "key"], ignore_index=True)
        self._node_kind = pd.Categorical(nodes["kind"])
        self._node_kinds = self._node_kind.categories.to_numpy(dtype=object)
        self._nodes = {name: nodes[name].to_numpy() for name in ENTITY_COLUMNS[1:]}
        # Ids of one kind are contiguous: a key's id is its kind's offset plus its position.
        self._by_kind: dict[str, tuple[int, pd.Index]] = {}
        codes = self._node_kind.codes
        for code, kind in enumerate(self._node_kind.categories):
            first, last = np.searchsorted(codes, [code, code + 1])
            self._by_kind[str(kind)] = (int(first), pd.Index(self._nodes["key"][first:last]))
        src = self._ids(links["src_kind"], links["src_key"])
        dst = self._ids(links["dst_kind"], links["dst_key"])
        # Links numbered in source order: a node's outgoing links are one run of ids.
        known = np.flatnonzero((src >= 0) & (dst >= 0))
        known = known[np.argsort(src[known], kind="stable")]
        self._src, self._dst = src[known], dst[known]
        self._link_kind = pd.Categorical(links["kind"].to_numpy()[known])
        self._link_kinds = self._link_kind.categories.to_numpy(dtype=object)
        self._links = {name: links[name].to_numpy()[known] for name in LINK_COLUMNS[5:]}
        everyone = np.arange(len(nodes) + 1)
        self._out_start = np.searchsorted(self._src, everyone)
        # Links touching node i, either way: _incident[_start[i]:_start[i + 1]].
        ends = np.concatenate([self._src, self._dst])
        order = np.argsort(ends, kind="stable")
        self._incident = np.concatenate([np.arange(len(self._src))] * 2)[order]
        self._start = np.searchsorted(ends[order], everyone)

    def node(self, ref: EntityRef) -> int:
        """The id of ``ref``; raises NotFound."""
        offset, keys = self._by_kind.get(ref.kind, (0, pd.Index([])))
        if ref.key not in keys:
            raise NotFound(f"no {ref.kind} with key {ref.key!r}")
        return offset + int(keys.get_loc(ref.key))  # type: ignore[arg-type]

    def neighbourhood(self, ref: EntityRef, *, hops: int, limit: int) -> Around:
        """The store's walk: one level at a time, new nodes in (kind, key) order, at most
        ``limit`` nodes; then the links among the nodes reached."""
        if not 1 <= hops <= MAX_HOPS or limit < 1:
            raise InputError(f"hops must be 1..{MAX_HOPS} and limit positive")
        seen = frontier = np.array([self.node(ref)])
        truncated = False
        for _ in range(hops):
            links = self._touching(frontier)
            ends = _distinct(np.concatenate([self._src[links], self._dst[links]]))
            reached = ends[~np.isin(ends, seen)]
            room = limit - len(seen)
            if len(reached) > room:
                reached, truncated = reached[:room], True
            seen, frontier = _distinct(np.concatenate([seen, reached])), reached
            if truncated or not len(frontier):
                break
        # Links among the nodes reached, found from their sources alone (as the store does),
        # never fanning out of a widely used identifier.
        links = _runs(self._out_start[seen], self._out_start[seen + 1])
        links = links[np.isin(self._dst[links], seen)]
        nodes = {"kind": self._kind_of(seen), **{n: c[seen] for n, c in self._nodes.items()}}
        return Around(entities_of(nodes), links_of(self._columns(links)), truncated)

    def _ids(self, kinds: pd.Series, keys: pd.Series) -> np.ndarray:
        ids = np.full(len(keys), -1, dtype=np.int64)
        kind_values, key_values = kinds.to_numpy(), keys.to_numpy()
        for kind, (offset, index) in self._by_kind.items():
            rows = np.flatnonzero(kind_values == kind)
            found = index.get_indexer(pd.Index(key_values[rows]))
            ids[rows] = np.where(found >= 0, found + offset, -1)
        return ids

    def _kind_of(self, nodes: np.ndarray) -> np.ndarray:
        return self._node_kinds[self._node_kind.codes[nodes]]

    def _touching(self, nodes: np.ndarray) -> np.ndarray:
        """Ids of the links with an end in ``nodes`` (a link between two of them twice)."""
        return self._incident[_runs(self._start[nodes], self._start[nodes + 1])]

    def _columns(self, links: np.ndarray) -> dict[str, np.ndarray]:
        src, dst = self._src[links], self._dst[links]
        kind = self._link_kind
        return {
            "src_kind": self._kind_of(src),
            "src_key": self._nodes["key"][src],
            "kind": self._link_kinds[kind.codes[links]],
            "dst_kind": self._kind_of(dst),
            "dst_key": self._nodes["key"][dst],
            **{name: column[links] for name, column in self._links.items()},
        }


def _runs(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``starts[0]..stops[0]-1``, then ``starts[1]..stops[1]-1``, ... as one array."""
    counts = stops - starts
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; on the small arrays of a walk, several times quicker than
    ``np.unique``, whose hash table costs most of a millisecond whatever the input."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


class ReadModel:
    """Rings and links of the served store, in memory.

    Parameters
    ----------
    borrow
        Lends a store handle for the caller's sole use (a ``with`` block).
    """

    def __init__(self, borrow: Callable[[], AbstractContextManager[GraphStore]]) -> None:
        self._borrow = borrow
        self._rings: RingIndex | None = None
        self._links: LinkIndex | None = None
        # Held from reading the rings to installing them, so a reload never installs rings
        # older than the ones it replaces.
        self._rings_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self.state = ReadModelState.BUILDING

    @property
    def ready(self) -> bool:
        """Whether reads can be served from memory."""
        return self.state is ReadModelState.READY

    def build(self) -> None:
        """Read the rings and links from the store (on the caller's thread)."""
        began = time.perf_counter()
        try:
            with self._borrow() as store:
                self.reload_rings(store)
                self._links = LinkIndex(store.entities(), store.links())
        except Exception:  # a thread boundary: reads then keep going to the store
            log.exception("the in-memory read model could not be built; reading the store")
            self.state = ReadModelState.FAILED
            return
        self.state = ReadModelState.READY
        log.info("read model built in %.1f s", time.perf_counter() - began)

    def start(self) -> None:
        """Build on a daemon thread, unless built or building already (an app's lifespan may
        start more than once)."""
        with self._rings_lock:
            if self._builder is not None:
                return
            self._builder = threading.Thread(target=self.build, name="read-model", daemon=True)
        self._builder.start()

    def reload_rings(self, store: GraphStore) -> None:
        """Read the active rings again, after a write changed them."""
        with self._rings_lock:
            self._rings = RingIndex(store.rings(page=ALL).rings)

    async def run(self, work: Callable[[Reads], T]) -> T:
        return work(self)

    def rendered(self, ring_id: str, render: Render) -> bytes:
        index = self._ring_index()
        done = index.rendered.get(ring_id)
        if done is not None:
            return done
        ring = index.by_id.get(ring_id)
        if ring is None:
            # A retired ring, or none: not kept, and one indexed lookup, short enough for the
            # event loop.
            with self._borrow() as store:
                return render(store.ring(ring_id))
        done = index.rendered[ring_id] = render(ring)
        return done

    def rings(self, flt: RingFilter, page: Page) -> RingPage:
        index = self._ring_index()
        if flt.account is None:
            candidates = list(index.by_id.values())
        else:
            candidates = index.by_account.get(flt.account, [])
        found = [ring for ring in candidates if flt.matches(ring)]
        return RingPage(page.of(found), len(found))

    def neighbourhood(self, ref: EntityRef, *, hops: int, limit: int) -> Around:
        if self._links is None:
            raise RuntimeError("the read model is not built")
        return self._links.neighbourhood(ref, hops=hops, limit=limit)

    def _ring_index(self) -> RingIndex:
        if self._rings is None:
            raise RuntimeError("the read model is not built")
        return self._rings
