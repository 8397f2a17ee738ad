"""Rings, verdicts and runs as every engine stores them: one mapping, one set of rules.

Engines keep flat rows: they take Arrow tables with the columns below and give back pandas
frames with the same names (times as tz-naive UTC, the form every engine stores). This module
turns records into rows and back — the one place a ring's evidence is serialised — plans what
writing a run's rings changes (new, grown, shrunk, retired; who joined, who left), and decides
what a change to a verdict writes (the new verdict, its note, its audit entries).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from graphfraud.errors import InputError
from graphfraud.model import (
    AUDITED_FIELDS,
    AuditEntry,
    Columns,
    DetectionRun,
    Note,
    Ring,
    RingAlert,
    RingAppearance,
    RingChange,
    RingEvidence,
    RingMember,
    RingStatus,
    Verdict,
    VerdictChange,
)

_TIME = pa.timestamp("us")
_TEXTS = pa.list_(pa.string())

#: What detection writes per ring (``evidence`` as JSON text).
RING_SCHEMA = pa.schema(
    [("ring_id", pa.string()), ("score", pa.float64()), ("typology", pa.string()),
     ("size", pa.int64()), ("evidence", pa.string())]
)  # fmt: skip
#: What engines read back per ring: the above, when it was found, and its verdict (``note``
#: the latest note, "" when none).
RING_ROW_COLUMNS: tuple[str, ...] = (
    *RING_SCHEMA.names,
    "first_detected",
    "last_seen",
    "active",
    "status",
    "assignee",
    "note",
)
MEMBER_SCHEMA = pa.schema(
    [("ring_id", pa.string()), ("account", pa.string()), ("role", pa.string()),
     ("pagerank", pa.float64()), ("degree", pa.int64())]
)  # fmt: skip
#: What a run did to a ring; engines read it back with the run's ``time`` (when it finished).
APPEARANCE_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("ring_id", pa.string()), ("change", pa.string()),
     ("size", pa.int64()), ("score", pa.float64()), ("joined", _TEXTS), ("left", _TEXTS)]
)  # fmt: skip
NOTE_SCHEMA = pa.schema(
    [("ring_id", pa.string()), ("time", _TIME), ("actor", pa.string()), ("text", pa.string()),
     ("revision", pa.int64())]
)  # fmt: skip
AUDIT_SCHEMA = pa.schema(
    [("time", _TIME), ("actor", pa.string()), ("ring_id", pa.string()), ("field", pa.string()),
     ("old", pa.string()), ("new", pa.string()), ("revision", pa.int64())]
)  # fmt: skip
#: A detection run (``settings`` as JSON text).
RUN_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("started_at", _TIME), ("finished_at", _TIME),
     ("settings", pa.string()), ("data_from", _TIME), ("data_to", _TIME),
     ("engine", pa.string()), ("version", pa.string()),
     *((name, pa.int64()) for name in ("accounts", "candidates", "rings", "new", "returned",
                                        "grown", "shrunk", "retired"))]
)  # fmt: skip

#: Longest actor name, assignee and note accepted.
MAX_NAME = 200
MAX_NOTE = 4000


def utc_now() -> datetime:
    """Now, tz-aware UTC, to the microsecond (what every engine stores)."""
    return datetime.now(UTC)


def new_run_id() -> str:
    """A fresh run id."""
    return uuid.uuid4().hex[:12]


def naive_utc(value: datetime | None) -> datetime | None:
    """``value`` as tz-naive UTC, the form engines store (a naive value is taken as UTC)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def aware_utc(value: Any) -> datetime | None:
    """A stored (naive UTC) time as a tz-aware UTC datetime; None for a missing one."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def utc_column(values: pd.Series) -> pd.Series:
    """A column of stored times as tz-aware UTC (unchanged if it already is)."""
    stamps = pd.to_datetime(values).astype("datetime64[us]") if values.dt.tz is None else values
    return stamps.dt.tz_localize(UTC) if stamps.dt.tz is None else stamps.dt.tz_convert(UTC)


# -- rings -------------------------------------------------------------------------------------


def ring_table(rings: Sequence[Ring]) -> pa.Table:
    """What detection writes of ``rings``: one row each, evidence as JSON."""
    return pa.table(
        {
            "ring_id": [r.ring_id for r in rings],
            "score": [float(r.score) for r in rings],
            "typology": [r.typology for r in rings],
            "size": [r.size for r in rings],
            "evidence": [r.evidence.to_json() for r in rings],
        },
        schema=RING_SCHEMA,
    )


def member_table(rings: Sequence[Ring]) -> pa.Table:
    """The members of ``rings``, one row per ring and account."""
    members = [(r.ring_id, m) for r in rings for m in r.members]
    return pa.table(
        {
            "ring_id": [ring_id for ring_id, _ in members],
            "account": [m.account for _, m in members],
            "role": [m.role for _, m in members],
            "pagerank": [float(m.pagerank) for _, m in members],
            "degree": [int(m.degree) for _, m in members],
        },
        schema=MEMBER_SCHEMA,
    )


def rings_from_rows(rows: pd.DataFrame, members: pd.DataFrame) -> list[Ring]:
    """Rings from ``RING_ROW_COLUMNS`` rows and their members (``MEMBER_SCHEMA`` columns), in
    the order of ``rows``; members best PageRank first."""
    members = members.sort_values(
        ["ring_id", "pagerank", "account"], ascending=[True, False, True], kind="stable"
    )
    by_ring: dict[str, list[RingMember]] = {}
    for ring_id, account, role, pagerank, degree in zip(
        *(members[name].tolist() for name in MEMBER_SCHEMA.names), strict=True
    ):
        by_ring.setdefault(ring_id, []).append(
            RingMember(str(account), str(role), float(pagerank), int(degree))
        )
    return [
        Ring(
            ring_id=str(r["ring_id"]),
            score=float(r["score"]),
            typology=str(r["typology"]),
            members=by_ring.get(str(r["ring_id"]), []),
            evidence=RingEvidence.from_json(str(r["evidence"])),
            status=RingStatus(str(r["status"])),
            note=_text(r["note"]) or "",
            assignee=_text(r["assignee"]),
            first_detected=aware_utc(r["first_detected"]),
            last_seen=aware_utc(r["last_seen"]),
            active=bool(r["active"]),
        )
        for r in rows.to_dict("records")
    ]


# -- detection runs ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RingWrite:
    """Everything one run writes, in one transaction.

    Attributes
    ----------
    run
        The run, finished, with its counts.
    rings, members
        The rings found (``RING_SCHEMA``) and their members (``MEMBER_SCHEMA``).
    appearances
        What the run did to each ring it found or retired (``APPEARANCE_SCHEMA``).
    retired
        Ids of the stored active rings the run did not find.
    """

    run: DetectionRun
    rings: pa.Table
    members: pa.Table
    appearances: pa.Table
    retired: list[str]

    @property
    def time(self) -> datetime:
        """When the run finished (tz-naive UTC): the rings' ``last_seen``, and the
        ``first_detected`` of the new ones."""
        finished = naive_utc(self.run.finished_at)
        assert finished is not None, "a planned run has finished"
        return finished


def plan_ring_write(
    rings: Sequence[Ring], run: DetectionRun, index: Columns, members: pd.DataFrame
) -> RingWrite:
    """What writing ``rings`` as the result of ``run`` changes in a store.

    Parameters
    ----------
    rings
        The rings the run found (ids unique).
    run
        The run; its ``finished_at`` defaults to now.
    index
        The stored ring index (``ring_id`` and ``active`` are read).
    members
        The stored memberships (``ring_id``, ``account``) of every stored ring: a retired ring
        keeps its last members.
    """
    ids = [ring.ring_id for ring in rings]
    if len(set(ids)) != len(ids):
        raise InputError("ring ids must be unique within one write")
    ids_stored, scores = np.asarray(index["ring_id"]).tolist(), np.asarray(index["score"])
    stored = dict(zip(ids_stored, np.asarray(index["active"]).tolist(), strict=True))
    before: dict[str, set[str]] = {}
    for ring_id, account in zip(
        members["ring_id"].tolist(), members["account"].tolist(), strict=True
    ):
        before.setdefault(ring_id, set()).add(account)
    rows: list[tuple[str, RingChange, int, float | None, list[str], list[str]]] = []
    for ring in rings:
        # A retired ring has no members as far as its history goes (the run that retired it
        # recorded them leaving): one that returns is joined by all its members again.
        active = bool(stored.get(ring.ring_id))
        now, then = set(ring.accounts), before.get(ring.ring_id, set()) if active else set()
        change = _change(ring.ring_id in stored, active, now, then)
        joined, left = sorted(now - then), sorted(then - now)
        rows.append((ring.ring_id, change, ring.size, float(ring.score), joined, left))
    found = set(ids)
    retired = sorted(
        ring_id for ring_id, active in stored.items() if active and ring_id not in found
    )
    score_of = dict(zip(ids_stored, scores.tolist(), strict=True))
    for ring_id in retired:
        last = sorted(before.get(ring_id, set()))
        rows.append((ring_id, RingChange.RETIRED, len(last), float(score_of[ring_id]), [], last))
    counts = {change: 0 for change in RingChange}
    for _, change, *_rest in rows:
        counts[change] += 1
    finished = run.finished_at or utc_now()
    run = dataclasses.replace(
        run,
        finished_at=finished,
        rings=len(rings),
        new=counts[RingChange.NEW],
        returned=counts[RingChange.RETURNED],
        grown=counts[RingChange.GROWN],
        shrunk=counts[RingChange.SHRUNK],
        retired=counts[RingChange.RETIRED],
    )
    appearances = pa.table(
        {
            "run_id": [run.run_id] * len(rows),
            "ring_id": [row[0] for row in rows],
            "change": [row[1].value for row in rows],
            "size": [row[2] for row in rows],
            "score": [row[3] for row in rows],
            "joined": [row[4] for row in rows],
            "left": [row[5] for row in rows],
        },
        schema=APPEARANCE_SCHEMA,
    )
    return RingWrite(run, ring_table(rings), member_table(rings), appearances, retired)


def _change(stored: bool, active: bool, now: set[str], then: set[str]) -> RingChange:
    if not stored:
        return RingChange.NEW
    if not active:
        return RingChange.RETURNED
    if len(now) != len(then):
        return RingChange.GROWN if len(now) > len(then) else RingChange.SHRUNK
    return RingChange.SAME if now == then else RingChange.CHANGED


def run_table(run: DetectionRun) -> pa.Table:
    """``run`` as one row of ``RUN_SCHEMA``."""
    row = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
    row["settings"] = json.dumps(run.settings, sort_keys=True, default=str)
    for name in ("started_at", "finished_at", "data_from", "data_to"):
        row[name] = naive_utc(row[name])
    return pa.Table.from_pylist([row], schema=RUN_SCHEMA)


def runs_from_rows(frame: pd.DataFrame) -> list[DetectionRun]:
    """Runs from ``RUN_SCHEMA`` rows, newest first."""
    runs = []
    for row in frame.to_dict("records"):
        counts = {name: int(row[name]) for name in RUN_SCHEMA.names[8:]}
        runs.append(
            DetectionRun(
                run_id=str(row["run_id"]),
                started_at=_required_time(row["started_at"]),
                finished_at=aware_utc(row["finished_at"]),
                settings=json.loads(str(row["settings"])),
                data_from=aware_utc(row["data_from"]),
                data_to=aware_utc(row["data_to"]),
                engine=str(row["engine"]),
                version=str(row["version"]),
                **counts,
            )
        )
    return sorted(runs, key=lambda run: (run.started_at, run.run_id), reverse=True)


def appearances_from_rows(frame: pd.DataFrame) -> list[RingAppearance]:
    """A ring's appearances from ``APPEARANCE_SCHEMA`` rows with ``time``, oldest first."""
    found = [_appearance(row) for row in frame.to_dict("records")]
    return sorted(found, key=lambda appearance: (appearance.time, appearance.run_id))


def _appearance(row: Mapping[Any, Any]) -> RingAppearance:
    return RingAppearance(
        run_id=str(row["run_id"]),
        time=_required_time(row["time"]),
        change=RingChange(str(row["change"])),
        size=int(row["size"]),
        score=None if pd.isna(row["score"]) else float(row["score"]),
        joined=tuple(str(a) for a in _listed(row["joined"])),
        left=tuple(str(a) for a in _listed(row["left"])),
    )


def alerts_from_rows(frame: pd.DataFrame) -> list[RingAlert]:
    """Alerts from ``APPEARANCE_SCHEMA`` rows with ``time``, newest first (ties: by id)."""
    found = []
    for row in frame.to_dict("records"):
        appearance = _appearance(row)
        ring_id = str(row["ring_id"])
        found.append(
            RingAlert(
                **dataclasses.asdict(appearance),
                ring_id=ring_id,
                alert_id=f"{appearance.run_id}:{ring_id}",
            )
        )
    return sorted(found, key=lambda alert: (alert.time, alert.alert_id), reverse=True)


# -- verdicts, notes, audit --------------------------------------------------------------------

#: Marks "leave the assignee as it is" where None means "nobody".
KEEP = object()


def decide_verdict(
    current: Verdict,
    *,
    ring_id: str,
    actor: str,
    time: datetime,
    status: RingStatus | None = None,
    assignee: str | object | None = KEEP,
    note: str | None = None,
) -> VerdictChange:
    """What one change writes, given the verdict it finds: the new verdict, the note added and
    an audit entry per field that changed. Nothing changes, and nothing is written, when the
    change asks for what is already there (and adds no note).

    Engines call it inside their transaction, with the verdict as stored then, so the audit
    records what really was replaced; it may be called again if the transaction is retried.
    """
    revision = current.revision + 1
    wanted = Verdict(
        status=current.status if status is None else status,
        assignee=current.assignee if assignee is KEEP else _optional_text(assignee),
        revision=revision,
    )
    audit = [
        AuditEntry(time, actor, ring_id, name, old, new, revision)
        for name, old, new in (
            ("status", current.status.value, wanted.status.value),
            ("assignee", current.assignee, wanted.assignee),
        )
        if old != new
    ]
    notes: tuple[Note, ...] = ()
    if note:
        notes = (Note(ring_id, time, actor, note, revision),)
        audit.append(AuditEntry(time, actor, ring_id, "note", None, note, revision))
    if not audit:
        return VerdictChange(current)
    return VerdictChange(wanted, notes, tuple(audit))


#: Who the audit trail says recorded a verdict kept from a store written before it existed.
EARLIER_ACTOR = "before the audit trail"


@dataclasses.dataclass(frozen=True)
class EarlierRings:
    """What a store written before ring history and separate verdicts becomes.

    Attributes
    ----------
    times
        ``ring_id`` and ``detected`` (tz-naive UTC): when each ring was last detected, its
        ``first_detected`` and ``last_seen`` from now on (the earlier runs were not recorded).
    verdicts
        ``ring_id`` and the change that records its status and note, for each ring that had
        either: a verdict, a note in the thread, audit entries by :data:`EARLIER_ACTOR` at the
        time the ring was last detected.
    """

    times: pa.Table
    verdicts: list[tuple[str, VerdictChange]]


def earlier_rings(rows: pd.DataFrame) -> EarlierRings:
    """The rings of a store written before ring history (``ring_id``, ``status``, ``note``,
    ``detected_at`` as ISO text), as they are kept now: nothing an investigator wrote is lost."""
    detected = pd.to_datetime(rows["detected_at"], utc=True, errors="coerce", format="ISO8601")
    detected = detected.fillna(pd.Timestamp(utc_now()))
    verdicts = []
    for ring_id, status, note, time in zip(
        rows["ring_id"], rows["status"], rows["note"], detected, strict=True
    ):
        change = decide_verdict(
            Verdict(), ring_id=str(ring_id), actor=EARLIER_ACTOR, time=time.to_pydatetime(),
            status=RingStatus(str(status)), note=checked_note(_text(note)),
        )  # fmt: skip
        if change.audit:
            verdicts.append((str(ring_id), change))
    times = pa.table(
        {
            "ring_id": pa.array(rows["ring_id"].astype(str).tolist(), pa.string()),
            "detected": pa.array(detected.dt.tz_convert(None).astype("datetime64[us]"), _TIME),
        }
    )
    return EarlierRings(times, verdicts)


def checked_name(value: str | None, what: str) -> str:
    """A person's name (an actor or an assignee): non-blank text, at most ``MAX_NAME`` long."""
    text = (value or "").strip()
    if not text:
        raise InputError(f"{what} must be a non-empty name")
    if len(text) > MAX_NAME:
        raise InputError(f"{what} is longer than {MAX_NAME} characters")
    return text


def checked_note(text: str | None) -> str | None:
    """A note's text, None when blank; at most ``MAX_NOTE`` characters."""
    note = (text or "").strip()
    if len(note) > MAX_NOTE:
        raise InputError(f"a note is longer than {MAX_NOTE} characters")
    return note or None


def verdict_from_row(row: Mapping[str, Any] | None) -> Verdict:
    """A stored verdict (``status``, ``assignee``, ``revision``); the default when none."""
    if row is None:
        return Verdict()
    return Verdict(RingStatus(str(row["status"])), _text(row["assignee"]), int(row["revision"]))


def notes_table(notes: Sequence[Note]) -> pa.Table:
    """Notes as ``NOTE_SCHEMA`` rows."""
    rows = [{**dataclasses.asdict(n), "time": naive_utc(n.time)} for n in notes]
    return pa.Table.from_pylist(rows, schema=NOTE_SCHEMA)


def audit_table(entries: Sequence[AuditEntry]) -> pa.Table:
    """Audit entries as ``AUDIT_SCHEMA`` rows."""
    rows = [{**dataclasses.asdict(e), "time": naive_utc(e.time)} for e in entries]
    return pa.Table.from_pylist(rows, schema=AUDIT_SCHEMA)


def notes_from_rows(frame: pd.DataFrame) -> list[Note]:
    """Notes from ``NOTE_SCHEMA`` rows, oldest first."""
    notes = [
        Note(
            ring_id=str(row["ring_id"]),
            time=_required_time(row["time"]),
            actor=str(row["actor"]),
            text=str(row["text"]),
            revision=int(row["revision"]),
        )
        for row in frame.to_dict("records")
    ]
    return sorted(notes, key=lambda n: (n.time, n.ring_id, n.revision))


def audit_from_rows(frame: pd.DataFrame) -> list[AuditEntry]:
    """Audit entries from ``AUDIT_SCHEMA`` rows, oldest first (fields in the order of
    ``AUDITED_FIELDS`` within one change)."""
    entries = [
        AuditEntry(
            time=_required_time(row["time"]),
            actor=str(row["actor"]),
            ring_id=str(row["ring_id"]),
            field=str(row["field"]),
            old=_text(row["old"]),
            new=_text(row["new"]),
            revision=int(row["revision"]),
        )
        for row in frame.to_dict("records")
    ]
    order = {name: position for position, name in enumerate(AUDITED_FIELDS)}
    return sorted(entries, key=lambda e: (e.time, e.ring_id, e.revision, order[e.field]))


def _required_time(value: Any) -> datetime:
    time = aware_utc(value)
    assert time is not None, "stored records always have a time"
    return time


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _listed(value: Any) -> list[Any]:
    return [] if value is None else list(value)
