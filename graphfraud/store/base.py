"""The store contract: one abstract base, small per-engine hooks.

Public methods here are the contract every engine honours; they validate input, batch it and
call the engine's ``_hooks``. Callers never write a query language: they speak in entities,
links and rings.

Merge semantics (the same on every engine, so a load is idempotent):

- an entity is identified by ``(kind, key)``; on conflict ``display`` and ``label`` keep the
  newest non-null value, ``created_at`` the earliest, and ``attributes`` (a JSON object) are
  merged per attribute, the newest non-null value winning;
- a link is identified by ``(src_kind, src_key, kind, dst_kind, dst_key)``; on conflict
  ``first_seen`` takes the earliest, ``last_seen`` the latest, and ``count`` and ``amount`` the
  larger value. Loads are snapshots: loading the same export twice changes nothing, loading a
  grown export updates the figures;
- an event is identified by ``event_id``; on conflict the newest row replaces it whole.

Each store keeps a random fingerprint key of its own (:meth:`GraphStore.fingerprint_key`), the
HMAC key that turns card numbers and payment tokens into keys: without the store, a
fingerprint cannot be traced back to a card.
"""

from __future__ import annotations

import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.errors import ConfigError, InputError, NotFound
from graphfraud.model import (
    ENTITY_COLUMNS,
    EVENT_COLUMNS,
    LINK_COLUMNS,
    EntityKind,
    EntityRef,
    Page,
    Ring,
    RingFilter,
    RingPage,
    RingStatus,
    StoreStats,
    Subgraph,
    empty_frame,
)
from graphfraud.store import sql

#: Called as ``progress(done, total)`` while a write advances.
Progress = Callable[[int, int], None]

LINK_KEY: list[str] = ["src_kind", "src_key", "kind", "dst_kind", "dst_key"]
SORTABLE: frozenset[str] = frozenset({"score", "size", "ring_id"})
MAX_HOPS = 6
#: The name under which a store keeps its fingerprint key.
FINGERPRINT_KEY = "fingerprint_key"
#: Keys that were ever published (the development default of earlier versions): anyone can
#: recompute fingerprints made with them and so recover card numbers, in well under a second.
PUBLIC_FINGERPRINT_KEYS: frozenset[str] = frozenset({"graphfraud-development-key"})
#: A shorter key can be guessed; 32 hex characters are 128 bits.
MIN_FINGERPRINT_KEY_LENGTH = 32
#: An entity as an event refers to it, ``Kind:key``: what :meth:`EntityRef.parse` reads.
_REF = r"^\p{Lu}[^:]*:.+$"


class GraphStore(ABC):
    """A graph of entities, links and rings behind one contract.

    Parameters
    ----------
    url
        The URL the store was opened with (shown in messages).
    batch_size
        Rows per write batch; ``None`` writes each frame in one go (columnar engines).
    """

    def __init__(self, url: str, *, batch_size: int | None) -> None:
        self.url = url
        self.batch_size = batch_size

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Create tables / constraints / indexes, and the store's fingerprint key; safe to call
        any number of times."""
        self._ensure_schema()
        self.fingerprint_key()

    def close(self) -> None:
        """Release the connection."""
        self._close()

    # -- writes ------------------------------------------------------------------------------

    def upsert_entities(
        self, frame: pd.DataFrame | pa.Table, *, progress: Progress | None = None
    ) -> int:
        """Insert or merge entities (columns ``ENTITY_COLUMNS``); returns rows written.

        ``progress(done, total)`` is called after each batch with the rows written so far.
        """
        entities = conform_entities(frame)
        for batch in self._batches(entities, progress):
            self._upsert_entities(batch)
        return entities.num_rows

    def upsert_links(
        self, frame: pd.DataFrame | pa.Table, *, progress: Progress | None = None
    ) -> int:
        """Insert or merge links (columns ``LINK_COLUMNS``); returns rows written.

        Endpoints that are not yet in the store are created with their kind and key only.
        ``progress(done, total)`` is called after each batch with the links written so far.
        """
        links = conform_links(frame)
        for batch in self._batches(_aggregate(sql.LINK_ENDPOINTS, links), None):
            self._insert_missing_entities(batch)
        for batch in self._batches(links, progress):
            self._upsert_links(batch)
        return links.num_rows

    def write_rings(self, rings: list[Ring]) -> int:
        """Replace the set of active rings with ``rings``; returns how many were written.

        A ring whose id was stored before keeps its investigator status and note (unless the
        new ring carries a status of its own). Stored rings missing from ``rings`` are dropped,
        except those an investigator has labelled: they stay, marked inactive.
        """
        ids = [ring.ring_id for ring in rings]
        if len(set(ids)) != len(ids):
            raise InputError("ring ids must be unique within one write")
        self._write_rings(rings)
        return len(rings)

    def set_ring_status(self, ring_id: str, status: RingStatus | str, note: str = "") -> Ring:
        """Record an investigator's verdict on a ring; returns the updated ring."""
        try:
            verdict = RingStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in RingStatus)
            raise InputError(f"status {status!r} is not one of: {allowed}") from None
        self.ring(ring_id)
        self._set_ring_status(ring_id, verdict, note)
        return self.ring(ring_id)

    def upsert_events(
        self, frame: pd.DataFrame | pa.Table, *, progress: Progress | None = None
    ) -> int:
        """Insert or replace events (columns ``EVENT_COLUMNS``); returns rows written.

        Idempotent by ``event_id``: an event already stored is replaced by the incoming row,
        and of several rows with one id in ``frame`` the last one counts.
        """
        events = conform_events(frame)
        for batch in self._batches(events, progress):
            self._upsert_events(batch)
        return events.num_rows

    def write_graph(
        self,
        entities: pa.Table,
        links: pa.Table,
        events: pa.Table | None = None,
        *,
        progress: Progress | None = None,
    ) -> None:
        """Write one load: entities, links and events already aggregated, one row per key.

        What :func:`aggregate_entities`, :func:`aggregate_links` and :func:`conform_events`
        return (with ``ENTITY_SCHEMA``, ``LINK_SCHEMA`` and ``EVENT_SCHEMA``; text columns may
        be large strings or dictionaries of strings), with every endpoint of ``links`` among
        ``entities``: a loader that aggregated its rows once hands them over without a second
        pass. An empty store takes them in one bulk insert; a store with data merges them as
        the upserts do. ``progress(done, total)`` counts rows.
        """
        given = [(entities, ENTITY_SCHEMA, "entities"), (links, LINK_SCHEMA, "links")]
        if events is not None:
            given.append((events, EVENT_SCHEMA, "events"))
        for table, schema, what in given:
            if not _same_layout(table.schema, schema):
                raise InputError(
                    f"{what} do not have the layout write_graph takes: "
                    f"{table.schema.to_string(show_schema_metadata=False)!r} is not "
                    f"{schema.to_string(show_schema_metadata=False)!r}"
                )
        given_events = EVENT_SCHEMA.empty_table() if events is None else events
        self._write_graph(entities, links, given_events, progress)

    def fingerprint_key(self) -> str:
        """The HMAC key this store's payment-instrument fingerprints are made with.

        Random (256 bits) from the moment the store is created, and kept in it: fingerprints
        are comparable within a store, and between stores that share the key (export it from
        one, :meth:`set_fingerprint_key` on the other), but cannot be traced back to a card
        without it.
        """
        return self._put_meta(FINGERPRINT_KEY, secrets.token_hex(32), replace=False)

    def set_fingerprint_key(self, key: str) -> None:
        """Make ``key`` this store's fingerprint key (one exported from another store).

        Raises
        ------
        ConfigError
            The key is too short or public, or the store already holds payment instruments
            fingerprinted with a different key (each card would become two nodes).
        """
        check_fingerprint_key(key)
        if key == self.fingerprint_key():
            return
        held = self.stats().entities.get(EntityKind.PAYMENT_INSTRUMENT, 0)
        if held:
            raise ConfigError(
                f"{self.url} already holds {held:,} payment instruments fingerprinted with its "
                "own key: under another key each would become a second node. Set the key on "
                "a new store, before its first load"
            )
        self._put_meta(FINGERPRINT_KEY, key, replace=True)

    # -- reads -------------------------------------------------------------------------------

    def events(
        self,
        *,
        accounts: list[str] | None = None,
        refs: list[str] | None = None,
        since: Any = None,
        until: Any = None,
    ) -> pd.DataFrame:
        """Events (``EVENT_COLUMNS``) ordered by time then id, filtered by every option given.

        ``accounts``: made by one of these account keys; ``refs``: touching one of these
        ``"Kind:key"`` entities; ``since`` / ``until``: at or after / before these times (events
        without a time never match a time filter).
        """
        for ref in refs or []:
            EntityRef.parse(ref)
        start = None if since is None else _utc_timestamp(since)
        end = None if until is None else _utc_timestamp(until)
        found = self._events(accounts, refs, start, end)
        # Lists on every engine (Arrow hands DuckDB's over as arrays).
        found["refs"] = [list(refs) for refs in found["refs"]]
        return found

    def links(self, *, kinds: list[str] | None = None, since: Any = None) -> pd.DataFrame:
        """All links (``LINK_COLUMNS``), optionally of some kinds and last seen since a time."""
        cutoff = None if since is None else pd.Timestamp(since)
        return self._links(kinds, cutoff)

    def entities(self, *, kind: str | None = None, keys: list[str] | None = None) -> pd.DataFrame:
        """Entities (``ENTITY_COLUMNS``), optionally of one kind and with given keys."""
        return self._entities(kind, keys)

    def entity(self, ref: EntityRef) -> pd.Series:
        """One entity as a row of ``ENTITY_COLUMNS``; raises NotFound."""
        found = self._entities(ref.kind, [ref.key])
        if found.empty:
            raise NotFound(f"no {ref.kind} with key {ref.key!r}")
        return found.iloc[0]

    def neighbourhood(self, ref: EntityRef, *, hops: int = 1, limit: int = 500) -> Subgraph:
        """The entities within ``hops`` links of ``ref`` (at most ``limit`` nodes)."""
        if not 1 <= hops <= MAX_HOPS:
            raise InputError(f"hops must be between 1 and {MAX_HOPS}, got {hops}")
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        self.entity(ref)
        return self._neighbourhood(ref, hops, limit)

    def surroundings(self, refs: list[EntityRef], *, limit: int = 10_000) -> Subgraph:
        """Every link touching one of ``refs``, with the entities at both ends.

        One call for a whole set (a ring's members), where ``neighbourhood`` takes one entity.
        At most ``limit`` nodes: ``refs`` first, then the others in (kind, key) order;
        ``truncated`` says when some were left out. Refs that do not exist add nothing.
        """
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        return self._surroundings(list(dict.fromkeys(refs)), limit)

    def path(self, a: EntityRef, b: EntityRef, *, max_hops: int = 4) -> Subgraph | None:
        """A shortest chain of links from ``a`` to ``b``, or None within ``max_hops``."""
        if not 1 <= max_hops <= MAX_HOPS:
            raise InputError(f"max_hops must be between 1 and {MAX_HOPS}, got {max_hops}")
        self.entity(a)
        self.entity(b)
        if a == b:
            return Subgraph(self._entities(a.kind, [a.key]), empty_frame(LINK_COLUMNS))
        return self._path(a, b, max_hops)

    def accounts_sharing(self, ref: EntityRef) -> pd.DataFrame:
        """Accounts linked to ``ref``: ``account``, ``link``, ``count``, ``first_seen``,
        ``last_seen``, ``created_at``, ``label``; one row per account and link kind."""
        self.entity(ref)
        return self._accounts_sharing(ref)

    def rings(self, flt: RingFilter | None = None, page: Page | None = None) -> RingPage:
        """Active rings matching ``flt``, sorted and paginated by ``page``."""
        page = page or Page()
        if page.sort not in SORTABLE:
            raise InputError(f"cannot sort rings by {page.sort!r}; use one of {sorted(SORTABLE)}")
        if page.offset < 0 or page.limit < 1:
            raise InputError("page offset must be >= 0 and limit >= 1")
        return self._rings(flt or RingFilter(), page)

    def count_rings(self, flt: RingFilter | None = None) -> int:
        """How many active rings match ``flt`` (one cheap query, for health checks)."""
        return self._count_rings(flt or RingFilter())

    def ring(self, ring_id: str) -> Ring:
        """One ring with its members and evidence; raises NotFound."""
        found = self._ring(ring_id)
        if found is None:
            raise NotFound(f"no ring with id {ring_id!r}")
        return found

    def stats(self) -> StoreStats:
        """Counts of entities per kind, links per kind, and active rings."""
        return self._stats()

    # -- helpers -----------------------------------------------------------------------------

    def _batches(self, table: pa.Table, progress: Progress | None) -> Iterator[pa.Table]:
        size = self.batch_size or max(table.num_rows, 1)
        for start in range(0, table.num_rows, size):
            yield table.slice(start, size)
            if progress is not None:
                progress(min(start + size, table.num_rows), table.num_rows)

    # -- engine hooks ------------------------------------------------------------------------

    @abstractmethod
    def _ensure_schema(self) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _upsert_entities(self, batch: pa.Table) -> None: ...

    @abstractmethod
    def _insert_missing_entities(self, batch: pa.Table) -> None: ...

    @abstractmethod
    def _upsert_links(self, batch: pa.Table) -> None: ...

    @abstractmethod
    def _upsert_events(self, batch: pa.Table) -> None: ...

    def _write_graph(
        self, entities: pa.Table, links: pa.Table, events: pa.Table, progress: Progress | None
    ) -> None:
        """Merge a whole load, batch by batch (engines with a faster path override this)."""
        total = entities.num_rows + links.num_rows + events.num_rows
        done = 0
        for table, write in (
            (entities, self._upsert_entities),
            (links, self._upsert_links),
            (events, self._upsert_events),
        ):
            for batch in self._batches(table, None):
                write(batch)
                done += batch.num_rows
                if progress is not None:
                    progress(done, total)

    @abstractmethod
    def _put_meta(self, name: str, value: str, *, replace: bool) -> str:
        """Store ``value`` under ``name`` (if ``replace``, or if nothing is stored yet);
        return what is stored."""

    @abstractmethod
    def _events(
        self,
        accounts: list[str] | None,
        refs: list[str] | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> pd.DataFrame: ...

    @abstractmethod
    def _write_rings(self, rings: list[Ring]) -> None: ...

    @abstractmethod
    def _set_ring_status(self, ring_id: str, status: RingStatus, note: str) -> None: ...

    @abstractmethod
    def _links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> pd.DataFrame: ...

    @abstractmethod
    def _entities(self, kind: str | None, keys: list[str] | None) -> pd.DataFrame: ...

    @abstractmethod
    def _neighbourhood(self, ref: EntityRef, hops: int, limit: int) -> Subgraph: ...

    @abstractmethod
    def _surroundings(self, refs: list[EntityRef], limit: int) -> Subgraph: ...

    @abstractmethod
    def _path(self, a: EntityRef, b: EntityRef, max_hops: int) -> Subgraph | None: ...

    @abstractmethod
    def _accounts_sharing(self, ref: EntityRef) -> pd.DataFrame: ...

    @abstractmethod
    def _rings(self, flt: RingFilter, page: Page) -> RingPage: ...

    @abstractmethod
    def _count_rings(self, flt: RingFilter) -> int: ...

    @abstractmethod
    def _ring(self, ring_id: str) -> Ring | None: ...

    @abstractmethod
    def _stats(self) -> StoreStats: ...


def filter_params(flt: RingFilter) -> dict[str, Any]:
    """A ring filter as the query parameters both engines' statements take."""
    return {
        "min_score": flt.min_score,
        "typology": flt.typology,
        "status": None if flt.status is None else RingStatus(flt.status).value,
        "min_size": flt.min_size,
        "max_size": flt.max_size,
        "account": flt.account,
    }


def cap_subgraph(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    first: list[EntityRef],
    limit: int,
    truncated: bool = False,
) -> Subgraph:
    """A subgraph of at most ``limit`` nodes: those in ``first``, then the rest in (kind, key)
    order; edges whose ends were both kept."""
    wanted = {(ref.kind, ref.key) for ref in first}
    rank = pd.Series(
        [(kind, key) not in wanted for kind, key in zip(nodes["kind"], nodes["key"], strict=True)],
        index=nodes.index,
        dtype=bool,
    )
    nodes = nodes.assign(_later=rank).sort_values(["_later", "kind", "key"], kind="stable")
    nodes = nodes.drop(columns="_later").reset_index(drop=True)
    if len(nodes) > limit:
        nodes, truncated = nodes.head(limit), True
        kept = set(zip(nodes["kind"], nodes["key"], strict=True))
        inside = [
            (sk, sv) in kept and (dk, dv) in kept
            for sk, sv, dk, dv in zip(
                edges["src_kind"], edges["src_key"], edges["dst_kind"], edges["dst_key"],
                strict=True,
            )
        ]  # fmt: skip
        edges = edges[pd.Series(inside, index=edges.index, dtype=bool)]
    return Subgraph(nodes, edges.reset_index(drop=True), truncated=truncated)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(f"{what} frame lacks columns {missing}")


def _utc_naive(values: pd.Series) -> pd.Series:
    """Timestamps as tz-naive UTC at microsecond precision, the form every engine stores."""
    stamps = pd.to_datetime(values, utc=True, errors="raise")
    return stamps.dt.tz_convert(None).astype("datetime64[us]")


def _require_keys(table: pa.Table, columns: list[str], what: str) -> None:
    for name in columns:
        blank = pc.fill_null(pc.equal(table[name], ""), True)
        if pc.any(blank).as_py():
            row = pc.index(blank, True).as_py()
            raise InputError(f"{what} has an empty {name}", row=row, column=name)


def _aggregate(query: str, table: pa.Table) -> pa.Table:
    """Run ``query`` over ``table`` (as ``incoming``) in DuckDB: a parallel hash aggregate
    that keeps strings in Arrow buffers, where pandas would group Python objects."""
    with duckdb.connect() as db:
        db.register("incoming", table)
        return db.sql(query).to_arrow_table()


ENTITY_SCHEMA = pa.schema(
    [("kind", pa.string()), ("key", pa.string()), ("display", pa.string()),
     ("created_at", pa.timestamp("us")), ("label", pa.string()), ("attributes", pa.string())]
)  # fmt: skip
LINK_SCHEMA = pa.schema(
    [(name, pa.string()) for name in LINK_KEY]
    + [("first_seen", pa.timestamp("us")), ("last_seen", pa.timestamp("us")),
       ("count", pa.int64()), ("amount", pa.float64())]
)  # fmt: skip
EVENT_SCHEMA = pa.schema(
    [("event_id", pa.string()), ("source", pa.string()), ("kind", pa.string()),
     ("account", pa.string()), ("time", pa.timestamp("us")), ("amount", pa.float64()),
     ("refs", pa.list_(pa.string()))]
)  # fmt: skip


def conform_entities(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Validate entities; one row per ``(kind, key)``, as an Arrow table.

    Accepts a pandas frame or an Arrow table with ``ENTITY_COLUMNS`` (``display``,
    ``created_at``, ``label`` and ``attributes`` may be left out). Attributes are JSON objects
    (text) or, in a pandas frame, dicts; their values are text, numbers or booleans, and a
    null value says nothing (it never erases a stored one).
    """
    optional = ("display", "created_at", "label", "attributes")
    if isinstance(frame, pa.Table):
        typed = _typed_arrow(frame, ENTITY_SCHEMA, optional, "entities")
        typed = typed.set_column(5, "attributes", _attributes_text(typed["attributes"].to_pylist()))
    else:
        frame = frame.assign(**{name: None for name in optional if name not in frame})
        _require(frame, ENTITY_COLUMNS, "entities")
        typed = pa.table(
            {
                "kind": _text(frame["kind"]),
                "key": _text(frame["key"]),
                "display": _text(frame["display"]),
                "created_at": pa.array(_utc_naive(frame["created_at"]), type=pa.timestamp("us")),
                "label": _text(frame["label"]),
                "attributes": _attributes_text(frame["attributes"].tolist()),
            }
        )
    _require_keys(typed, ["kind", "key"], "entities")
    return aggregate_entities(typed)


def aggregate_entities(table: pa.Table) -> pa.Table:
    """One row per ``(kind, key)`` by the store's merge rules, later rows counting as newer.

    The columns of ``ENTITY_SCHEMA``; the keys may be of any type (a loader aggregates integer
    codes before it spells them out).
    """
    ordered = table.append_column("_order", pa.array(np.arange(table.num_rows)))
    return _aggregate(sql.AGGREGATE_ENTITIES, ordered)


def aggregate_links(table: pa.Table) -> pa.Table:
    """One row per link by the store's merge rules: the columns of ``LINK_SCHEMA``; the keys
    may be of any type (a loader aggregates integer codes before it spells them out)."""
    return _aggregate(sql.AGGREGATE_LINKS, table)


def conform_links(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Validate links; one row per link, duplicates aggregated, as an Arrow table.

    Accepts a pandas frame or an Arrow table with ``LINK_COLUMNS`` (``amount`` may be left out).
    """
    if isinstance(frame, pa.Table):
        typed = _typed_arrow(frame, LINK_SCHEMA, ("amount",), "links")
    else:
        if "amount" not in frame:
            frame = frame.assign(amount=None)
        _require(frame, LINK_COLUMNS, "links")
        typed = pa.table(
            {
                **{name: _text(frame[name]) for name in LINK_KEY},
                "first_seen": pa.array(_utc_naive(frame["first_seen"]), type=pa.timestamp("us")),
                "last_seen": pa.array(_utc_naive(frame["last_seen"]), type=pa.timestamp("us")),
                "count": pa.array(pd.to_numeric(frame["count"]).fillna(1), type=pa.int64()),
                "amount": pa.array(
                    pd.to_numeric(frame["amount"]), type=pa.float64(), from_pandas=True
                ),
            }
        )
    _require_keys(typed, LINK_KEY, "links")
    if pc.any(pc.less(typed["count"], 1)).as_py():
        raise InputError("links must have count >= 1", column="count")
    return aggregate_links(typed)


def conform_events(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Validate events; one row per ``event_id`` (the last one given), as an Arrow table.

    Accepts a pandas frame or an Arrow table with ``EVENT_COLUMNS`` (``source``, ``kind``,
    ``time``, ``amount`` and ``refs`` may be left out). ``refs`` holds lists of ``"Kind:key"``
    strings; a missing list is an empty one.
    """
    optional = ("source", "kind", "time", "amount", "refs")
    if isinstance(frame, pa.Table):
        typed = _typed_arrow(frame, EVENT_SCHEMA, optional, "events")
    else:
        frame = frame.assign(**{name: None for name in optional if name not in frame})
        _require(frame, EVENT_COLUMNS, "events")
        typed = pa.table(
            {
                "event_id": _text(frame["event_id"]),
                "source": _text(frame["source"]),
                "kind": _text(frame["kind"]),
                "account": _text(frame["account"]),
                "time": pa.array(_utc_naive(frame["time"]), type=pa.timestamp("us")),
                "amount": pa.array(
                    pd.to_numeric(frame["amount"]), type=pa.float64(), from_pandas=True
                ),
                "refs": pa.array(
                    [list(refs) if _is_listed(refs) else [] for refs in frame["refs"]],
                    type=pa.list_(pa.string()),
                ),
            }
        )
    no_refs = pa.scalar([], typed["refs"].type)
    typed = typed.set_column(6, "refs", pc.fill_null(typed["refs"], no_refs))
    _require_keys(typed, ["event_id", "account"], "events")
    finite = pc.fill_null(pc.is_finite(typed["amount"]), True)
    if not pc.all(finite).as_py():
        row = pc.index(finite, False).as_py()
        raise InputError("events must have finite amounts", row=row, column="amount")
    refs = typed["refs"].combine_chunks()
    wrong = pc.invert(pc.fill_null(pc.match_substring_regex(refs.values, _REF), False))
    if pc.any(wrong).as_py():
        at = pc.index(wrong, True).as_py()
        row = pc.list_parent_indices(refs)[at].as_py()
        raise InputError(
            f"event ref {refs.values[at].as_py()!r} is not of the form Kind:key",
            row=row,
            column="refs",
        )
    return latest_events(typed)


def latest_events(table: pa.Table) -> pa.Table:
    """One row per ``event_id``, the last one given; the columns of ``EVENT_SCHEMA``."""
    ordered = table.append_column("_order", pa.array(np.arange(table.num_rows)))
    return _aggregate(sql.LAST_EVENT_PER_ID, ordered)


def check_fingerprint_key(key: str) -> None:
    """Raise ConfigError unless ``key`` can serve as a store's fingerprint key."""
    if key in PUBLIC_FINGERPRINT_KEYS:
        raise ConfigError(
            "the shared development key is public: anyone could recover card numbers from "
            "fingerprints made with it. Use the key the store made, or one exported from "
            "another store (graphfraud fingerprint-key export)"
        )
    if len(key) < MIN_FINGERPRINT_KEY_LENGTH or key != key.strip():
        raise ConfigError(
            f"a fingerprint key needs at least {MIN_FINGERPRINT_KEY_LENGTH} characters, without "
            "surrounding whitespace (a store makes 64 random hex characters)"
        )


def _typed_arrow(
    table: pa.Table, schema: pa.Schema, optional: tuple[str, ...], what: str
) -> pa.Table:
    missing = [name for name in schema.names if name not in table.column_names]
    if [name for name in missing if name not in optional]:
        raise InputError(f"{what} table lacks columns {missing}")
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows, schema.field(name).type))
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"{what} table has columns of the wrong type: {exc}") from None


def _attributes_text(values: list[Any]) -> pa.Array:
    """Attribute objects (dicts or JSON text) as compact JSON text without null values."""
    texts: list[str | None] = []
    for row, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            texts.append(None)
            continue
        try:
            found = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError as exc:
            raise InputError(
                f"attributes are not JSON: {exc}", row=row, column="attributes"
            ) from None
        if not isinstance(found, dict):
            raise InputError("attributes must be a JSON object", row=row, column="attributes")
        kept = {}
        for name, item in found.items():
            if item is None:
                continue
            if not _scalar(item):
                raise InputError(
                    f"attribute {name!r} must be text, a finite number or a boolean",
                    row=row,
                    column="attributes",
                )
            kept[str(name)] = item
        texts.append(json.dumps(kept, ensure_ascii=False, separators=(",", ":")) if kept else None)
    return pa.array(texts, type=pa.string())


def _same_layout(given: pa.Schema, wanted: pa.Schema) -> bool:
    """Whether ``given`` has the columns of ``wanted`` in order and of its types, text also
    as large strings or a dictionary of strings (a loader's kinds, a few names repeated)."""
    if given.names != wanted.names:
        return False
    for have, want in zip(given.types, wanted.types, strict=True):
        if pa.types.is_dictionary(have):
            have = have.value_type
        text = pa.types.is_string(want) and pa.types.is_large_string(have)
        if have != want and not text:
            return False
    return True


def _scalar(value: Any) -> bool:
    """Text, a boolean or a finite number: what both engines keep as an attribute value."""
    if isinstance(value, float):
        return bool(np.isfinite(value))
    return isinstance(value, str | int | bool)


def _is_listed(refs: Any) -> bool:
    return isinstance(refs, list | tuple | np.ndarray)


def _utc_timestamp(value: Any) -> pd.Timestamp:
    """A point in time as tz-naive UTC, the form every engine compares with."""
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _text(values: pd.Series) -> pa.Array:
    """A column as Arrow strings, nulls kept; zero-copy for Arrow-backed pandas strings."""
    return pa.array(values, type=pa.string(), from_pandas=True)
