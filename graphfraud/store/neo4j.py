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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import neo4j
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from graphfraud.errors import (
    ConfigError,
    GraphFraudError,
    InputError,
    StoreError,
    StoreUnavailable,
)
from graphfraud.model import (
    ENTITY_COLUMNS,
    EVENT_COLUMNS,
    HUB_COLUMNS,
    LINK_COLUMNS,
    RING_INDEX_COLUMNS,
    RISK_COLUMNS,
    EntityKind,
    EntityRef,
    StoreStats,
    VerdictChange,
)
from graphfraud.settings import Settings, get_settings
from graphfraud.store import cypher, records
from graphfraud.store.base import (
    ENTITY_SCHEMA,
    EVENT_SCHEMA,
    LINK_SCHEMA,
    Decide,
    GraphStore,
    Progress,
)
from graphfraud.store.records import RingWrite
from graphfraud.store.walk import LINK_KEY

#: Labels and relationship types become part of the Cypher text, so they must be plain names.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Columns read back as microseconds since the epoch, made timestamps.
TIME_COLUMNS = (
    "created_at", "first_seen", "last_seen", "first_detected", "time", "started_at",
    "finished_at", "data_from", "data_to",
)  # fmt: skip
#: How long the driver retries a transaction the server could not run (then the error surfaces).
RETRY_SECONDS = 5.0
#: Host names of this machine, where a bulk import can reach the server's files.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
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
    bulk_home
        Folder of the local server this URL reaches (what ``graphfraud neo4j start`` runs):
        a whole load (:meth:`write_graph`) then builds a new database with ``neo4j-admin
        database import full`` instead of merging over Bolt. The server is stopped for the
        import and started again; the database must hold nothing but its settings.

    Raises
    ------
    StoreUnavailable
        The server cannot be reached or refuses the credentials.
    ConfigError
        ``bulk_home`` is given but the URL does not reach the server running from it, or the
        database already holds data.
    """

    def __init__(
        self,
        url: str,
        *,
        settings: Settings | None = None,
        batch_size: int | None = None,
        bulk_home: Path | None = None,
    ) -> None:
        settings = settings or get_settings()
        super().__init__(url, batch_size=batch_size or settings.neo4j_batch_size)
        self._database = settings.neo4j_database
        self._user = settings.neo4j_user
        self._password = settings.neo4j_password
        self._bulk_home = bulk_home
        self._driver = self._connect()
        self._constrained: set[str] = set()
        self.ensure_schema()
        if bulk_home is not None:
            try:
                self._check_bulk_import(bulk_home)
            except ConfigError:
                self._driver.close()
                raise

    # -- plumbing ----------------------------------------------------------------------------

    def _connect(self) -> neo4j.Driver:
        try:
            driver = neo4j.GraphDatabase.driver(
                self.url,
                auth=(self._user, self._password.get_secret_value()),
                max_transaction_retry_time=RETRY_SECONDS,
                connection_timeout=10.0,
                # Warnings such as "property `active` does not exist yet" on an empty database
                # are expected here; the driver would log every one.
                notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
            )
        except (ValueError, DriverError) as exc:
            raise StoreUnavailable(f"cannot use Neo4j URL {self.url!r}: {exc}") from exc
        with self._errors("connecting"):
            driver.verify_connectivity()
        return driver

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

    # -- hooks: lifecycle and writes ---------------------------------------------------------

    def _ensure_schema(self) -> None:
        for statement in cypher.RING_SCHEMA:
            self._run(statement, "creating the constraints and indexes of rings")
        self._keep_earlier_rings()
        self._run(cypher.EVENT_CONSTRAINT, "creating the event constraint")
        self._run(cypher.EVENT_ACCOUNT_INDEX, "creating the event index")
        self._run(cypher.META_CONSTRAINT, "creating the settings constraint")
        self._run(cypher.RISK_INDEX, "creating the account risk index")
        self._constrained.clear()
        for kind in EntityKind:
            self._label(kind.value)

    def _close(self) -> None:
        self._driver.close()

    def _upsert_entities(self, batch: pa.Table) -> None:
        for (kind,), group in groups(batch, ["kind"]):
            rows = _records(group.select(["key", "display", "created_at", "label", "attributes"]))
            for row in rows:
                row["attributes"] = _properties(row["attributes"])
            query = cypher.UPSERT_ENTITIES.format(label=self._label(kind))
            self._run(query, f"writing {len(rows):,} {kind} entities", rows=rows)

    def _insert_missing_entities(self, batch: pa.Table) -> None:
        """Nothing to do: UPSERT_LINKS merges both endpoints of every link it writes."""

    def _upsert_links(self, batch: pa.Table) -> None:
        columns = ["src_key", "dst_key", "first_seen", "last_seen", "count", "amount"]
        for (src, kind, dst), group in groups(batch, ["src_kind", "kind", "dst_kind"]):
            query = cypher.UPSERT_LINKS.format(
                src=self._label(src), dst=self._label(dst), kind=_quote(kind, "link kind")
            )
            lists = _lists(group.select(columns))
            self._run(query, f"writing {group.num_rows:,} {kind} links", **lists)

    def _upsert_events(self, batch: pa.Table) -> None:
        rows = _records(batch)
        self._run(cypher.UPSERT_EVENTS, f"writing {len(rows):,} events", rows=rows)

    def _write_graph(
        self, entities: pa.Table, links: pa.Table, events: pa.Table, progress: Progress | None
    ) -> None:
        if self._bulk_home is None:
            super()._write_graph(entities, links, events, progress)
            return
        from graphfraud.neo4j_server import import_database, stopped_server
        from graphfraud.store import neo4j_import

        home = self._check_bulk_import(self._bulk_home)
        meta = dict(self._run(cypher.ALL_META, "reading the database's settings"))
        with tempfile.TemporaryDirectory(prefix="graphfraud-import-") as folder:
            load, empty = Path(folder) / "load", Path(folder) / "empty"
            load.mkdir()
            empty.mkdir()
            arguments = neo4j_import.write_import_files(
                load, entities.cast(ENTITY_SCHEMA), links.cast(LINK_SCHEMA),
                events.cast(EVENT_SCHEMA), meta,
            )  # fmt: skip
            self._driver.close()
            try:
                with stopped_server(home, password=self._password.get_secret_value()):
                    try:
                        import_database(home, arguments, database=self._database)
                    except GraphFraudError:
                        # The import replaced the database's files: put back the empty
                        # database it was (its settings only), so a failed load leaves nothing.
                        nothing = neo4j_import.write_import_files(
                            empty, ENTITY_SCHEMA.empty_table(), LINK_SCHEMA.empty_table(),
                            EVENT_SCHEMA.empty_table(), meta,
                        )  # fmt: skip
                        import_database(home, nothing, database=self._database)
                        raise
            finally:
                self._driver = self._connect()
        # The imported database has no schema yet: the same constraints and indexes as any.
        self.ensure_schema()
        for kind in pc.unique(entities["kind"].cast(pa.string())).to_pylist():
            self._label(kind)
        total = entities.num_rows + links.num_rows + events.num_rows
        if progress is not None:
            progress(total, total)

    def _check_bulk_import(self, home: Path) -> Path:
        """The server folder to import into, after checking the URL reaches the server that
        runs from ``home`` and that its database holds nothing but settings."""
        from graphfraud.neo4j_server import server_status

        info = server_status(home)
        address = urlsplit(self.url)
        if info is None or address.hostname not in LOCAL_HOSTS or address.port != info.port:
            running = "nothing runs there" if info is None else f"it runs at {info.url}"
            raise ConfigError(
                f"bulk import rebuilds the database of the Neo4j that `graphfraud neo4j start` "
                f"runs from {home} on this machine ({running}), and {self.url} is not it: load "
                "without --bulk to merge over Bolt"
            )
        ((found,),) = self._run(cypher.HOLDS_DATA, "checking the database is empty")
        if found:
            raise ConfigError(
                f"bulk import builds a new database, and database {self._database!r} at "
                f"{self.url} already holds data: load without --bulk to merge into it, or "
                "start from an empty one (graphfraud neo4j start --fresh)"
            )
        return info.home

    def _put_meta(self, name: str, value: str, *, replace: bool) -> str:
        query = cypher.REPLACE_META if replace else cypher.ADD_META
        return str(self._run(query, f"keeping the {name}", name=name, value=value)[0][0])

    def _write_rings(self, write: RingWrite) -> None:
        time = records.aware_utc(write.time)
        found = write.rings.column("ring_id").to_pylist()

        def record(tx: neo4j.ManagedTransaction) -> None:
            tx.run(cypher.UPSERT_RINGS, rings=write.rings.to_pylist(), time=time).consume()
            tx.run(cypher.RETIRE_RINGS, ids=write.retired).consume()
            tx.run(cypher.DROP_MEMBERS, ids=found).consume()
            tx.run(cypher.ADD_MEMBERS, members=write.members.to_pylist()).consume()
            tx.run(cypher.ADD_APPEARANCES, rows=write.appearances.to_pylist()).consume()
            tx.run(cypher.ADD_RUN, rows=_records(records.run_table(write.run))).consume()

        with (
            self._errors(f"writing {len(found):,} rings"),
            self._driver.session(database=self._database) as session,
        ):
            session.execute_write(record)

    def _write_scores(self, risk: pa.Table, hubs: pa.Table) -> None:
        # Replaced in bounded batches, as ring history is not: a million rows do not fit one
        # transaction's memory. A reader in between sees a part; the run id is set after.
        with (
            self._errors("replacing account risk and hubs"),
            self._driver.session(database=self._database) as session,
        ):
            session.run(cypher.DROP_SCORES).consume()
        for query, table, what in (
            (cypher.ADD_RISK, risk, "account risk"),
            (cypher.ADD_HUBS, hubs, "hubs"),
        ):
            for batch in table.to_batches(max_chunksize=self.batch_size or 10_000):
                rows = _records(pa.Table.from_batches([batch]))
                self._run(query, f"writing {len(rows):,} rows of {what}", rows=rows)

    def _risk(self, accounts: list[str] | None) -> pd.DataFrame:
        frame = self._frame(cypher.RISK_OF, RISK_COLUMNS, "reading account risk", accounts=accounts)
        return frame.astype(
            {"risk": "float64", "score": "float64", "known_bad": bool, "hops": "int64"}
        )

    def _hubs(self) -> pd.DataFrame:
        frame = self._frame(cypher.HUBS, HUB_COLUMNS, "reading hubs")
        return frame.astype(
            {
                "accounts": "int64",
                "group_accounts": "int64",
                "fence": "float64",
                "cohesion": "float64",
            }
        )

    def _update_verdict(self, ring_id: str, decide: Decide) -> VerdictChange:
        def change(tx: neo4j.ManagedTransaction) -> VerdictChange:
            found = tx.run(cypher.LOCK_VERDICT, ring_id=ring_id).single(strict=True)
            decided = decide(records.verdict_from_row(found.data()))
            _write_verdict(tx, ring_id, decided)
            return decided

        with (
            self._errors("recording a verdict"),
            self._driver.session(database=self._database) as session,
        ):
            return session.execute_write(change)

    def _keep_earlier_rings(self) -> None:
        """Turn rings written before ring history into rings of now, their verdicts and notes
        into nodes of their own (see :func:`records.earlier_rings`), in one transaction."""
        ((rows,),) = self._run(cypher.EARLIER_RINGS, "reading rings written earlier")
        if not rows:
            return
        columns = ["ring_id", "status", "note", "detected_at"]
        earlier = records.earlier_rings(pd.DataFrame(rows, columns=columns))

        def keep(tx: neo4j.ManagedTransaction) -> None:
            tx.run(cypher.KEEP_EARLIER_RINGS, rows=_records(earlier.times)).consume()
            for ring_id, change in earlier.verdicts:
                tx.run(cypher.LOCK_VERDICT, ring_id=ring_id).consume()
                _write_verdict(tx, ring_id, change)

        with (
            self._errors(f"moving {len(rows):,} rings written earlier"),
            self._driver.session(database=self._database) as session,
        ):
            session.execute_write(keep)

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
        return [label for (label,) in labels if label not in cypher.INTERNAL_LABELS]

    def _link_kinds(self) -> list[str]:
        types = self._run(cypher.RELATIONSHIP_TYPES, "listing link kinds")
        return [kind for (kind,) in types if kind != cypher.MEMBER]

    def _links_touching(self, refs: list[EntityRef], *, outgoing: bool) -> pd.DataFrame:
        # One indexed lookup per kind of entity (a ring's members are all accounts); a link
        # between two entities of different kinds is found from both.
        template = cypher.LINKS_FROM if outgoing else cypher.LINKS_TOUCHING
        frames = []
        for kind, keys in _by_kind([(ref.kind, ref.key) for ref in refs]).items():
            query = template.format(label=_quote(kind, "entity kind"))
            frames.append(self._frame(query, LINK_COLUMNS, "reading links", keys=keys))
        return _concat(frames, LINK_COLUMNS).drop_duplicates(LINK_KEY, ignore_index=True)

    def _ring_index(self, ids: list[str] | None) -> pd.DataFrame:
        columns = tuple(name for name in RING_INDEX_COLUMNS if name not in ("status", "assignee"))
        if ids is None:
            rings = self._frame(cypher.RING_INDEX, columns, "listing rings")
            ((rows,),) = self._run(cypher.VERDICTS, "reading verdicts")
        else:
            rings = self._frame(cypher.RING_INDEX_OF, columns, "listing rings", ids=ids)
            ((rows,),) = self._run(cypher.VERDICTS_OF, "reading verdicts", ids=ids)
        verdicts = {ring_id: (status, assignee) for ring_id, status, assignee in rows}
        found = [verdicts.get(ring_id, ("new", None)) for ring_id in rings["ring_id"].tolist()]
        rings["status"] = pd.Series([status for status, _ in found], dtype=object)
        rings["assignee"] = pd.Series([assignee for _, assignee in found], dtype=object)
        return rings[list(RING_INDEX_COLUMNS)]

    def _ring_ids_with(self, account: str) -> list[str]:
        ((ids,),) = self._run(cypher.RING_IDS_WITH, "finding an account's rings", account=account)
        return [str(ring_id) for ring_id in ids]

    def _ring_rows(self, ids: list[str]) -> pd.DataFrame:
        return self._frame(cypher.RING_ROWS, records.RING_ROW_COLUMNS, "reading rings", ids=ids)

    def _members(self, ids: list[str] | None) -> pd.DataFrame:
        columns = tuple(records.MEMBER_SCHEMA.names)
        if ids is None:
            return self._frame(cypher.ALL_MEMBERS, columns, "reading ring members")
        return self._frame(cypher.MEMBERS_OF, columns, "reading ring members", ids=ids)

    def _notes(self, ids: list[str] | None) -> pd.DataFrame:
        columns = tuple(records.NOTE_SCHEMA.names)
        if ids is None:
            return self._frame(cypher.ALL_NOTES, columns, "reading notes")
        return self._frame(cypher.NOTES_OF, columns, "reading notes", ids=ids)

    def _audit(
        self, ring_id: str | None, since: datetime | None, until: datetime | None
    ) -> pd.DataFrame:
        return self._frame(
            cypher.AUDIT, tuple(records.AUDIT_SCHEMA.names), "reading the audit trail",
            ring_id=ring_id, since=records.aware_utc(since), until=records.aware_utc(until),
        )  # fmt: skip

    def _runs(self) -> pd.DataFrame:
        return self._frame(cypher.RUNS, tuple(records.RUN_SCHEMA.names), "reading runs")

    def _appearances(self, ring_id: str) -> pd.DataFrame:
        columns = (*records.APPEARANCE_SCHEMA.names, "time")
        return self._frame(cypher.APPEARANCES, columns, "reading ring history", ring_id=ring_id)

    def _ring_changes(self, since: datetime | None, changes: list[str]) -> pd.DataFrame:
        columns = (*records.APPEARANCE_SCHEMA.names, "time")
        return self._frame(
            cypher.RING_CHANGES, columns, "reading ring alerts",
            since=records.aware_utc(since), changes=changes,
        )  # fmt: skip

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


def _write_verdict(tx: neo4j.ManagedTransaction, ring_id: str, change: VerdictChange) -> None:
    """Write a verdict change in ``tx``, which holds the verdict's lock (LOCK_VERDICT)."""
    verdict = change.verdict
    tx.run(
        cypher.WRITE_VERDICT, ring_id=ring_id, status=verdict.status.value,
        assignee=verdict.assignee, revision=verdict.revision,
    ).consume()  # fmt: skip
    tx.run(cypher.ADD_NOTES, rows=_records(records.notes_table(change.notes))).consume()
    tx.run(cypher.ADD_AUDIT, rows=_records(records.audit_table(change.audit))).consume()


def _quote(name: str, what: str) -> str:
    if not _NAME.match(name) or name in cypher.INTERNAL_LABELS | {cypher.MEMBER}:
        reserved = ", ".join(sorted(cypher.INTERNAL_LABELS | {cypher.MEMBER}))
        raise InputError(
            f"{what} {name!r} cannot be a Neo4j label or type: use letters, digits and _, "
            f"starting with a letter (and none of {reserved})"
        )
    return f"`{name}`"


def _properties(attributes: str | None) -> dict[str, Any]:
    """An attributes object (JSON text) as the node properties that hold it."""
    found = json.loads(attributes) if attributes else {}
    return {f"{cypher.ATTRIBUTE_PREFIX}{name}": value for name, value in found.items()}


def _utc(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def groups(table: pa.Table, keys: list[str]) -> Iterator[tuple[tuple[str, ...], pa.Table]]:
    """The rows of ``table`` split by the values of ``keys`` (a label or type per group)."""
    for combo in table.group_by(keys).aggregate([]).to_pylist():
        mask = functools.reduce(pc.and_, [pc.equal(table[key], combo[key]) for key in keys])
        yield tuple(str(combo[key]) for key in keys), table.filter(mask)


def _records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as parameter maps: timestamps as ISO-8601 UTC text, missing values as null.

    Built column by column and zipped: twice as fast as ``to_pylist()``, and the text form of a
    timestamp is what the statements parse with ``datetime()``.
    """
    lists = _lists(table)
    return [dict(zip(lists, row, strict=True)) for row in zip(*lists.values(), strict=True)]


def _lists(table: pa.Table) -> dict[str, list[Any]]:
    """Columns as parameter lists, valued as :func:`_records` values them."""
    lists: dict[str, list[Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_timestamp(column.type):  # the contract hands over tz-naive UTC
            text = np.datetime_as_string(column.to_numpy(), unit="us", timezone="UTC").tolist()
            gaps = column.is_null().to_numpy(zero_copy_only=False).tolist()
            lists[name] = [None if gap else stamp for gap, stamp in zip(gaps, text, strict=True)]
        else:
            lists[name] = column.to_pylist()
    return lists


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
    for name in TIME_COLUMNS:
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
