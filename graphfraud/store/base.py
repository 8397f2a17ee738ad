"""The store contract: one abstract base, small per-engine hooks.

Public methods here are the contract every engine honours; they validate input, batch it and
call the engine's ``_hooks``. Callers never write a query language: they speak in entities,
links and rings.

Merge semantics (the same on every engine, so a load is idempotent):

- an entity is identified by ``(kind, key)``; on conflict ``display`` and ``label`` keep the
  newest non-null value and ``created_at`` the earliest;
- a link is identified by ``(src_kind, src_key, kind, dst_kind, dst_key)``; on conflict
  ``first_seen`` takes the earliest, ``last_seen`` the latest, and ``count`` and ``amount`` the
  larger value. Loads are snapshots: loading the same export twice changes nothing, loading a
  grown export updates the figures.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.errors import InputError, NotFound
from graphfraud.model import (
    ENTITY_COLUMNS,
    LINK_COLUMNS,
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
        """Create tables / constraints / indexes; safe to call any number of times."""
        self._ensure_schema()

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

    # -- reads -------------------------------------------------------------------------------

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
     ("created_at", pa.timestamp("us")), ("label", pa.string())]
)  # fmt: skip
LINK_SCHEMA = pa.schema(
    [(name, pa.string()) for name in LINK_KEY]
    + [("first_seen", pa.timestamp("us")), ("last_seen", pa.timestamp("us")),
       ("count", pa.int64()), ("amount", pa.float64())]
)  # fmt: skip


def conform_entities(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Validate entities; one row per ``(kind, key)``, as an Arrow table.

    Accepts a pandas frame or an Arrow table with ``ENTITY_COLUMNS`` (``display``,
    ``created_at`` and ``label`` may be left out).
    """
    optional = ("display", "created_at", "label")
    if isinstance(frame, pa.Table):
        typed = _typed_arrow(frame, ENTITY_SCHEMA, optional, "entities")
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
            }
        )
    _require_keys(typed, ["kind", "key"], "entities")
    return _aggregate(sql.AGGREGATE_ENTITIES, typed)


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
    return _aggregate(sql.AGGREGATE_LINKS, typed)


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


def _text(values: pd.Series) -> pa.Array:
    """A column as Arrow strings, nulls kept; zero-copy for Arrow-backed pandas strings."""
    return pa.array(values, type=pa.string(), from_pandas=True)
