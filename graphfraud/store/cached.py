"""A caching store: any store, with what the hot reads need kept in memory.

Ring listings, ring detail and account linkage answer product teams' online questions, so they
must stay fast under concurrent load. On the embedded engine a query costs about a millisecond
before it does any work, and a linkage answer takes several. A process that owns its store —
the API serving a DuckDB file, which no other process can write meanwhile — can keep in memory
what those reads need: every ring (by id and by member, with the light ring index listings
filter) and the link graph as adjacency arrays (:class:`LinkIndex`).

:class:`CachedStore` wraps a store and honours the same contract (the contract suite runs it):
every write goes to the wrapped store first, then updates the memory, inside the same call — a
verdict change replaces its one ring, a run's rings replace the ring set, an upsert of entities
or links has the adjacency rebuilt before the next walk. Graph walks are the base class's own,
over the adjacency arrays, so they truncate where the wrapped store's do.

Reads of rings, entities by key and walks are answered from memory once :meth:`build` has run,
and store metadata (which run's scores are kept, the fingerprint key) once read: these never
wait for the wrapped store, so a caller may run them on an event loop. Everything else (bulk
reads of links and entities, notes, the audit trail, runs, ring history, stats) goes to the
wrapped store. Calls to the wrapped store are serialised: one DuckDB handle must not be used
by two threads at once, and a write and the memory update after it must not interleave
with another write.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from enum import StrEnum

import numpy as np
import pandas as pd
import pyarrow as pa

from graphfraud.model import (
    ENTITY_COLUMNS,
    LINK_COLUMNS,
    RING_INDEX_COLUMNS,
    CodedLinks,
    Columns,
    EntityRef,
    Ring,
    RingStatus,
    StoreStats,
    VerdictChange,
    typed_frame,
)
from graphfraud.store.base import Decide, GraphStore, Progress
from graphfraud.store.records import RingWrite


class CacheState(StrEnum):
    """Where a caching store's reads come from."""

    #: Not built yet (or being built): reads go to the wrapped store.
    BUILDING = "building"
    #: Built: rings and walks are read from memory.
    READY = "ready"
    #: The build failed: reads go to the wrapped store.
    FAILED = "failed"


@dataclasses.dataclass(frozen=True)
class RingCache:
    """Every stored ring: the ring index as arrays, the rings by id, and ring ids by member."""

    index: dict[str, np.ndarray]
    by_id: dict[str, Ring]
    by_account: dict[str, list[str]]

    @classmethod
    def of(cls, index: Columns, rings: list[Ring]) -> RingCache:
        by_account: dict[str, list[str]] = {}
        for ring in rings:
            for member in ring.members:
                by_account.setdefault(member.account, []).append(ring.ring_id)
        # Plain arrays, text as Python objects: listings filter whole columns each time, and
        # a frame's Arrow-backed text would be converted each time.
        arrays = {name: _plain(pd.Series(index[name])) for name in RING_INDEX_COLUMNS}
        return cls(arrays, {r.ring_id: r for r in rings}, by_account)

    def rows(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The index rows of the rings with these ids, in ring-id order."""
        at = np.flatnonzero(np.isin(self.index["ring_id"], ids))
        return {name: values[at] for name, values in self.index.items()}

    def with_verdict(self, ring: Ring) -> RingCache:
        """This cache with ``ring``'s verdict changed (its members and findings are as
        cached: a verdict change touches nothing else)."""
        row = self.index["ring_id"] == ring.ring_id
        status, assignee = self.index["status"].copy(), self.index["assignee"].copy()
        status[row], assignee[row] = RingStatus(ring.status).value, ring.assignee
        index = {**self.index, "status": status, "assignee": assignee}
        return RingCache(index, {**self.by_id, ring.ring_id: ring}, self.by_account)


#: Lookups of up to this many keys go key by key: building an index of them costs more.
FEW = 512
_NO_KEYS = pd.Index([], dtype=object)


class LinkIndex:
    """The links as adjacency arrays over entities numbered in (kind, key) order.

    Columns are kept as plain arrays (kinds as category codes): picking a few rows from them
    takes microseconds, from Arrow-backed frames a millisecond. Links whose ends are not
    entities (a load always creates them) are left out.
    """

    def __init__(self, entities: pd.DataFrame, links: pd.DataFrame) -> None:
        nodes = entities.sort_values(["kind", "key"], ignore_index=True)
        self._node_kind = pd.Categorical(nodes["kind"])
        self._node_kinds = self._node_kind.categories.to_numpy(dtype=object)
        self._nodes = {name: _plain(nodes[name]) for name in ENTITY_COLUMNS[1:]}
        # Ids of one kind are contiguous: a key's id is its kind's offset plus its position.
        self._by_kind: dict[str, tuple[int, pd.Index]] = {}
        codes = self._node_kind.codes
        for code, kind in enumerate(self._node_kind.categories):
            first, last = np.searchsorted(codes, [code, code + 1])
            keys = pd.Index(self._nodes["key"][first:last], dtype=object)
            self._by_kind[str(kind)] = (int(first), keys)
        src = self._ids(links["src_kind"].to_numpy(), links["src_key"].to_numpy())
        dst = self._ids(links["dst_kind"].to_numpy(), links["dst_key"].to_numpy())
        # Links numbered in source order: a node's outgoing links are one run of ids.
        known = np.flatnonzero((src >= 0) & (dst >= 0))
        known = known[np.argsort(src[known], kind="stable")]
        self._src, self._dst = src[known], dst[known]
        self._link_kind = pd.Categorical(links["kind"].to_numpy()[known])
        self._link_kinds = self._link_kind.categories.to_numpy(dtype=object)
        self._links = {name: _plain(links[name])[known] for name in LINK_COLUMNS[5:]}
        everyone = np.arange(len(nodes) + 1)
        self._out_start = np.searchsorted(self._src, everyone)
        # Links touching node i, either way: _incident[_start[i]:_start[i + 1]].
        ends = np.concatenate([self._src, self._dst])
        order = np.argsort(ends, kind="stable")
        self._incident = np.concatenate([np.arange(len(self._src))] * 2)[order]
        self._start = np.searchsorted(ends[order], everyone)

    def entities(self, kind: str | None, keys: list[str]) -> pd.DataFrame:
        """The entities with these keys (of ``kind``, or of any kind), ``ENTITY_COLUMNS``."""
        kinds = list(self._by_kind) if kind is None else [kind]
        found = self.lookup([EntityRef(name, key) for name in kinds for key in keys])
        return typed_frame(found)

    def lookup(self, refs: list[EntityRef]) -> dict[str, np.ndarray]:
        """Those of the entities ``refs`` that exist, in (kind, key) order, as arrays."""
        ids = self._ids(
            np.asarray([ref.kind for ref in refs], dtype=object),
            np.asarray([ref.key for ref in refs], dtype=object),
        )
        ids = np.unique(ids[ids >= 0])
        columns = {name: column[ids] for name, column in self._nodes.items()}
        return {"kind": self._kind_of(ids), **columns}

    def touching(self, refs: list[EntityRef], *, outgoing: bool) -> dict[str, np.ndarray]:
        """Links with an end among ``refs`` (their source, when ``outgoing``), each once, as
        ``LINK_COLUMNS`` arrays."""
        nodes = self._ids(
            np.asarray([ref.kind for ref in refs], dtype=object),
            np.asarray([ref.key for ref in refs], dtype=object),
        )
        nodes = np.unique(nodes[nodes >= 0])
        if outgoing:
            links = _runs(self._out_start[nodes], self._out_start[nodes + 1])
        else:
            links = np.unique(self._incident[_runs(self._start[nodes], self._start[nodes + 1])])
        src, dst = self._src[links], self._dst[links]
        return {
            "src_kind": self._kind_of(src),
            "src_key": self._nodes["key"][src],
            "kind": self._link_kinds[self._link_kind.codes[links]],
            "dst_kind": self._kind_of(dst),
            "dst_key": self._nodes["key"][dst],
            **{name: column[links] for name, column in self._links.items()},
        }

    def degrees(self, refs: list[EntityRef]) -> list[int]:
        """Links touching each of ``refs`` (0 for one that is not an entity)."""
        nodes = self._ids(
            np.asarray([ref.kind for ref in refs], dtype=object),
            np.asarray([ref.key for ref in refs], dtype=object),
        )
        known = np.maximum(nodes, 0)
        found = self._start[known + 1] - self._start[known]
        return np.where(nodes >= 0, found, 0).tolist()

    # -- integer-level reads: callers that walk many links work on node and link ids -------

    @property
    def link_kinds(self) -> np.ndarray:
        """Link kind names, indexed by the codes :meth:`links_at` returns."""
        return self._link_kinds

    def node_ids(self, refs: list[EntityRef]) -> np.ndarray:
        """Node ids of ``refs`` (-1 for one that is not an entity); ids follow (kind, key)
        order, so sorting ids sorts the entities."""
        return self._ids(
            np.asarray([ref.kind for ref in refs], dtype=object),
            np.asarray([ref.key for ref in refs], dtype=object),
        )

    def links_at(
        self, nodes: np.ndarray, *, outgoing: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(source, kind code, target)`` of the links touching ``nodes`` (ids; with their
        source among them, when ``outgoing``), each once."""
        nodes = np.asarray(nodes, dtype=np.int64)
        if outgoing:
            links = _runs(self._out_start[nodes], self._out_start[nodes + 1])
        else:
            links = np.unique(self._incident[_runs(self._start[nodes], self._start[nodes + 1])])
        return self._src[links], self._link_kind.codes[links], self._dst[links]

    def of_kind(self, nodes: np.ndarray, kind: str) -> np.ndarray:
        """Whether each node (id) is of ``kind``."""
        offset, index = self._by_kind.get(kind, (0, _NO_KEYS))
        return (nodes >= offset) & (nodes < offset + len(index))

    def keys_of(self, nodes: np.ndarray) -> np.ndarray:
        """The keys of nodes (ids)."""
        return self._nodes["key"][nodes]

    def refs_of(self, nodes: np.ndarray) -> list[EntityRef]:
        """The entities of nodes (ids)."""
        kinds, keys = self._kind_of(nodes).tolist(), self._nodes["key"][nodes].tolist()
        return [EntityRef(kind, key) for kind, key in zip(kinds, keys, strict=True)]

    def __len__(self) -> int:
        return len(self._nodes["key"])

    def _ids(self, kinds: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Node ids of (kind, key) pairs; -1 for those that are not entities."""
        if len(keys) <= FEW:
            return np.fromiter(map(self._id, kinds, keys), dtype=np.int64, count=len(keys))
        ids = np.full(len(keys), -1, dtype=np.int64)
        for kind, (offset, index) in self._by_kind.items():
            rows = np.flatnonzero(kinds == kind)
            if len(rows):
                found = index.get_indexer(pd.Index(keys[rows], dtype=object))
                ids[rows] = np.where(found >= 0, found + offset, -1)
        return ids

    def _id(self, kind: str, key: str) -> int:
        offset, index = self._by_kind.get(kind, (0, _NO_KEYS))
        try:
            return offset + int(index.get_loc(key))  # type: ignore[arg-type]
        except KeyError:
            return -1

    def _kind_of(self, nodes: np.ndarray) -> np.ndarray:
        return self._node_kinds[self._node_kind.codes[nodes]]


def _plain(column: pd.Series) -> np.ndarray:
    """A column as a NumPy array: text as Python objects (missing as None), the rest as is."""
    if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
        return column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
    return column.to_numpy()


def _runs(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``starts[0]..stops[0]-1``, then ``starts[1]..stops[1]-1``, ... as one array."""
    counts = stops - starts
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())


class CachedStore(GraphStore):
    """A store answering ring reads and graph walks from memory; writes go through it.

    Parameters
    ----------
    inner
        The store wrapped. Everything written to it must go through this wrapper, or the
        memory will not know.

    Notes
    -----
    Nothing is read into memory until :meth:`build` (a few seconds per 100k accounts, best run
    on a thread of its own); until then every read goes to ``inner``. The memory takes about
    0.35 GiB per 100k accounts.
    """

    def __init__(self, inner: GraphStore) -> None:
        super().__init__(inner.url, batch_size=inner.batch_size)
        self.inner = inner
        # Reentrant: a write hook updates the memory from the inner store while holding it.
        self._lock = threading.RLock()
        self._ring_cache: RingCache | None = None
        self._graph: LinkIndex | None = None
        self._links_stale = False
        # Store metadata by name, as last read or written: every request asks which run's
        # scores the store keeps, and that question would otherwise cost a query each time.
        self._meta: dict[str, str] = {}
        self.state = CacheState.BUILDING

    @property
    def ready(self) -> bool:
        """Whether rings and walks are answered from memory."""
        return self.state is CacheState.READY

    def build(self) -> None:
        """Read every ring and the link graph into memory (on the caller's thread).

        Raises
        ------
        Exception
            Whatever reading the wrapped store raised; the state is then ``failed`` and reads
            keep going to the wrapped store.
        """
        try:
            with self._lock:
                self._ring_cache = self._read_rings()
                self._graph = LinkIndex(self.inner.entities(), self.inner.links())
                self._links_stale = False
        except BaseException:
            self._ring_cache, self._graph = None, None
            self.state = CacheState.FAILED
            raise
        self.state = CacheState.READY

    def ring_in_memory(self, ring_id: str) -> Ring | None:
        """The ring as held in memory, or None when it is not (unknown, or not built): an
        answer that never waits. The same object comes back until the ring changes."""
        rings = self._ring_cache
        return None if rings is None else rings.by_id.get(ring_id)

    def _read_rings(self) -> RingCache:
        index = self.inner._ring_index(None)
        return RingCache.of(index, self.inner._rings_by_id(index["ring_id"].tolist()))

    def link_index(self) -> LinkIndex | None:
        """The adjacency arrays, rebuilt first if a write made them stale; None before a
        build. Callers must not change them."""
        if self._links_stale:
            with self._lock:
                if self._links_stale and self._graph is not None:
                    self._graph = LinkIndex(self.inner.entities(), self.inner.links())
                self._links_stale = False
        return self._graph

    # -- hooks: writes go to the inner store, then to memory -----------------------------

    def _ensure_schema(self) -> None:
        with self._lock:
            self.inner.ensure_schema()

    def _close(self) -> None:
        with self._lock:
            self._ring_cache, self._graph = None, None
            self._meta.clear()
            self.inner.close()

    def _upsert_entities(self, batch: pa.Table) -> None:
        with self._lock:
            self.inner._upsert_entities(batch)
            self._links_stale = True

    def _insert_missing_entities(self, batch: pa.Table) -> None:
        with self._lock:
            self.inner._insert_missing_entities(batch)
            self._links_stale = True

    def _upsert_links(self, batch: pa.Table) -> None:
        with self._lock:
            self.inner._upsert_links(batch)
            self._links_stale = True

    def _upsert_events(self, batch: pa.Table) -> None:
        with self._lock:
            self.inner._upsert_events(batch)

    def _write_graph(
        self, entities: pa.Table, links: pa.Table, events: pa.Table, progress: Progress | None
    ) -> None:
        with self._lock:
            self.inner._write_graph(entities, links, events, progress)
            self._links_stale = True

    def _put_meta(self, name: str, value: str, *, replace: bool) -> str:
        known = self._meta.get(name)
        if known is not None and not replace:
            return known
        with self._lock:
            stored = self.inner._put_meta(name, value, replace=replace)
            self._meta[name] = stored
            return stored

    def _write_rings(self, write: RingWrite) -> None:
        with self._lock:
            self.inner._write_rings(write)
            if self._ring_cache is not None:
                self._ring_cache = self._read_rings()

    def _write_scores(self, risk: pa.Table, hubs: pa.Table) -> None:
        with self._lock:
            self.inner._write_scores(risk, hubs)

    def _update_verdict(self, ring_id: str, decide: Decide) -> VerdictChange:
        with self._lock:
            change = self.inner._update_verdict(ring_id, decide)
            if self._ring_cache is not None and change.audit:
                (ring,) = self.inner._rings_by_id([ring_id])
                self._ring_cache = self._ring_cache.with_verdict(ring)
            return change

    # -- hooks: reads from memory when built ----------------------------------------------

    def _entities(self, kind: str | None, keys: list[str] | None) -> pd.DataFrame:
        links = None if self._links_stale else self.link_index()  # see _links_touching
        if links is not None and keys is not None:
            return links.entities(kind, keys)
        with self._lock:
            return self.inner._entities(kind, keys)

    def _lookup(self, refs: list[EntityRef]) -> Columns:
        links = self.link_index()
        if links is not None:
            return links.lookup(refs)
        with self._lock:
            return self.inner._lookup(refs)

    def _links_touching(self, refs: list[EntityRef], *, outgoing: bool) -> Columns:
        # Right after a write the wrapped store's key indexes answer a few keys sooner than
        # the whole adjacency is built again (an append's re-detection reads only around it);
        # the next lookup or degree count builds it.
        links = None if self._links_stale else self.link_index()
        if links is not None:
            return links.touching(refs, outgoing=outgoing)
        with self._lock:
            return self.inner._links_touching(refs, outgoing=outgoing)

    def _degrees(self, refs: list[EntityRef]) -> list[int]:
        links = self.link_index()
        if links is not None:
            return links.degrees(refs)
        with self._lock:
            return self.inner._degrees(refs)

    def _ring_index(self, ids: list[str] | None) -> Columns:
        rings = self._ring_cache
        if rings is not None:
            return rings.index if ids is None else rings.rows(ids)
        with self._lock:
            return self.inner._ring_index(ids)

    def _ring_ids_with(self, account: str) -> list[str]:
        rings = self._ring_cache
        if rings is not None:
            return list(rings.by_account.get(account, []))
        with self._lock:
            return self.inner._ring_ids_with(account)

    def _rings_by_id(self, ids: list[str]) -> list[Ring]:
        rings = self._ring_cache
        if rings is not None:
            return [rings.by_id[ring_id] for ring_id in ids if ring_id in rings.by_id]
        with self._lock:
            return self.inner._rings_by_id(ids)

    # -- hooks: reads from the inner store ----------------------------------------------------

    def _links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> pd.DataFrame:
        with self._lock:
            return self.inner._links(kinds, since)

    def _coded_links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> CodedLinks:
        with self._lock:
            return self.inner._coded_links(kinds, since)

    def _events(
        self,
        accounts: list[str] | None,
        refs: list[str] | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> pd.DataFrame:
        with self._lock:
            return self.inner._events(accounts, refs, since, until)

    def _risk(self, accounts: list[str] | None) -> pd.DataFrame:
        with self._lock:
            return self.inner._risk(accounts)

    def _hubs(self) -> pd.DataFrame:
        with self._lock:
            return self.inner._hubs()

    def _ring_rows(self, ids: list[str]) -> pd.DataFrame:
        with self._lock:
            return self.inner._ring_rows(ids)

    def _members(self, ids: list[str] | None) -> pd.DataFrame:
        with self._lock:
            return self.inner._members(ids)

    def _notes(self, ids: list[str] | None) -> pd.DataFrame:
        with self._lock:
            return self.inner._notes(ids)

    def _audit(
        self, ring_id: str | None, since: datetime | None, until: datetime | None
    ) -> pd.DataFrame:
        with self._lock:
            return self.inner._audit(ring_id, since, until)

    def _runs(self) -> pd.DataFrame:
        with self._lock:
            return self.inner._runs()

    def _appearances(self, ring_id: str) -> pd.DataFrame:
        with self._lock:
            return self.inner._appearances(ring_id)

    def _ring_changes(self, since: datetime | None, changes: list[str]) -> pd.DataFrame:
        with self._lock:
            return self.inner._ring_changes(since, changes)

    def _stats(self) -> StoreStats:
        with self._lock:
            return self.inner._stats()


__all__ = ["CacheState", "CachedStore", "LinkIndex"]
