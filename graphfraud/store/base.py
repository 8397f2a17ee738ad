"""The store contract: one abstract base, small per-engine hooks.

Public methods here are the contract every engine honours; they are final: they validate
input, batch it and call the engine's ``_hooks``. Callers never write a query language: they
speak in entities, links, rings, verdicts and runs. What is the same on every engine is written
once: the graph walks over one hook (:mod:`graphfraud.store.walk`), the mapping of rings, runs
and verdicts to rows and the rules of ring history and of the audit trail
(:mod:`graphfraud.store.records`), ring filtering and paging (:mod:`graphfraud.model`).

Merge semantics (the same on every engine, so a load is idempotent):

- an entity is identified by ``(kind, key)``; on conflict ``display`` and ``label`` keep the
  newest non-null value, ``created_at`` the earliest, and ``attributes`` (a JSON object) are
  merged per attribute, the newest non-null value winning;
- a link is identified by ``(src_kind, src_key, kind, dst_kind, dst_key)``; on conflict
  ``first_seen`` takes the earliest, ``last_seen`` the latest, and ``count`` and ``amount`` the
  larger value. Loads are snapshots: loading the same export twice changes nothing, loading a
  grown export updates the figures;
- an event is identified by ``event_id``; on conflict the newest row replaces it whole.

Rings are written by detection runs and never deleted: a ring a run does not find again is
retired (kept, inactive). A ring's verdict (status, assignee, notes) lives apart from what
detection writes, so a run never copies or rewrites it, whatever runs at the same time; every
change to a verdict writes an audit entry in the same transaction.

Each store keeps a random fingerprint key of its own (:meth:`GraphStore.fingerprint_key`), the
HMAC key that turns card numbers and payment tokens into keys: without the store, a
fingerprint cannot be traced back to a card.
"""

from __future__ import annotations

import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, final

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.errors import ConfigError, InputError, NotFound
from graphfraud.model import (
    ALERT_CHANGES,
    ENTITY_COLUMNS,
    EVENT_COLUMNS,
    HUB_COLUMNS,
    LINK_COLUMNS,
    RING_INDEX_COLUMNS,
    RING_SORTS,
    RISK_COLUMNS,
    AuditEntry,
    CodedLinks,
    Columns,
    DetectionRun,
    EntityKind,
    EntityRef,
    Note,
    Page,
    Ring,
    RingAlert,
    RingChange,
    RingFilter,
    RingHistory,
    RingPage,
    RingStatus,
    StoreStats,
    Subgraph,
    Verdict,
    VerdictChange,
    empty_frame,
)
from graphfraud.store import records, sql, walk
from graphfraud.store.coded import code_links
from graphfraud.store.records import KEEP, RingWrite
from graphfraud.store.walk import LINK_KEY

#: Called as ``progress(done, total)`` while a write advances.
Progress = Callable[[int, int], None]
#: Decides a verdict change from the verdict stored (see :func:`records.decide_verdict`).
Decide = Callable[[Verdict], VerdictChange]

MAX_HOPS = 6
__all__ = ["LINK_KEY", "MAX_HOPS", "GraphStore", "conform_entities", "conform_links"]

#: The name under which a store keeps its fingerprint key.
FINGERPRINT_KEY = "fingerprint_key"
#: The name under which a store keeps the id of the run whose risk and hubs it holds.
SCORES_RUN = "scores_run"
#: Arrow layout of stored account risk (``RISK_COLUMNS``).
RISK_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("risk", pa.float64()),
        ("score", pa.float64()),
        ("known_bad", pa.bool_()),
        ("nearest", pa.string()),
        ("hops", pa.int64()),
        ("via", pa.string()),
    ]
)
#: Arrow layout of stored hubs (``HUB_COLUMNS``).
HUB_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("key", pa.string()),
        ("link", pa.string()),
        ("accounts", pa.int64()),
        ("group_accounts", pa.int64()),
        ("fence", pa.float64()),
        ("cohesion", pa.float64()),
    ]
)
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

    @final
    def ensure_schema(self) -> None:
        """Create tables / constraints / indexes, and the store's fingerprint key; safe to call
        any number of times."""
        self._ensure_schema()
        self.fingerprint_key()

    @final
    def close(self) -> None:
        """Release the connection."""
        self._close()

    # -- writes ------------------------------------------------------------------------------

    @final
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

    @final
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

    @final
    def write_rings(self, rings: list[Ring], *, run: DetectionRun | None = None) -> DetectionRun:
        """Record a detection run and the rings it found, in one transaction.

        Rings found keep their ``first_detected`` (now for new ones) and are ``last_seen`` now;
        stored active rings not found are retired (kept, inactive). What the run did to each
        ring (new, returned, grown, shrunk, changed, same, retired; who joined and who left)
        goes into the ring's history. Verdicts are left alone: the status, assignee or note a
        ring carries here is ignored.

        Parameters
        ----------
        rings
            The rings found; ids must be unique.
        run
            The run as detection knows it; default: a run with no details, started now.

        Returns
        -------
        DetectionRun
            The run as recorded: finished (now, unless given) and with its counts.
        """
        run = run or DetectionRun(run_id=records.new_run_id(), started_at=records.utc_now())
        plan = records.plan_ring_write(rings, run, self._ring_index(None), self._members(None))
        self._write_rings(plan)
        return plan.run

    @final
    def set_ring_status(
        self, ring_id: str, status: RingStatus | str, *, actor: str, note: str | None = None
    ) -> Ring:
        """Record an investigator's verdict on a ring; returns the updated ring.

        A note given is added to the ring's thread. ``actor`` (who did it) goes into the
        audit trail.
        """
        try:
            verdict = RingStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in RingStatus)
            raise InputError(f"status {status!r} is not one of: {allowed}") from None
        self._change_verdict(ring_id, actor, status=verdict, note=records.checked_note(note))
        return self.ring(ring_id)

    @final
    def assign_ring(self, ring_id: str, assignee: str | None, *, actor: str) -> Ring:
        """Give a ring to an investigator (``None`` or blank: to nobody); returns the ring."""
        name = None if not (assignee or "").strip() else records.checked_name(assignee, "assignee")
        self._change_verdict(ring_id, actor, assignee=name)
        return self.ring(ring_id)

    @final
    def add_note(self, ring_id: str, text: str, *, actor: str) -> Note:
        """Add a note to a ring's thread (notes are never replaced); returns it."""
        note = records.checked_note(text)
        if note is None:
            raise InputError("a note must have some text")
        return self._change_verdict(ring_id, actor, note=note).notes[0]

    def _change_verdict(
        self,
        ring_id: str,
        actor: str,
        *,
        status: RingStatus | None = None,
        assignee: str | object | None = KEEP,
        note: str | None = None,
    ) -> VerdictChange:
        who = records.checked_name(actor, "actor")
        self.ring(ring_id)

        def decide(current: Verdict) -> VerdictChange:
            # Timed here, inside the engine's transaction: one ring's changes are then in
            # time order as they are in revision order.
            return records.decide_verdict(
                current, ring_id=ring_id, actor=who, time=records.utc_now(), status=status,
                assignee=assignee, note=note,
            )  # fmt: skip

        return self._update_verdict(ring_id, decide)

    @final
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

    @final
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

    @final
    def fingerprint_key(self) -> str:
        """The HMAC key this store's payment-instrument fingerprints are made with.

        Random (256 bits) from the moment the store is created, and kept in it: fingerprints
        are comparable within a store, and between stores that share the key (export it from
        one, :meth:`set_fingerprint_key` on the other), but cannot be traced back to a card
        without it.
        """
        return self._put_meta(FINGERPRINT_KEY, secrets.token_hex(32), replace=False)

    @final
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

    # -- reads: the graph --------------------------------------------------------------------

    @final
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

    @final
    def links(self, *, kinds: list[str] | None = None, since: Any = None) -> pd.DataFrame:
        """All links (``LINK_COLUMNS``), optionally of some kinds and last seen since a time."""
        cutoff = None if since is None else pd.Timestamp(since)
        return self._links(kinds, cutoff)

    @final
    def coded_links(self, *, kinds: list[str] | None = None, since: Any = None) -> CodedLinks:
        """The links of :meth:`links`, their ends numbered (:class:`~graphfraud.model.CodedLinks`).

        Every account is numbered, linked or not; the numbering follows (kind, key), so the same
        data gives the same codes on every engine and in every load order.
        """
        cutoff = None if since is None else pd.Timestamp(since)
        return self._coded_links(kinds, cutoff)

    @final
    def entities(self, *, kind: str | None = None, keys: list[str] | None = None) -> pd.DataFrame:
        """Entities (``ENTITY_COLUMNS``), optionally of one kind and with given keys."""
        return self._entities(kind, keys)

    @final
    def entity(self, ref: EntityRef) -> pd.Series:
        """One entity as a row of ``ENTITY_COLUMNS``; raises NotFound."""
        self._exists(ref)
        return self._entities(ref.kind, [ref.key]).iloc[0]

    @final
    def neighbourhood(self, ref: EntityRef, *, hops: int = 1, limit: int = 500) -> Subgraph:
        """The entities within ``hops`` links of ``ref`` (at most ``limit`` nodes, those a
        level reaches taken in (kind, key) order), and the links among them."""
        if not 1 <= hops <= MAX_HOPS:
            raise InputError(f"hops must be between 1 and {MAX_HOPS}, got {hops}")
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        self._exists(ref)
        return walk.neighbourhood(self._links_touching, self._lookup, ref, hops=hops, limit=limit)

    @final
    def surroundings(self, refs: list[EntityRef], *, limit: int = 10_000) -> Subgraph:
        """Every link touching one of ``refs``, with the entities at both ends.

        One call for a whole set (a ring's members), where ``neighbourhood`` takes one entity.
        At most ``limit`` nodes: ``refs`` first, then the others in (kind, key) order;
        ``truncated`` says when some were left out. Refs that do not exist add nothing.
        """
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        wanted = [EntityRef(*ref) for ref in dict.fromkeys(refs)]
        return walk.surroundings(self._links_touching, self._lookup, wanted, limit)

    @final
    def path(
        self,
        a: EntityRef,
        b: EntityRef,
        *,
        max_hops: int = 4,
        avoid: Collection[EntityRef] = (),
    ) -> Subgraph | None:
        """A shortest chain of links from ``a`` to ``b``, or None within ``max_hops``; it
        never steps on an entity of ``avoid`` (the hubs, say)."""
        if not 1 <= max_hops <= MAX_HOPS:
            raise InputError(f"max_hops must be between 1 and {MAX_HOPS}, got {max_hops}")
        self._exists(a)
        self._exists(b)
        if a == b:
            return Subgraph(self._lookup([a]), empty_frame(LINK_COLUMNS))
        return walk.path(
            self._links_touching, self._lookup, a, b, max_hops=max_hops,
            avoid={(ref.kind, ref.key) for ref in avoid},
        )  # fmt: skip

    @final
    def links_touching(self, refs: list[EntityRef]) -> pd.DataFrame:
        """Every link with an end among ``refs`` (``LINK_COLUMNS``), each once, in no set
        order: the links around a part of the graph, for detecting it again alone."""
        return pd.DataFrame(walk.links_of(self._links_touching(list(refs), outgoing=False)))

    @final
    def degrees(self, refs: list[EntityRef]) -> list[int]:
        """How many links touch each of ``refs`` (0 for one that is not an entity): for an
        identifier, the accounts using it (by each kind of link)."""
        return self._degrees(list(refs)) if refs else []

    @final
    def accounts_sharing(self, ref: EntityRef) -> pd.DataFrame:
        """Accounts linked to ``ref``: ``account``, ``link``, ``count``, ``first_seen``,
        ``last_seen``, ``created_at``, ``label``; one row per account and link kind."""
        self._exists(ref)
        return walk.accounts_sharing(self._links_touching, self._lookup, ref)

    def _exists(self, ref: EntityRef) -> None:
        """NotFound unless ``ref`` is an entity (what ``entity`` checks, without a frame)."""
        if not len(self._lookup([ref])["key"]):
            raise NotFound(f"no {ref.kind} with key {ref.key!r}")

    def _lookup(self, refs: list[EntityRef]) -> Columns:
        """The entities ``refs`` that exist, in any order: one indexed lookup per kind. An
        engine that can look up keys of any kind at once does so instead."""
        by_kind: dict[str, list[str]] = {}
        for kind, key in refs:
            by_kind.setdefault(kind, []).append(key)
        found = [self._entities(kind, keys) for kind, keys in by_kind.items()]
        found = [frame for frame in found if not frame.empty]
        return pd.concat(found, ignore_index=True) if found else empty_frame(ENTITY_COLUMNS)

    # -- reads: rings, verdicts, runs --------------------------------------------------------

    @final
    def rings(self, flt: RingFilter | None = None, page: Page | None = None) -> RingPage:
        """Rings matching ``flt`` (by default the active ones), sorted and paginated."""
        page = page or Page()
        if page.sort not in RING_SORTS:
            raise InputError(f"cannot sort rings by {page.sort!r}; use one of {list(RING_SORTS)}")
        if page.offset < 0 or page.limit < 1:
            raise InputError("page offset must be >= 0 and limit >= 1")
        index, rows = self._select(flt or RingFilter())
        shown = np.asarray(index["ring_id"])[page.of(index, rows)].tolist()
        return RingPage(self._rings_by_id(shown), len(rows))

    @final
    def ring_index(self, flt: RingFilter | None = None) -> pd.DataFrame:
        """The light index (``RING_INDEX_COLUMNS``) of the rings matching ``flt`` (by default
        the active ones), in ring-id order: for listings, reports and counts, without members
        or evidence."""
        index, rows = self._select(flt or RingFilter())
        found = pd.DataFrame({name: np.asarray(index[name])[rows] for name in RING_INDEX_COLUMNS})
        return found.assign(
            first_detected=records.utc_column(found["first_detected"]),
            last_seen=records.utc_column(found["last_seen"]),
        )

    @final
    def count_rings(self, flt: RingFilter | None = None) -> int:
        """How many rings match ``flt`` (by default: the active ones)."""
        return len(self._select(flt or RingFilter())[1])

    def _select(self, flt: RingFilter) -> tuple[Columns, np.ndarray]:
        """The stored index (times as stored) and the positions of the rings matching
        ``flt``."""
        if flt.account is None:
            index = self._ring_index(None)
            return index, flt.select(index)
        # An account is in a handful of rings: only their rows are read.
        with_account = self._ring_ids_with(flt.account)
        index = self._ring_index(with_account)
        return index, flt.select(index, with_account=with_account)

    @final
    def ring_ids_of(self, accounts: list[str]) -> dict[str, list[str]]:
        """Per account, the ids of the rings (active or retired) it is a member of."""
        return {account: self._ring_ids_with(account) for account in dict.fromkeys(accounts)}

    @final
    def rings_by_id(self, ids: list[str]) -> list[Ring]:
        """The rings with these ids that exist (active or retired), in the order of ``ids``."""
        return self._rings_by_id(ids)

    @final
    def ring(self, ring_id: str) -> Ring:
        """One ring, active or retired, with its members, evidence and verdict; raises
        NotFound."""
        found = self._rings_by_id([ring_id])
        if not found:
            raise NotFound(f"no ring with id {ring_id!r}")
        return found[0]

    @final
    def notes(self, ring_id: str) -> list[Note]:
        """A ring's note thread, oldest first; raises NotFound."""
        self.ring(ring_id)
        return records.notes_from_rows(self._notes([ring_id]))

    @final
    def all_notes(self) -> dict[str, list[Note]]:
        """Every ring's note thread (oldest first), by ring id: for exports."""
        threads: dict[str, list[Note]] = {}
        for note in records.notes_from_rows(self._notes(None)):
            threads.setdefault(note.ring_id, []).append(note)
        return threads

    @final
    def audit(
        self, *, ring_id: str | None = None, since: Any = None, until: Any = None
    ) -> list[AuditEntry]:
        """Changes to verdicts, oldest first: of one ring, and from ``since`` up to (not
        including) ``until`` when given; raises NotFound for an unknown ring."""
        if ring_id is not None:
            self.ring(ring_id)
        start, stop = _naive_time(since, "since"), _naive_time(until, "until")
        return records.audit_from_rows(self._audit(ring_id, start, stop))

    @final
    def runs(self) -> list[DetectionRun]:
        """Every detection run recorded, newest first."""
        return records.runs_from_rows(self._runs())

    @final
    def ring_history(self, ring_id: str) -> RingHistory:
        """A ring through the detection runs: when first detected and last seen, and what
        each run did to it (oldest first); raises NotFound."""
        ring = self.ring(ring_id)
        return RingHistory(
            ring_id=ring.ring_id,
            first_detected=ring.first_detected,
            last_seen=ring.last_seen,
            active=ring.active,
            appearances=records.appearances_from_rows(self._appearances(ring_id)),
        )

    @final
    def ring_alerts(
        self,
        *,
        since: datetime | str | None = None,
        changes: Sequence[RingChange] = ALERT_CHANGES,
    ) -> list[RingAlert]:
        """What runs did to rings that is worth an alert, newest first.

        Parameters
        ----------
        since
            Only runs that finished after this time (tz-aware, or naive UTC); ``None``: all.
        changes
            Which changes count (default :data:`~graphfraud.model.ALERT_CHANGES`).
        """
        start = _naive_time(since, "since")
        wanted = [RingChange(change).value for change in changes]
        return records.alerts_from_rows(self._ring_changes(start, wanted))

    # -- risk and hubs of the latest detection run ------------------------------------------

    @final
    def write_scores(self, risk: pd.DataFrame, hubs: pd.DataFrame, *, run_id: str) -> None:
        """Keep a detection run's account risk (``RISK_COLUMNS``) and hubs (``HUB_COLUMNS``),
        replacing those of the run before: what a product check answers from."""
        _require(risk, RISK_COLUMNS, "risk")
        _require(hubs, HUB_COLUMNS, "hubs")
        risk_table = pa.Table.from_pandas(
            risk[list(RISK_COLUMNS)], schema=RISK_SCHEMA, preserve_index=False
        )
        hub_table = pa.Table.from_pandas(
            hubs[list(HUB_COLUMNS)].astype({"kind": str, "key": str, "link": str}),
            schema=HUB_SCHEMA,
            preserve_index=False,
        )
        self._write_scores(risk_table, hub_table)
        self._put_meta(SCORES_RUN, run_id, replace=True)

    @final
    def scores_run(self) -> str | None:
        """The id of the detection run whose risk and hubs the store keeps (None: none yet)."""
        run = self._put_meta(SCORES_RUN, "", replace=False)
        return run or None

    @final
    def risk(self, *, accounts: list[str] | None = None) -> pd.DataFrame:
        """Account risk of the latest run (``RISK_COLUMNS``), riskiest first; of these
        accounts only, if given (accounts the run did not see are left out)."""
        found = self._risk(accounts)
        order = np.lexsort((found["account"].to_numpy(dtype=str), -found["score"].to_numpy()))
        order = order[np.argsort(-found["risk"].to_numpy()[order], kind="stable")]
        return found.iloc[order].reset_index(drop=True)

    @final
    def hubs(self) -> pd.DataFrame:
        """Hubs of the latest run (``HUB_COLUMNS``), most used first."""
        found = self._hubs()
        return found.sort_values(
            ["group_accounts", "kind", "key"], ascending=[False, True, True], kind="stable"
        ).reset_index(drop=True)

    @final
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

    def _rings_by_id(self, ids: list[str]) -> list[Ring]:
        """The rings with these ids that exist, in the order of ``ids``. Engines store rows
        (:meth:`_ring_rows`); a store holding rings in memory answers from there."""
        if not ids:
            return []
        found = records.rings_from_rows(self._ring_rows(ids), self._members(ids))
        by_id = {ring.ring_id: ring for ring in found}
        return [by_id[ring_id] for ring_id in ids if ring_id in by_id]

    # -- engine hooks ------------------------------------------------------------------------

    @abstractmethod
    def _ensure_schema(self) -> None: ...

    def _degrees(self, refs: list[EntityRef]) -> list[int]:
        """Links touching each ref; engines holding the graph in memory count faster."""
        links = walk.links_of(self._links_touching(refs, outgoing=False))
        count: dict[tuple[str, str], int] = {}
        for ends in (("src_kind", "src_key"), ("dst_kind", "dst_key")):
            for node in zip(links[ends[0]].tolist(), links[ends[1]].tolist(), strict=True):
                count[node] = count.get(node, 0) + 1
        return [count.get((ref.kind, ref.key), 0) for ref in refs]

    @abstractmethod
    def _write_scores(self, risk: pa.Table, hubs: pa.Table) -> None:
        """Replace the stored risk and hubs with these, in one transaction."""

    @abstractmethod
    def _risk(self, accounts: list[str] | None) -> pd.DataFrame: ...

    @abstractmethod
    def _hubs(self) -> pd.DataFrame: ...

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
    def _links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> pd.DataFrame: ...

    @abstractmethod
    def _entities(self, kind: str | None, keys: list[str] | None) -> pd.DataFrame: ...

    def _coded_links(self, kinds: list[str] | None, since: pd.Timestamp | None) -> CodedLinks:
        """Number the links' ends; by default the links are read and coded in an in-memory
        DuckDB (an engine that can number them where they are stored overrides this)."""
        accounts = self._entities(EntityKind.ACCOUNT, None)["key"]
        return code_links(self._links(kinds, since), accounts=accounts.astype(str))

    @abstractmethod
    def _links_touching(self, refs: list[EntityRef], *, outgoing: bool) -> Columns:
        """Every link with an end among ``refs`` (its source, when ``outgoing``), each once,
        as ``LINK_COLUMNS``: the one hook the graph walks stand on."""

    @abstractmethod
    def _stats(self) -> StoreStats: ...

    @abstractmethod
    def _write_rings(self, write: RingWrite) -> None:
        """In one transaction: upsert ``write.rings`` (``first_detected`` set for new ones,
        ``last_seen`` to ``write.time``, active), retire ``write.retired``, replace the
        members of the rings written, add the appearances and the run."""

    @abstractmethod
    def _update_verdict(self, ring_id: str, decide: Decide) -> VerdictChange:
        """In one transaction: read the ring's verdict (the default if none), ``decide`` the
        change, write the new verdict, its notes and its audit entries; returns the change.
        Concurrent changes to one verdict must not interleave between the read and the write."""

    @abstractmethod
    def _ring_index(self, ids: list[str] | None) -> Columns:
        """The stored rings with these ids (every one when None) as ``RING_INDEX_COLUMNS``
        (status "new" where no verdict), in ring-id order."""

    @abstractmethod
    def _ring_ids_with(self, account: str) -> list[str]:
        """Ids of the rings (active or retired) ``account`` is a member of."""

    @abstractmethod
    def _ring_rows(self, ids: list[str]) -> pd.DataFrame:
        """``records.RING_ROW_COLUMNS`` of the rings with these ids, in any order."""

    @abstractmethod
    def _members(self, ids: list[str] | None) -> pd.DataFrame:
        """``records.MEMBER_SCHEMA`` columns of the rings with these ids (all when None)."""

    @abstractmethod
    def _notes(self, ids: list[str] | None) -> pd.DataFrame:
        """``records.NOTE_SCHEMA`` columns of these rings' notes (every note when None)."""

    @abstractmethod
    def _audit(
        self, ring_id: str | None, since: datetime | None, until: datetime | None
    ) -> pd.DataFrame:
        """``records.AUDIT_SCHEMA`` columns of the entries matching (times naive UTC)."""

    @abstractmethod
    def _runs(self) -> pd.DataFrame:
        """``records.RUN_SCHEMA`` columns of every run."""

    @abstractmethod
    def _ring_changes(self, since: datetime | None, changes: list[str]) -> pd.DataFrame:
        """``records.APPEARANCE_SCHEMA`` columns and the run's ``time`` of every appearance
        with one of ``changes``, of runs that finished after ``since`` (naive UTC) if given."""

    @abstractmethod
    def _appearances(self, ring_id: str) -> pd.DataFrame:
        """``records.APPEARANCE_SCHEMA`` columns and the run's ``time`` (when it finished) of
        every run that found or retired the ring."""


def _naive_time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"{what} {value!r} is not a time") from None
    return records.naive_utc(stamp.to_pydatetime())


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
