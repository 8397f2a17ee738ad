"""The rules of ring history and of verdict changes, as pure functions over records."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from graphfraud.errors import InputError
from graphfraud.model import DetectionRun, Ring, RingChange, RingMember, RingStatus, Verdict
from graphfraud.store.records import KEEP, decide_verdict, plan_ring_write

TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def ring(ring_id: str, *members: str) -> Ring:
    return Ring(ring_id, 1.0, "device_farm", [RingMember(m) for m in members])


def stored(*rings: tuple[str, bool, list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stored ring index (ring_id, score, active) and memberships, as engines return them."""
    index = pd.DataFrame(
        {"ring_id": [r[0] for r in rings], "score": 1.0, "active": [r[1] for r in rings]}
    )
    members = pd.DataFrame(
        [(ring_id, account) for ring_id, _, accounts in rings for account in accounts],
        columns=["ring_id", "account"],
    )
    return index, members


def test_a_run_is_planned_against_the_stored_memberships() -> None:
    index, members = stored(
        ("R1", True, ["a", "b"]), ("R2", True, ["c", "d"]), ("R3", True, ["e"]),
        ("R4", False, ["f", "g"]), ("R5", True, ["h", "i"]),
    )  # fmt: skip
    found = [ring("R1", "a", "b", "x"), ring("R2", "c"), ring("R4", "g"), ring("R5", "h", "j")]
    found.append(ring("R6", "y", "z"))
    plan = plan_ring_write(found, DetectionRun("run", TIME, finished_at=TIME), index, members)
    changes = plan.appearances.to_pylist()
    assert [(c["ring_id"], c["change"], c["joined"], c["left"]) for c in changes] == [
        ("R1", RingChange.GROWN, ["x"], []),
        ("R2", RingChange.SHRUNK, [], ["d"]),
        ("R4", RingChange.RETURNED, ["g"], []),
        ("R5", RingChange.CHANGED, ["j"], ["i"]),
        ("R6", RingChange.NEW, ["y", "z"], []),
        ("R3", RingChange.RETIRED, [], ["e"]),
    ]
    run = plan.run
    assert (run.rings, run.new, run.returned, run.grown, run.shrunk, run.retired) == (
        5, 1, 1, 1, 1, 1,
    )  # fmt: skip
    assert plan.retired == ["R3"]
    assert plan.time == datetime(2026, 3, 1, 9, 30)


def test_a_run_without_a_finish_time_finishes_when_planned() -> None:
    index, members = stored()
    plan = plan_ring_write([ring("R1", "a")], DetectionRun("run", TIME), index, members)
    assert plan.run.finished_at is not None
    assert plan.run.finished_at >= TIME


def test_a_run_may_not_find_one_ring_twice() -> None:
    index, members = stored()
    with pytest.raises(InputError, match="unique"):
        plan_ring_write([ring("R1", "a"), ring("R1", "b")], DetectionRun("r", TIME), index, members)


def test_a_verdict_change_records_each_field_it_changes() -> None:
    current = Verdict(RingStatus.UNDER_REVIEW, "Ana", revision=4)
    change = decide_verdict(
        current, ring_id="R1", actor="Ben", time=TIME, status=RingStatus.CONFIRMED,
        assignee="Ben", note="checked",
    )  # fmt: skip
    assert change.verdict == Verdict(RingStatus.CONFIRMED, "Ben", revision=5)
    assert [(e.field, e.old, e.new, e.revision) for e in change.audit] == [
        ("status", "under_review", "confirmed", 5),
        ("assignee", "Ana", "Ben", 5),
        ("note", None, "checked", 5),
    ]
    assert [(n.text, n.actor, n.revision) for n in change.notes] == [("checked", "Ben", 5)]


def test_a_change_to_what_is_there_writes_nothing() -> None:
    current = Verdict(RingStatus.BENIGN, None, revision=2)
    for status, assignee in ((RingStatus.BENIGN, KEEP), (None, None)):
        change = decide_verdict(
            current, ring_id="R1", actor="Ben", time=TIME, status=status, assignee=assignee
        )
        assert (change.verdict, change.audit, change.notes) == (current, (), ())
