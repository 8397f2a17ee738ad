"""The embedded engine: the whole graph in one DuckDB file, no server.

Writes are columnar (a frame is registered and merged with two joins); graph walks
(neighbourhood, path) expand one level per query from a registered frontier.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from graphfraud.errors import StoreError, StoreUnavailable
from graphfraud.model import (
    LINK_COLUMNS,
    EntityRef,
    Page,
    Ring,
    RingFilter,
    RingMember,
    RingPage,
    RingStatus,
    StoreStats,
    Subgraph,
)
from graphfraud.store import sql
from graphfraud.store.base import GraphStore, Progress, cap_subgraph, filter_params

RING_COLUMNS = (
    "ring_id",
    "score",
    "typology",
    "size",
    "status",
    "note",
    "evidence",
    "detected_at",
    "active",
)
MEMBER_COLUMNS = ("ring_id", "account", "role", "pagerank", "degree")
#: Batches at least this big are merged without index maintenance (see sql.CREATE_KEY_INDEXES).
BULK_ROWS = 100_000
ORDER = {"score": "r.score", "size": "r.size", "ring_id": "r.ring_id"}


class DuckDBStore(GraphStore):
    """A graph store in a DuckDB database file (or ``:memory:``).

    Parameters
    ----------
    path
        Database file; created with its folder if missing. ``":memory:"`` keeps it in memory.
    """

    def __init__(self, path: str, *, url: str | None = None) -> None:
        super().__init__(url or f"duckdb:///{path}", batch_size=None)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = duckdb.connect(path)
        except duckdb.Error as exc:
            raise StoreUnavailable(f"cannot open DuckDB store {path!r}: {exc}") from exc
        self._indexes_stale = False
        self.ensure_schema()

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._db.begin()
        try:
            yield self._db
        except duckdb.Error as exc:
            self._db.rollback()
            raise StoreError(f"DuckDB write failed, nothing was changed: {exc}") from exc
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    def _indexed(self) -> duckdb.DuckDBPyConnection:
        """The connection, with the key indexes a bulk merge dropped built again."""
        if self._indexes_stale:
            self._db.execute(sql.CREATE_KEY_INDEXES)
            self._indexes_stale = False
        return self._db

    def _frame(self, query: str, **params: Any) -> pd.DataFrame:
        # Through Arrow: at 11M links, .df() peaked at 2.5x the memory and took 2.4x as long.
        return self._indexed().sql(query, params=params or None).to_arrow_table().to_pandas()

    def _scalar(self, query: str, **params: Any) -> Any:
        # fetchall, not fetchone: a half-read result blocks the connection's next query.
        rows = self._indexed().execute(query, params or None).fetchall()
        return rows[0][0] if rows else None

    # -- hooks -------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        self._db.execute(sql.SCHEMA)
        self._db.execute(sql.CREATE_KEY_INDEXES)

    def _close(self) -> None:
        self._indexed().close()

    def _upsert_entities(self, batch: pa.Table) -> None:
        self._merge(batch, sql.UPDATE_ENTITIES, sql.INSERT_NEW_ENTITIES)

    def _insert_missing_entities(self, batch: pa.Table) -> None:
        self._merge(batch, sql.INSERT_NEW_ENTITIES)

    def _upsert_links(self, batch: pa.Table) -> None:
        self._merge(batch, sql.UPDATE_LINKS, sql.INSERT_NEW_LINKS)

    def _upsert_events(self, batch: pa.Table) -> None:
        self._merge(batch, sql.DROP_REPLACED_EVENTS, sql.INSERT_EVENTS)

    def _write_graph(
        self, entities: pa.Table, links: pa.Table, events: pa.Table, progress: Progress | None
    ) -> None:
        """The whole load in one transaction: all of it is written or none. Into an empty
        store, plain inserts (no join against what is there); else the merges of the upserts,
        without the upserts' pass that creates missing link endpoints."""
        steps = [
            (entities, [sql.UPDATE_ENTITIES, sql.INSERT_NEW_ENTITIES], [sql.INSERT_ENTITIES]),
            (links, [sql.UPDATE_LINKS, sql.INSERT_NEW_LINKS], [sql.INSERT_LINKS]),
            (events, [sql.DROP_REPLACED_EVENTS, sql.INSERT_EVENTS], [sql.INSERT_EVENTS]),
        ]
        total = sum(table.num_rows for table, _, _ in steps)
        done = 0
        # The key indexes go before the transaction, not in it: dropped inside, they made its
        # commit rewrite what it had written (6.3 s against 4.0 s for writing and indexing
        # 100k accounts). They are built again before the next read, whatever happens here.
        self._db.execute(sql.DROP_KEY_INDEXES)
        self._indexes_stale = True
        with self._transaction() as db:
            empty = bool(db.execute(sql.IS_EMPTY).fetchall()[0][0])
            for table, merge, insert in steps:
                db.register("incoming", table)
                for statement in insert if empty else merge:
                    db.execute(statement)
                db.unregister("incoming")
                done += table.num_rows
                if progress is not None:
                    progress(done, total)

    def _put_meta(self, name: str, value: str, *, replace: bool) -> str:
        with self._transaction() as db:
            db.execute(
                sql.REPLACE_META if replace else sql.ADD_META, {"name": name, "value": value}
            )
        return str(self._scalar(sql.SELECT_META, name=name))

    def _merge(self, batch: pa.Table, *statements: str) -> None:
        """Run merge statements over ``batch`` in one transaction.

        A big batch drops the key indexes first; they are built again, outside any
        transaction, before the next read or at close (see ``sql.CREATE_KEY_INDEXES``).
        """
        bulk = batch.num_rows >= BULK_ROWS
        with self._transaction() as db:
            db.register("incoming", batch)
            if bulk:
                db.execute(sql.DROP_KEY_INDEXES)
            for statement in statements:
                db.execute(statement)
            db.unregister("incoming")
        self._indexes_stale = self._indexes_stale or bulk

    def _write_rings(self, rings: list[Ring]) -> None:
        incoming = pd.DataFrame(
            [
                (
                    r.ring_id,
                    float(r.score),
                    r.typology,
                    r.size,
                    RingStatus(r.status).value,
                    r.note,
                    json.dumps(r.evidence, default=str),
                    r.detected_at,
                    True,
                )
                for r in rings
            ],
            columns=list(RING_COLUMNS),
        )
        members = pd.DataFrame(
            [
                (r.ring_id, m.account, m.role, float(m.pagerank), int(m.degree))
                for r in rings
                for m in r.members
            ],
            columns=list(MEMBER_COLUMNS),
        )
        with self._transaction() as db:
            # A temp table, not a registered frame: CARRY_STATUS updates it in place.
            db.register("incoming_frame", incoming)
            db.execute("CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming_frame")
            db.unregister("incoming_frame")
            db.execute(sql.CARRY_STATUS)
            db.execute(sql.KEEP_LABELLED_RINGS)
            db.execute(sql.DROP_UNLABELLED_RINGS)
            db.execute(sql.DROP_REPLACED_RINGS)
            db.execute(sql.INSERT_RINGS)
            db.execute(sql.DROP_REPLACED_MEMBERS)
            db.register("incoming_members", members)
            db.execute(sql.INSERT_MEMBERS)
            db.unregister("incoming_members")
            db.execute("DROP TABLE incoming")

    def _set_ring_status(self, ring_id: str, status: RingStatus, note: str) -> None:
        with self._transaction() as db:
            db.execute(
                sql.SET_RING_STATUS, {"ring_id": ring_id, "status": status.value, "note": note}
            )

    def _links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> pd.DataFrame:
        cutoff = None if since is None else _naive(since)
        return self._frame(sql.SELECT_LINKS, kinds=kinds, since=cutoff)

    def _events(
        self,
        accounts: list[str] | None,
        refs: list[str] | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> pd.DataFrame:
        return self._frame(
            sql.SELECT_EVENTS, accounts=accounts, refs=refs, since=since, until=until
        )

    def _entities(self, kind: str | None, keys: list[str] | None) -> pd.DataFrame:
        if keys is None:
            return self._frame(sql.SELECT_ENTITIES, kind=kind)
        found = self._frame(sql.SELECT_ENTITIES_BY_KEY, keys=keys)
        return found if kind is None else found[found["kind"] == kind].reset_index(drop=True)

    def _touching(self, frontier: pd.DataFrame) -> pd.DataFrame:
        found = self._frame(sql.LINKS_BY_KEY, keys=frontier["key"].unique().tolist())
        wanted = set(zip(frontier["kind"], frontier["key"], strict=True))
        return found[_touches(found, wanted)].reset_index(drop=True)

    def _nodes(self, refs: pd.DataFrame) -> pd.DataFrame:
        found = self._entities(None, refs["key"].unique().tolist())
        found = found.merge(refs[["kind", "key"]].drop_duplicates(), on=["kind", "key"])
        return found.sort_values(["kind", "key"], ignore_index=True)

    def _neighbourhood(self, ref: EntityRef, hops: int, limit: int) -> Subgraph:
        seen: dict[tuple[str, str], None] = {(ref.kind, ref.key): None}
        frontier = [(ref.kind, ref.key)]
        truncated = False
        for _ in range(hops):
            edges = self._touching(_refs(frontier))
            reached = sorted(set(_ends(edges)) - seen.keys())
            room = limit - len(seen)
            if len(reached) > room:
                reached, truncated = reached[:room], True
            seen.update(dict.fromkeys(reached))
            frontier = reached
            if truncated or not frontier:
                break
        nodes = self._nodes(_refs(list(seen)))
        edges = self._frame(sql.LINKS_FROM_KEY, keys=sorted({key for _, key in seen}))
        inside = _within(edges, set(seen))
        return Subgraph(nodes, edges[inside].reset_index(drop=True), truncated=truncated)

    def _surroundings(self, refs: list[EntityRef], limit: int) -> Subgraph:
        edges = self._touching(_refs([(ref.kind, ref.key) for ref in refs]))
        ends = list(dict.fromkeys([(ref.kind, ref.key) for ref in refs] + _ends(edges)))
        return cap_subgraph(self._nodes(_refs(ends)), edges, first=refs, limit=limit)

    def _path(self, a: EntityRef, b: EntityRef, max_hops: int) -> Subgraph | None:
        # Bidirectional breadth-first search: expand the smaller side one level at a time.
        parents: list[dict[tuple[str, str], tuple[tuple[str, str], dict[Hashable, Any]] | None]] = [
            {(a.kind, a.key): None},
            {(b.kind, b.key): None},
        ]
        frontiers = [[(a.kind, a.key)], [(b.kind, b.key)]]
        for _ in range(max_hops):
            side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
            edges = self._touching(_refs(frontiers[side]))
            level: list[tuple[str, str]] = []
            for edge in edges.to_dict("records"):
                src, dst = (edge["src_kind"], edge["src_key"]), (edge["dst_kind"], edge["dst_key"])
                for here, there in ((src, dst), (dst, src)):
                    if here in parents[side] and there not in parents[side]:
                        parents[side][there] = (here, edge)
                        level.append(there)
            meeting = sorted(set(level) & parents[1 - side].keys())
            if meeting:
                return self._trace(parents, meeting[0])
            if not level:
                return None
            frontiers[side] = level
        return None

    def _trace(
        self,
        parents: list[dict[tuple[str, str], tuple[tuple[str, str], dict[Hashable, Any]] | None]],
        middle: tuple[str, str],
    ) -> Subgraph:
        """The path through ``middle``, nodes and edges in order from ``a`` to ``b``."""
        halves: list[tuple[list[tuple[str, str]], list[dict[Hashable, Any]]]] = []
        for side in parents:
            chain: list[tuple[str, str]] = []
            links: list[dict[Hashable, Any]] = []
            step = side[middle]
            while step is not None:
                previous, edge = step
                chain.append(previous)
                links.append(edge)
                step = side[previous]
            halves.append((chain, links))
        order = [*reversed(halves[0][0]), middle, *halves[1][0]]
        edge_frame = pd.DataFrame(
            [*reversed(halves[0][1]), *halves[1][1]], columns=list(LINK_COLUMNS)
        )
        nodes = self._nodes(_refs(order)).set_index(["kind", "key"]).loc[order].reset_index()
        return Subgraph(nodes, edge_frame.reset_index(drop=True))

    def _accounts_sharing(self, ref: EntityRef) -> pd.DataFrame:
        links = self._touching(_refs([(ref.kind, ref.key)]))
        to_it = (links["dst_kind"] == ref.kind) & (links["dst_key"] == ref.key)
        other_kind = links["src_kind"].where(to_it, links["dst_kind"])
        sharing = pd.DataFrame(
            {
                "account": links["src_key"].where(to_it, links["dst_key"]),
                "link": links["kind"],
                "count": links["count"],
                "first_seen": links["first_seen"],
                "last_seen": links["last_seen"],
            }
        )[(other_kind == "Account").to_numpy()]
        facts = self._entities("Account", sharing["account"].unique().tolist())
        facts = facts[["key", "created_at", "label"]].rename(columns={"key": "account"})
        sharing = sharing.merge(facts, on="account", how="left")
        return sharing.sort_values(["account", "link"], ignore_index=True)

    def _rings(self, flt: RingFilter, page: Page) -> RingPage:
        params = filter_params(flt)
        direction = "DESC" if page.descending else "ASC"
        order = f"{ORDER[page.sort]} {direction}, r.ring_id"
        rows = self._frame(
            sql.PAGE_RINGS.format(order=order), limit=page.limit, offset=page.offset, **params
        )
        return RingPage(self._assemble(rows), self._count_rings(flt))

    def _count_rings(self, flt: RingFilter) -> int:
        return int(self._scalar(sql.COUNT_RINGS, **filter_params(flt)))

    def _ring(self, ring_id: str) -> Ring | None:
        rings = self._assemble(self._frame(sql.SELECT_RING, ring_id=ring_id))
        return rings[0] if rings else None

    def _assemble(self, rows: pd.DataFrame) -> list[Ring]:
        if rows.empty:
            return []
        members = self._frame(sql.SELECT_MEMBERS, ring_ids=rows["ring_id"].tolist())
        by_ring: dict[str, list[RingMember]] = {}
        for m in members.to_dict("records"):
            by_ring.setdefault(m["ring_id"], []).append(
                RingMember(m["account"], m["role"], float(m["pagerank"]), int(m["degree"]))
            )
        return [
            Ring(
                ring_id=str(r["ring_id"]),
                score=float(r["score"]),
                typology=str(r["typology"]),
                members=by_ring.get(str(r["ring_id"]), []),
                evidence=json.loads(str(r["evidence"])),
                status=RingStatus(str(r["status"])),
                note=str(r["note"]),
                detected_at=str(r["detected_at"]),
            )
            for r in rows.to_dict("records")
        ]

    def _stats(self) -> StoreStats:
        entities = dict(self._db.execute(sql.ENTITY_COUNTS).fetchall())
        links = dict(self._db.execute(sql.LINK_COUNTS).fetchall())
        return StoreStats(entities, links, int(self._scalar(sql.ACTIVE_RING_COUNT)))


def _naive(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _refs(nodes: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(nodes, columns=["kind", "key"], dtype="object")


def _ends(edges: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(edges["src_kind"], edges["src_key"], strict=True)) + list(
        zip(edges["dst_kind"], edges["dst_key"], strict=True)
    )


def _touches(edges: pd.DataFrame, nodes: set[tuple[str, str]]) -> pd.Series:
    """Edges with at least one end in ``nodes``."""
    src = [(k, v) in nodes for k, v in zip(edges["src_kind"], edges["src_key"], strict=True)]
    dst = [(k, v) in nodes for k, v in zip(edges["dst_kind"], edges["dst_key"], strict=True)]
    return pd.Series(src, index=edges.index, dtype=bool) | pd.Series(dst, index=edges.index)


def _within(edges: pd.DataFrame, nodes: set[tuple[str, str]]) -> pd.Series:
    src = [(k, v) in nodes for k, v in zip(edges["src_kind"], edges["src_key"], strict=True)]
    dst = [(k, v) in nodes for k, v in zip(edges["dst_kind"], edges["dst_key"], strict=True)]
    return pd.Series(src, index=edges.index, dtype=bool) & pd.Series(dst, index=edges.index)
