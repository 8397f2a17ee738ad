"""The Neo4j engine: the store contract on a Neo4j 5 server over Bolt.

What investigators browse. Writes go in ``UNWIND $rows`` batches that ``MERGE`` on uniquely
constrained keys, one transaction per batch and per (label, type, label) group, so a load that
dies half-way leaves whole batches behind and a re-run completes it without duplicates. Reads
come back as frames with the columns of the DuckDB engine. The Cypher lives in
:mod:`graphfraud.store.cypher`.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import neo4j
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from graphfraud.errors import InputError, StoreError, StoreUnavailable
from graphfraud.model import (
    ENTITY_COLUMNS,
    EVENT_COLUMNS,
    LINK_COLUMNS,
    EntityKind,
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
from graphfraud.settings import Settings, get_settings
from graphfraud.store import cypher
from graphfraud.store.base import GraphStore, cap_subgraph, filter_params

#: Labels and relationship types become part of the Cypher text, so they must be plain names.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: How long the driver retries a transaction the server could not run (then the error surfaces).
RETRY_SECONDS = 5.0
START_HINT = "start one with `graphfraud neo4j start`, or point GRAPHFRAUD_STORE_URL at yours"

# The driver logs each failed routing attempt; our errors already say what went wrong, so keep
# Python's last-resort handler from printing those lines (an application's own logging config
# still receives them).
logging.getLogger("neo4j").addHandler(logging.NullHandler())


class Neo4jStore(GraphStore):
    """A graph store on a Neo4j 5 server.

    Parameters
    ----------
    url
        Bolt URL, ``neo4j://host:7687`` or ``bolt://host:7687`` (``+s`` / ``+ssc`` for TLS).
    settings
        Credentials (``neo4j_user``, ``neo4j_password``), ``neo4j_database`` and
        ``neo4j_batch_size``; default :func:`graphfraud.settings.get_settings`.
    batch_size
        Rows per write transaction, overriding the setting.

    Raises
    ------
    StoreUnavailable
        The server cannot be reached or refuses the credentials.
    """

    def __init__(
        self, url: str, *, settings: Settings | None = None, batch_size: int | None = None
    ) -> None:
        settings = settings or get_settings()
        super().__init__(url, batch_size=batch_size or settings.neo4j_batch_size)
        self._database = settings.neo4j_database
        self._user = settings.neo4j_user
        try:
            self._driver = neo4j.GraphDatabase.driver(
                url,
                auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
                max_transaction_retry_time=RETRY_SECONDS,
                connection_timeout=10.0,
                # Warnings such as "property `active` does not exist yet" on an empty database
                # are expected here; the driver would log every one.
                notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
            )
        except (ValueError, DriverError) as exc:
            raise StoreUnavailable(f"cannot use Neo4j URL {url!r}: {exc}") from exc
        self._constrained: set[str] = set()
        with self._errors("connecting"):
            self._driver.verify_connectivity()
        self.ensure_schema()

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn driver errors into the product's, naming the server and what was being done."""
        try:
            yield
        except AuthError as exc:
            raise StoreUnavailable(
                f"Neo4j at {self.url} refused user {self._user!r}: wrong user or password "
                "(set GRAPHFRAUD_NEO4J_USER / GRAPHFRAUD_NEO4J_PASSWORD)"
            ) from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            if action == "connecting":
                raise StoreUnavailable(
                    f"cannot reach Neo4j at {self.url}: is the server running? {START_HINT}"
                ) from exc
            raise StoreUnavailable(
                f"lost the connection to Neo4j at {self.url} while {action}: {exc}. Batches "
                "written before are kept; writes are idempotent, so once the server is back, "
                "run the same command again to finish"
            ) from exc
        except Neo4jError as exc:
            raise StoreError(
                f"Neo4j at {self.url} failed while {action}: {exc.message or exc}"
            ) from exc
        except DriverError as exc:
            raise StoreError(f"Neo4j driver error at {self.url} while {action}: {exc}") from exc

    def _run(self, query: str, action: str, **params: Any) -> list[list[Any]]:
        """Run one statement in its own transaction; returns the rows."""
        with self._errors(action):
            rows: list[list[Any]] = self._driver.execute_query(
                query,
                parameters_=params,
                database_=self._database,
                result_transformer_=neo4j.Result.values,
            )
        return rows

    def _frame(
        self, query: str, columns: tuple[str, ...], action: str, **params: Any
    ) -> pd.DataFrame:
        """A frame from a statement that returns every row in one ``rows`` list."""
        ((rows,),) = self._run(query, action, **params)
        return _typed(pd.DataFrame(rows, columns=list(columns)))

    def _label(self, kind: str) -> str:
        """``kind`` as a quoted label, with its key constraint created the first time."""
        quoted = _quote(kind, "entity kind")
        if kind not in self._constrained:
            self._run(
                cypher.KEY_CONSTRAINT.format(name=f"{kind.lower()}_key", label=quoted),
                f"creating the key constraint of {kind}",
            )
            self._constrained.add(kind)
        return quoted

    def _id_of(self, ref: EntityRef) -> str:
        rows = self._run(
            cypher.ELEMENT_ID.format(label=_quote(ref.kind, "entity kind")),
            "finding an entity",
            key=ref.key,
        )
        return str(rows[0][0])

    # -- hooks: lifecycle and writes ---------------------------------------------------------

    def _ensure_schema(self) -> None:
        self._run(cypher.RING_CONSTRAINT, "creating the ring constraint")
        self._run(cypher.EVENT_CONSTRAINT, "creating the event constraint")
        self._run(cypher.EVENT_ACCOUNT_INDEX, "creating the event index")
        self._run(cypher.META_CONSTRAINT, "creating the settings constraint")
        self._constrained.clear()
        for kind in EntityKind:
            self._label(kind.value)

    def _close(self) -> None:
        self._driver.close()

    def _upsert_entities(self, batch: pa.Table) -> None:
        for (kind,), group in _groups(batch, ["kind"]):
            rows = _records(group.select(["key", "display", "created_at", "label", "attributes"]))
            for row in rows:
                row["attributes"] = _properties(row["attributes"])
            query = cypher.UPSERT_ENTITIES.format(label=self._label(kind))
            self._run(query, f"writing {len(rows):,} {kind} entities", rows=rows)

    def _insert_missing_entities(self, batch: pa.Table) -> None:
        """Nothing to do: UPSERT_LINKS merges both endpoints of every link it writes."""

    def _upsert_links(self, batch: pa.Table) -> None:
        columns = ["src_key", "dst_key", "first_seen", "last_seen", "count", "amount"]
        for (src, kind, dst), group in _groups(batch, ["src_kind", "kind", "dst_kind"]):
            query = cypher.UPSERT_LINKS.format(
                src=self._label(src), dst=self._label(dst), kind=_quote(kind, "link kind")
            )
            rows = _records(group.select(columns))
            self._run(query, f"writing {len(rows):,} {kind} links", rows=rows)

    def _upsert_events(self, batch: pa.Table) -> None:
        rows = _records(batch)
        self._run(cypher.UPSERT_EVENTS, f"writing {len(rows):,} events", rows=rows)

    def _put_meta(self, name: str, value: str, *, replace: bool) -> str:
        query = cypher.REPLACE_META if replace else cypher.ADD_META
        return str(self._run(query, f"keeping the {name}", name=name, value=value)[0][0])

    def _write_rings(self, rings: list[Ring]) -> None:
        ids = [r.ring_id for r in rings]
        rows = [
            {
                "ring_id": r.ring_id, "score": float(r.score), "typology": r.typology,
                "size": r.size, "status": RingStatus(r.status).value, "note": r.note,
                "evidence": json.dumps(r.evidence, default=str), "detected_at": r.detected_at,
            }
            for r in rings
        ]  # fmt: skip
        members = [
            {
                "ring_id": r.ring_id, "account": m.account, "role": m.role,
                "pagerank": float(m.pagerank), "degree": int(m.degree),
            }
            for r in rings
            for m in r.members
        ]  # fmt: skip

        def replace(tx: neo4j.ManagedTransaction) -> None:
            tx.run(cypher.RETIRE_RINGS, ids=ids).consume()
            tx.run(cypher.DROP_RINGS, ids=ids).consume()
            tx.run(cypher.DROP_MEMBERS, ids=ids).consume()
            tx.run(cypher.UPSERT_RINGS, rings=rows).consume()
            tx.run(cypher.ADD_MEMBERS, members=members).consume()

        with (
            self._errors(f"writing {len(rings):,} rings"),
            self._driver.session(database=self._database) as session,
        ):
            session.execute_write(replace)

    def _set_ring_status(self, ring_id: str, status: RingStatus, note: str) -> None:
        self._run(
            cypher.SET_RING_STATUS, "recording a ring status",
            ring_id=ring_id, status=status.value, note=note,
        )  # fmt: skip

    # -- hooks: reads ------------------------------------------------------------------------

    def _links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> pd.DataFrame:
        cutoff = None if since is None else _utc(since)
        wanted = self._link_kinds() if kinds is None else kinds
        return _concat([self._links_of(kind, cutoff) for kind in wanted], LINK_COLUMNS)

    def _links_of(self, kind: str, cutoff: pd.Timestamp | None) -> pd.DataFrame:
        query = cypher.LINKS_OF_KIND.format(kind=_quote(kind, "link kind"))
        return self._frame(query, LINK_COLUMNS, f"reading {kind} links", since=cutoff)

    def _events(
        self,
        accounts: list[str] | None,
        refs: list[str] | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> pd.DataFrame:
        return self._frame(
            cypher.EVENTS, EVENT_COLUMNS, "reading events", accounts=accounts, refs=refs,
            since=None if since is None else _utc(since),
            until=None if until is None else _utc(until),
        )  # fmt: skip

    def _entities(self, kind: str | None, keys: list[str] | None) -> pd.DataFrame:
        if kind is None and keys is None:
            frames = [self._entities_of(label) for label in self._entity_kinds()]
            return _concat(frames, ENTITY_COLUMNS)
        if kind is None:
            query = cypher.ENTITIES_WITH_KEYS
        elif keys is None:
            return self._entities_of(kind)
        else:
            query = cypher.ENTITIES_BY_KEYS.format(label=_quote(kind, "entity kind"))
        return self._frame(query, ENTITY_COLUMNS, "reading entities", keys=keys)

    def _entities_of(self, kind: str) -> pd.DataFrame:
        query = cypher.ENTITIES_OF_KIND.format(label=_quote(kind, "entity kind"))
        return self._frame(query, ENTITY_COLUMNS, f"reading {kind} entities")

    def _entity_kinds(self) -> list[str]:
        labels = self._run(cypher.LABELS, "listing entity kinds")
        return [label for (label,) in labels if label not in _RESERVED]

    def _link_kinds(self) -> list[str]:
        types = self._run(cypher.RELATIONSHIP_TYPES, "listing link kinds")
        return [kind for (kind,) in types if kind != cypher.MEMBER]

    def _neighbourhood(self, ref: EntityRef, hops: int, limit: int) -> Subgraph:
        # Level by level, as the DuckDB engine does: the nodes reached at each level are taken
        # in (kind, key) order until ``limit``, so both engines truncate alike.
        start = self._id_of(ref)
        seen = {start}
        frontier = [start]
        truncated = False
        for _ in range(hops):
            room = limit - len(seen)
            rows = self._run(
                cypher.NEIGHBOURS, "expanding a neighbourhood",
                ids=frontier, limit=room + len(seen) + 1,
            )  # fmt: skip
            reached = [row[0] for row in rows if row[0] not in seen]
            if len(reached) > room:
                reached, truncated = reached[:room], True
            seen.update(reached)
            frontier = reached
            if truncated or not frontier:
                break
        ids = sorted(seen)
        nodes = self._frame(cypher.NODES_BY_IDS, ENTITY_COLUMNS, "reading a neighbourhood", ids=ids)
        edges = self._frame(cypher.LINKS_WITHIN, LINK_COLUMNS, "reading a neighbourhood", ids=ids)
        return Subgraph(nodes, edges, truncated=truncated)

    def _surroundings(self, refs: list[EntityRef], limit: int) -> Subgraph:
        # One indexed lookup per kind of entity (a ring's members are all accounts).
        ends = [(ref.kind, ref.key) for ref in refs]
        touching = []
        for kind, keys in _by_kind(ends).items():
            query = cypher.LINKS_TOUCHING.format(label=_quote(kind, "entity kind"))
            touching.append(self._frame(query, LINK_COLUMNS, "reading links around", keys=keys))
        edges = _concat(touching, LINK_COLUMNS)
        ends += zip(edges["src_kind"], edges["src_key"], strict=True)
        ends += zip(edges["dst_kind"], edges["dst_key"], strict=True)
        nodes = [self._entities(kind, keys) for kind, keys in _by_kind(ends).items()]
        return cap_subgraph(_concat(nodes, ENTITY_COLUMNS), edges, first=refs, limit=limit)

    def _path(self, a: EntityRef, b: EntityRef, max_hops: int) -> Subgraph | None:
        query = cypher.SHORTEST_PATH.format(
            src=_quote(a.kind, "entity kind"), dst=_quote(b.kind, "entity kind"), hops=int(max_hops)
        )
        rows = self._run(query, "finding a path", src_key=a.key, dst_key=b.key)
        if not rows:
            return None
        nodes, links = rows[0]
        return Subgraph(
            _typed(pd.DataFrame(nodes, columns=list(ENTITY_COLUMNS))),
            _typed(pd.DataFrame(links, columns=list(LINK_COLUMNS))),
        )

    def _accounts_sharing(self, ref: EntityRef) -> pd.DataFrame:
        columns = ("account", "link", "count", "first_seen", "last_seen", "created_at", "label")
        query = cypher.ACCOUNTS_SHARING.format(label=_quote(ref.kind, "entity kind"))
        return self._frame(query, columns, "finding accounts sharing an identifier", key=ref.key)

    def _rings(self, flt: RingFilter, page: Page) -> RingPage:
        params = filter_params(flt)
        query = cypher.PAGE_RINGS_DESC if page.descending else cypher.PAGE_RINGS_ASC
        rows = self._run(
            query, "listing rings", sort=page.sort, offset=page.offset, limit=page.limit, **params
        )
        return RingPage(self._assemble(rows), self._count_rings(flt))

    def _count_rings(self, flt: RingFilter) -> int:
        params = filter_params(flt)
        return int(self._run(cypher.COUNT_RINGS, "counting rings", **params)[0][0])

    def _ring(self, ring_id: str) -> Ring | None:
        rings = self._assemble(self._run(cypher.RING_BY_ID, "reading a ring", ring_id=ring_id))
        return rings[0] if rings else None

    def _assemble(self, rows: list[list[Any]]) -> list[Ring]:
        if not rows:
            return []
        ids = [row[0] for row in rows]
        by_ring: dict[str, list[RingMember]] = {}
        for ring_id, account, role, pagerank, degree in self._run(
            cypher.RING_MEMBERS, "reading ring members", ids=ids
        ):
            by_ring.setdefault(ring_id, []).append(
                RingMember(account, role, float(pagerank), int(degree))
            )
        return [
            Ring(
                ring_id=ring_id,
                score=float(score),
                typology=typology,
                members=by_ring.get(ring_id, []),
                evidence=json.loads(evidence),
                status=RingStatus(status),
                note=note,
                detected_at=detected_at,
            )
            for ring_id, score, typology, status, note, evidence, detected_at in rows
        ]

    def _stats(self) -> StoreStats:
        entities: dict[str, int] = {}
        for label in self._entity_kinds():
            query = cypher.COUNT_LABEL.format(label=_quote(label, "label"))
            entities[label] = int(self._run(query, "counting entities")[0][0])
        links: dict[str, int] = {}
        for kind in self._link_kinds():
            query = cypher.COUNT_TYPE.format(kind=_quote(kind, "link kind"))
            links[kind] = int(self._run(query, "counting links")[0][0])
        rings = int(self._run(cypher.ACTIVE_RINGS, "counting rings")[0][0])
        return StoreStats(
            {k: n for k, n in sorted(entities.items()) if n},
            {k: n for k, n in sorted(links.items()) if n},
            rings,
        )


# -- conversions -----------------------------------------------------------------------------


#: Labels and types of the store's own nodes and relationships, never entity or link kinds.
_RESERVED = (cypher.RING, cypher.MEMBER, cypher.EVENT, cypher.META)


def _quote(name: str, what: str) -> str:
    if not _NAME.match(name) or name in _RESERVED:
        raise InputError(
            f"{what} {name!r} cannot be a Neo4j label or type: use letters, digits and _, "
            f"starting with a letter (and not {', '.join(_RESERVED)})"
        )
    return f"`{name}`"


def _properties(attributes: str | None) -> dict[str, Any]:
    """An attributes object (JSON text) as the node properties that hold it."""
    found = json.loads(attributes) if attributes else {}
    return {f"{cypher.ATTRIBUTE_PREFIX}{name}": value for name, value in found.items()}


def _utc(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _groups(table: pa.Table, keys: list[str]) -> Iterator[tuple[tuple[str, ...], pa.Table]]:
    """The rows of ``table`` split by the values of ``keys`` (a label or type per group)."""
    for combo in table.group_by(keys).aggregate([]).to_pylist():
        mask = functools.reduce(pc.and_, [pc.equal(table[key], combo[key]) for key in keys])
        yield tuple(str(combo[key]) for key in keys), table.filter(mask)


def _records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as parameter maps: timestamps as ISO-8601 UTC text, missing values as null.

    Built column by column and zipped: twice as fast as ``to_pylist()``, and the text form of a
    timestamp is what the statements parse with ``datetime()``.
    """
    columns: list[list[Any]] = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):  # the contract hands over tz-naive UTC
            text = np.datetime_as_string(column.to_numpy(), unit="us", timezone="UTC").tolist()
            gaps = column.is_null().to_numpy(zero_copy_only=False).tolist()
            columns.append([None if gap else stamp for gap, stamp in zip(gaps, text, strict=True)])
        else:
            columns.append(column.to_pylist())
    names = table.column_names
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _by_kind(refs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Distinct keys grouped by kind, from (kind, key) pairs."""
    grouped: dict[str, dict[str, None]] = {}
    for kind, key in refs:
        grouped.setdefault(kind, {})[key] = None
    return {kind: list(keys) for kind, keys in grouped.items()}


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    filled = [frame for frame in frames if not frame.empty]
    if not filled:
        return _typed(pd.DataFrame({name: pd.Series(dtype="object") for name in columns}))
    return pd.concat(filled, ignore_index=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as the DuckDB engine types them: microsecond timestamps, int64 counts."""
    for name in ("created_at", "first_seen", "last_seen", "time"):
        if name in frame:
            micros = pd.to_numeric(frame[name], errors="coerce")
            frame[name] = pd.to_datetime(micros, unit="us").astype("datetime64[us]")
    if "count" in frame:
        frame["count"] = frame["count"].astype("int64")
    if "amount" in frame:
        frame["amount"] = pd.to_numeric(frame["amount"]).astype("float64")
    if "attributes" in frame:
        # Sorted by name: the same text for the same attributes, however they were written.
        frame["attributes"] = [
            json.dumps(dict(sorted(pairs)), ensure_ascii=False, separators=(",", ":"))
            if pairs
            else None
            for pairs in frame["attributes"]
        ]
    return frame
