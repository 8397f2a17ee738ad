"""What every store engine promises, whatever it runs on."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from graphfraud.errors import InputError, NotFound
from graphfraud.model import (
    DetectionRun,
    EntityRef,
    Page,
    Ring,
    RingChange,
    RingEvidence,
    RingFilter,
    RingMember,
    RingStatus,
    TypologyEvidence,
)
from graphfraud.store import GraphStore
from tests.contract.conftest import Opener, Reopen

A1, A2, A3, A4 = (EntityRef("Account", f"A{i}") for i in range(1, 5))
DEVICE = EntityRef("Device", "dev-1")
CARD = EntityRef("PaymentInstrument", "pi_abc")
ANA, BEN = "Ana Lima", "Ben Okafor"


def link(
    src: str,
    kind: str,
    dst_kind: str,
    dst: str,
    *,
    count: int = 1,
    first: str = "2026-01-01",
    last: str = "2026-01-05",
    amount: float | None = None,
) -> dict[str, object]:
    return {
        "src_kind": "Account",
        "src_key": src,
        "kind": kind,
        "dst_kind": dst_kind,
        "dst_key": dst,
        "first_seen": first,
        "last_seen": last,
        "count": count,
        "amount": amount,
    }


def small_graph() -> pd.DataFrame:
    """A1 and A2 share a device; A2 and A3 share a card; A4 is alone with its own device."""
    return pd.DataFrame(
        [
            link("A1", "USES_DEVICE", "Device", "dev-1", count=3),
            link("A2", "USES_DEVICE", "Device", "dev-1"),
            link("A2", "PAYS_WITH", "PaymentInstrument", "pi_abc", amount=20.0),
            link("A3", "PAYS_WITH", "PaymentInstrument", "pi_abc", amount=5.0),
            link("A4", "USES_DEVICE", "Device", "dev-9"),
        ]
    )


def accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["Account"] * 4,
            "key": ["A1", "A2", "A3", "A4"],
            "display": [None] * 4,
            "created_at": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", None, None],
            "label": [None, "fraud", None, None],
        }
    )


@pytest.fixture
def loaded(store: GraphStore) -> GraphStore:
    store.upsert_entities(accounts())
    store.upsert_links(small_graph())
    return store


def ring(
    ring_id: str,
    members: list[str],
    score: float = 1.0,
    typology: str = "device_farm",
    status: RingStatus = RingStatus.NEW,
) -> Ring:
    return Ring(
        ring_id,
        score,
        typology,
        [RingMember(m) for m in members],
        evidence=RingEvidence(size=len(members), typology=TypologyEvidence(reasons=[ring_id])),
        status=status,
    )


def test_ensure_schema_is_idempotent(loaded: GraphStore) -> None:
    loaded.ensure_schema()
    loaded.ensure_schema()
    assert loaded.stats().link_total == 5


def test_upsert_returns_rows_written(store: GraphStore) -> None:
    assert store.upsert_entities(accounts()) == 4
    assert store.upsert_links(small_graph()) == 5


def test_link_endpoints_become_entities(loaded: GraphStore) -> None:
    assert loaded.stats().entities == {
        "Account": 4,
        "Device": 2,
        "PaymentInstrument": 1,
    }


def test_loading_the_same_data_twice_changes_nothing(loaded: GraphStore) -> None:
    before = loaded.links().sort_values(["src_key", "dst_key"], ignore_index=True)
    loaded.upsert_entities(accounts())
    loaded.upsert_links(small_graph())
    after = loaded.links().sort_values(["src_key", "dst_key"], ignore_index=True)
    pd.testing.assert_frame_equal(before, after)
    assert loaded.stats().entity_total == 7


def test_grown_export_widens_time_span_and_raises_count(loaded: GraphStore) -> None:
    loaded.upsert_links(
        pd.DataFrame(
            [
                link(
                    "A1",
                    "USES_DEVICE",
                    "Device",
                    "dev-1",
                    count=7,
                    first="2025-12-01",
                    last="2026-02-01",
                )
            ]
        )
    )
    row = loaded.links(kinds=["USES_DEVICE"]).set_index("src_key").loc["A1"]
    assert (row["count"], row["first_seen"], row["last_seen"]) == (
        7,
        pd.Timestamp("2025-12-01"),
        pd.Timestamp("2026-02-01"),
    )


def test_duplicate_rows_in_one_frame_are_aggregated(store: GraphStore) -> None:
    twice = pd.DataFrame([link("A1", "USES_DEVICE", "Device", "d", count=2)] * 2)
    assert store.upsert_links(twice) == 1
    assert store.links()["count"].tolist() == [4]


def test_entity_merge_keeps_known_values(loaded: GraphStore) -> None:
    loaded.upsert_entities(pd.DataFrame({"kind": ["Account"], "key": ["A2"]}))
    row = loaded.entity(A2)
    assert row["label"] == "fraud"
    assert row["created_at"] == pd.Timestamp("2026-01-02")


def test_links_filter_by_kind_and_time(loaded: GraphStore) -> None:
    assert set(loaded.links(kinds=["PAYS_WITH"])["src_key"]) == {"A2", "A3"}
    assert loaded.links(since="2026-02-01").empty
    assert len(loaded.links(since="2026-01-03")) == 5


def test_links_carry_amounts(loaded: GraphStore) -> None:
    paid = loaded.links(kinds=["PAYS_WITH"]).set_index("src_key")["amount"]
    assert paid.to_dict() == {"A2": 20.0, "A3": 5.0}


def test_frame_missing_a_column_is_rejected(store: GraphStore) -> None:
    with pytest.raises(InputError, match="lacks columns"):
        store.upsert_links(small_graph().drop(columns=["dst_key"]))


def test_empty_key_is_rejected_with_its_row(store: GraphStore) -> None:
    bad = small_graph()
    bad.loc[3, "src_key"] = ""
    with pytest.raises(InputError, match="row 3"):
        store.upsert_links(bad)


def test_entities_by_kind_and_keys(loaded: GraphStore) -> None:
    found = loaded.entities(kind="Account", keys=["A1", "A3"])
    assert sorted(found["key"]) == ["A1", "A3"]


def test_unknown_entity_is_not_found(loaded: GraphStore) -> None:
    with pytest.raises(NotFound, match="A99"):
        loaded.entity(EntityRef("Account", "A99"))


def test_neighbourhood_one_hop(loaded: GraphStore) -> None:
    sub = loaded.neighbourhood(A1, hops=1)
    assert set(sub.nodes["key"]) == {"A1", "dev-1"}
    assert len(sub.edges) == 1


def test_neighbourhood_two_hops_reaches_device_sharers(loaded: GraphStore) -> None:
    sub = loaded.neighbourhood(A1, hops=2)
    assert set(sub.nodes["key"]) == {"A1", "dev-1", "A2"}
    assert len(sub.edges) == 2


def test_neighbourhood_limit_truncates(loaded: GraphStore) -> None:
    sub = loaded.neighbourhood(A2, hops=3, limit=2)
    assert len(sub.nodes) == 2
    assert sub.truncated


def test_truncation_keeps_the_first_nodes_of_a_level_in_kind_and_key_order(
    loaded: GraphStore,
) -> None:
    # A2's first level is dev-1 and pi_abc: a Device sorts before a PaymentInstrument.
    sub = loaded.neighbourhood(A2, hops=2, limit=2)
    assert sub.nodes["key"].tolist() == ["A2", "dev-1"]
    assert sub.edges[["src_key", "dst_key"]].values.tolist() == [["A2", "dev-1"]]
    wider = loaded.neighbourhood(A2, hops=2, limit=4)
    assert wider.nodes["key"].tolist() == ["A1", "A2", "dev-1", "pi_abc"]


def test_neighbourhood_rejects_bad_hops(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="hops"):
        loaded.neighbourhood(A1, hops=0)


def test_surroundings_of_a_set_are_the_links_touching_it(loaded: GraphStore) -> None:
    sub = loaded.surroundings([A1, A3])
    assert set(sub.nodes["key"]) == {"A1", "dev-1", "A3", "pi_abc"}
    assert sorted(sub.edges["src_key"]) == ["A1", "A3"]
    assert not sub.truncated


def test_links_touching_a_set_are_every_link_with_an_end_in_it(loaded: GraphStore) -> None:
    links = loaded.links_touching([DEVICE, A3, EntityRef("Device", "no-such-device")])
    ends = sorted(zip(links["src_key"], links["kind"], links["dst_key"], strict=True))
    every = loaded.links()
    expected = sorted(
        (src, kind, dst)
        for src, kind, dst in zip(every["src_key"], every["kind"], every["dst_key"], strict=True)
        if "dev-1" in (src, dst) or "A3" in (src, dst)
    )
    assert ends == expected
    assert ("A1", "USES_DEVICE", "dev-1") in ends
    assert list(links.columns) == list(every.columns)


def test_surroundings_limit_keeps_the_given_entities_first(loaded: GraphStore) -> None:
    sub = loaded.surroundings([A2, A4], limit=2)
    assert set(sub.nodes["key"]) == {"A2", "A4"}
    assert sub.edges.empty
    assert sub.truncated


def test_path_through_shared_identifiers_in_order(loaded: GraphStore) -> None:
    sub = loaded.path(A1, A3, max_hops=4)
    assert sub is not None
    assert sub.nodes["key"].tolist() == ["A1", "dev-1", "A2", "pi_abc", "A3"]
    assert len(sub.edges) == 4


def test_no_path_between_unlinked_accounts(loaded: GraphStore) -> None:
    assert loaded.path(A1, A4, max_hops=6) is None


def test_path_longer_than_allowed_is_none(loaded: GraphStore) -> None:
    assert loaded.path(A1, A3, max_hops=3) is None


def test_path_avoids_the_entities_it_is_told_to(loaded: GraphStore) -> None:
    loaded.upsert_links(
        pd.DataFrame(
            [
                link("A1", "LOGS_IN_FROM", "IP", "9.9.9.9"),
                link("A3", "LOGS_IN_FROM", "IP", "9.9.9.9"),
            ]
        )
    )
    shortest = loaded.path(A1, A3, max_hops=4)
    assert shortest is not None
    assert shortest.nodes["key"].tolist() == ["A1", "9.9.9.9", "A3"]
    around = loaded.path(A1, A3, max_hops=4, avoid=[EntityRef("IP", "9.9.9.9")])
    assert around is not None
    assert around.nodes["key"].tolist() == ["A1", "dev-1", "A2", "pi_abc", "A3"]
    assert loaded.path(A1, A3, max_hops=4, avoid=[DEVICE, EntityRef("IP", "9.9.9.9")]) is None


def test_path_to_unknown_account_is_not_found(loaded: GraphStore) -> None:
    with pytest.raises(NotFound):
        loaded.path(A1, EntityRef("Account", "nope"))


def test_accounts_sharing_an_identifier(loaded: GraphStore) -> None:
    sharing = loaded.accounts_sharing(CARD)
    assert sharing["account"].tolist() == ["A2", "A3"]
    assert set(sharing["link"]) == {"PAYS_WITH"}
    assert sharing.set_index("account").loc["A2", "label"] == "fraud"


def test_rings_round_trip_with_members_and_evidence(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"], score=3.5)])
    got = loaded.ring("R1")
    assert (got.score, got.typology, sorted(got.accounts)) == (3.5, "device_farm", ["A1", "A2"])
    assert got.evidence == RingEvidence(size=2, typology=TypologyEvidence(reasons=["R1"]))
    assert (got.status, got.note, got.assignee, got.active) == (RingStatus.NEW, "", None, True)


def test_unknown_ring_is_not_found(loaded: GraphStore) -> None:
    with pytest.raises(NotFound, match="R404"):
        loaded.ring("R404")


def test_rings_filter_sort_and_page(loaded: GraphStore) -> None:
    loaded.write_rings(
        [
            ring("R1", ["A1", "A2"], score=1.0),
            ring("R2", ["A2", "A3", "A4"], score=5.0, typology="payment_sharing"),
            ring("R3", ["A3", "A4"], score=3.0),
        ]
    )
    page = loaded.rings(RingFilter(), Page(limit=2))
    assert ([r.ring_id for r in page.rings], page.total) == (["R2", "R3"], 3)
    assert [r.ring_id for r in loaded.rings(RingFilter(), Page(offset=2)).rings] == ["R1"]
    assert [r.ring_id for r in loaded.rings(RingFilter(min_score=2.0)).rings] == ["R2", "R3"]
    assert [r.ring_id for r in loaded.rings(RingFilter(typology="payment_sharing")).rings] == ["R2"]
    assert [r.ring_id for r in loaded.rings(RingFilter(min_size=3)).rings] == ["R2"]
    assert [r.ring_id for r in loaded.rings(RingFilter(account="A1")).rings] == ["R1"]
    ascending = loaded.rings(RingFilter(), Page(sort="size", descending=False))
    assert [r.ring_id for r in ascending.rings] == ["R1", "R3", "R2"]


def test_count_rings_counts_the_active_rings_matching(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"], score=1.0), ring("R2", ["A3", "A4"], score=4.0)])
    loaded.set_ring_status("R2", RingStatus.CONFIRMED, actor=ANA)
    loaded.write_rings([ring("R3", ["A1", "A3"], score=2.0), ring("R4", ["A2"], score=6.0)])
    # R1 and R2 were retired (not found again): neither is counted.
    assert loaded.count_rings() == 2
    assert loaded.count_rings(RingFilter(min_score=3.0)) == 1
    assert loaded.count_rings(RingFilter(account="A3")) == 1
    assert loaded.count_rings(RingFilter(status=RingStatus.CONFIRMED)) == 0
    assert loaded.count_rings(RingFilter(status=RingStatus.CONFIRMED, active=False)) == 1


def test_rings_reject_unknown_sort(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="sort"):
        loaded.rings(RingFilter(), Page(sort="members; DROP TABLE rings"))


def test_status_and_note_are_recorded(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    updated = loaded.set_ring_status(
        "R1", "confirmed", actor=ANA, note="same device farm as case 12"
    )
    assert (updated.status, updated.note) == (RingStatus.CONFIRMED, "same device farm as case 12")
    assert [r.ring_id for r in loaded.rings(RingFilter(status=RingStatus.CONFIRMED)).rings] == [
        "R1"
    ]


def test_unknown_status_is_rejected(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    with pytest.raises(InputError, match="status"):
        loaded.set_ring_status("R1", "guilty", actor=ANA)


def test_status_survives_a_rerun_that_keeps_the_ring(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.set_ring_status("R1", RingStatus.BENIGN, actor=ANA, note="household")
    loaded.write_rings([ring("R1", ["A1", "A2", "A3"], score=2.0)])
    again = loaded.ring("R1")
    assert (again.status, again.note, again.size) == (RingStatus.BENIGN, "household", 3)


def test_detection_never_writes_a_verdict(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.set_ring_status("R1", RingStatus.CONFIRMED, actor=ANA, note="checked")
    carrying = ring("R1", ["A1", "A2"], status=RingStatus.BENIGN)
    carrying.note, carrying.assignee = "from detection", "someone"
    loaded.write_rings([carrying])
    again = loaded.ring("R1")
    assert (again.status, again.note, again.assignee) == (RingStatus.CONFIRMED, "checked", None)
    assert [e.field for e in loaded.audit(ring_id="R1")] == ["status", "note"]


def test_rerun_retires_the_rings_it_does_not_find(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"]), ring("R2", ["A3", "A4"])])
    loaded.set_ring_status("R2", RingStatus.CONFIRMED, actor=ANA)
    loaded.write_rings([ring("R3", ["A1", "A3"])])
    assert [r.ring_id for r in loaded.rings().rings] == ["R3"]
    assert loaded.ring("R2").status == RingStatus.CONFIRMED
    retired = loaded.rings(RingFilter(active=False), Page(sort="ring_id", descending=False))
    assert [(r.ring_id, r.active, sorted(r.accounts)) for r in retired.rings] == [
        ("R1", False, ["A1", "A2"]),
        ("R2", False, ["A3", "A4"]),
    ]


# -- verdicts: notes, assignees and the audit trail ------------------------------------------


def test_notes_are_a_thread_a_status_change_adds_to(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.set_ring_status("R1", RingStatus.UNDER_REVIEW, actor=ANA, note="same farm as case 12")
    loaded.set_ring_status("R1", RingStatus.BENIGN, actor=BEN, note="a family household")
    loaded.add_note("R1", "closed after a call with the seller", actor=ANA)
    thread = loaded.notes("R1")
    assert [(n.actor, n.text) for n in thread] == [
        (ANA, "same farm as case 12"),
        (BEN, "a family household"),
        (ANA, "closed after a call with the seller"),
    ]
    assert loaded.ring("R1").note == "closed after a call with the seller"
    assert all(n.time.utcoffset() == timedelta(0) for n in thread)


def test_every_change_writes_one_audit_entry_per_field(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"]), ring("R2", ["A3", "A4"])])
    loaded.set_ring_status("R1", RingStatus.CONFIRMED, actor=ANA, note="checked the devices")
    loaded.assign_ring("R1", BEN, actor=ANA)
    loaded.set_ring_status("R1", RingStatus.BENIGN, actor=BEN)
    loaded.set_ring_status("R1", RingStatus.BENIGN, actor=BEN)  # nothing changes, nothing logged
    loaded.assign_ring("R2", ANA, actor=ANA)
    trail = [(e.actor, e.ring_id, e.field, e.old, e.new) for e in loaded.audit(ring_id="R1")]
    assert trail == [
        (ANA, "R1", "status", "new", "confirmed"),
        (ANA, "R1", "note", None, "checked the devices"),
        (ANA, "R1", "assignee", None, BEN),
        (BEN, "R1", "status", "confirmed", "benign"),
    ]
    assert len(loaded.audit()) == 5
    assert all(e.time.utcoffset() == timedelta(0) for e in loaded.audit())


def test_audit_between_times(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.set_ring_status("R1", RingStatus.CONFIRMED, actor=ANA)
    middle = datetime.now(UTC)
    loaded.assign_ring("R1", BEN, actor=ANA)
    assert [e.field for e in loaded.audit(until=middle)] == ["status"]
    assert [e.field for e in loaded.audit(since=middle)] == ["assignee"]
    assert loaded.audit(since=middle, until=middle) == []


def test_assignee_can_be_set_changed_and_cleared(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"]), ring("R2", ["A3", "A4"])])
    assert loaded.assign_ring("R1", ANA, actor=BEN).assignee == ANA
    loaded.assign_ring("R1", BEN, actor=BEN)
    assert [r.ring_id for r in loaded.rings(RingFilter(assignee=BEN)).rings] == ["R1"]
    assert loaded.assign_ring("R1", None, actor=BEN).assignee is None
    assert [(e.old, e.new) for e in loaded.audit(ring_id="R1")] == [
        (None, ANA),
        (ANA, BEN),
        (BEN, None),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.add_note("R1", "  ", actor=ANA), "note must have some text"),
        (lambda s: s.add_note("R1", "x" * 4001, actor=ANA), "longer than 4000"),
        (lambda s: s.set_ring_status("R1", RingStatus.BENIGN, actor=" "), "actor"),
        (lambda s: s.assign_ring("R1", "y" * 201, actor=ANA), "assignee is longer"),
    ],
    ids=["blank-note", "long-note", "blank-actor", "long-assignee"],
)
def test_unusable_verdict_input_is_rejected(
    loaded: GraphStore, change: Callable[[GraphStore], object], message: str
) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    with pytest.raises(InputError, match=message):
        change(loaded)
    assert loaded.audit() == []


def test_verdicts_of_unknown_rings_are_not_found(loaded: GraphStore) -> None:
    for change in (
        lambda: loaded.set_ring_status("R404", RingStatus.BENIGN, actor=ANA),
        lambda: loaded.assign_ring("R404", ANA, actor=ANA),
        lambda: loaded.add_note("R404", "hello", actor=ANA),
        lambda: loaded.notes("R404"),
        lambda: loaded.audit(ring_id="R404"),
        lambda: loaded.ring_history("R404"),
    ):
        with pytest.raises(NotFound, match="R404"):
            change()


def test_concurrent_verdict_changes_are_all_recorded(loaded: GraphStore, opener: Opener) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    # Four investigators at once, three changes each. A DuckDB handle serves one thread: each
    # gets its own there; the other stores are shared between threads.
    shared = opener.engine != "duckdb"
    handles = [loaded] * 4 if shared else [opener.open(empty=False) for _ in range(4)]
    statuses = [RingStatus.UNDER_REVIEW, RingStatus.CONFIRMED, RingStatus.BENIGN]

    def investigate(who: int) -> None:
        for step in range(3):
            handles[who].set_ring_status(
                "R1", statuses[(who + step) % 3], actor=f"investigator {who}", note=f"{who}.{step}"
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(investigate, range(4)))
    expected = sorted(f"{who}.{step}" for who in range(4) for step in range(3))
    assert sorted(n.text for n in loaded.notes("R1")) == expected
    trail = [e for e in loaded.audit(ring_id="R1") if e.field == "status"]
    # Each change saw the verdict the one before it wrote: the trail is one unbroken chain.
    assert trail[0].old == "new"
    assert all(later.old == earlier.new for earlier, later in itertools.pairwise(trail))
    assert loaded.ring("R1").status == RingStatus(trail[-1].new)


# -- ring history and detection runs ---------------------------------------------------------


def test_a_run_is_recorded_with_what_it_changed(loaded: GraphStore) -> None:
    first = loaded.write_rings(
        [ring("R1", ["A1", "A2"]), ring("R2", ["A2", "A3"]), ring("R3", ["A3", "A4"])],
        run=DetectionRun(
            "run-1", started_at=datetime(2026, 3, 1, 9, tzinfo=UTC), settings={"hub_cap": 100},
            data_from=datetime(2026, 1, 1, tzinfo=UTC), data_to=datetime(2026, 2, 28, tzinfo=UTC),
            engine="igraph", version="0.1.0", accounts=4, candidates=3,
        ),
    )  # fmt: skip
    second = loaded.write_rings(
        [ring("R1", ["A1", "A2", "A3"]), ring("R2", ["A2"]), ring("R4", ["A1", "A4"])]
    )
    assert (first.rings, first.new, first.retired) == (3, 3, 0)
    changed = (second.rings, second.new, second.grown, second.shrunk, second.retired)
    assert changed == (3, 1, 1, 1, 1)
    assert [run.run_id for run in loaded.runs()] == [second.run_id, "run-1"]
    stored = loaded.runs()[1]
    assert stored == first
    assert (stored.settings, stored.engine, stored.accounts) == ({"hub_cap": 100}, "igraph", 4)
    assert stored.data_to == datetime(2026, 2, 28, tzinfo=UTC)


def test_a_ring_keeps_when_it_was_first_detected(loaded: GraphStore) -> None:
    first = loaded.write_rings([ring("R1", ["A1", "A2"])])
    second = loaded.write_rings([ring("R1", ["A1", "A2", "A3"])])
    again = loaded.ring("R1")
    assert (again.first_detected, again.last_seen) == (first.finished_at, second.finished_at)
    assert first.finished_at is not None
    assert second.finished_at is not None
    assert first.finished_at < second.finished_at
    listed = loaded.ring_index()
    assert listed.loc[0, "first_detected"] == first.finished_at


def test_a_rings_history_says_who_joined_and_left_in_each_run(loaded: GraphStore) -> None:
    runs = [
        loaded.write_rings([ring("R1", ["A1", "A2"])]),
        loaded.write_rings([ring("R1", ["A1", "A2", "A3"])]),
        loaded.write_rings([ring("R1", ["A2", "A3"], score=2.0)]),
        loaded.write_rings([ring("R1", ["A2", "A3"], score=2.0)]),
        loaded.write_rings([ring("R2", ["A1", "A4"])]),
        loaded.write_rings([ring("R1", ["A3", "A4"])]),
    ]
    history = loaded.ring_history("R1")
    steps = [(a.run_id, a.change, a.size, a.joined, a.left) for a in history.appearances]
    assert steps == [
        (runs[0].run_id, RingChange.NEW, 2, ("A1", "A2"), ()),
        (runs[1].run_id, RingChange.GROWN, 3, ("A3",), ()),
        (runs[2].run_id, RingChange.SHRUNK, 2, (), ("A1",)),
        (runs[3].run_id, RingChange.SAME, 2, (), ()),
        (runs[4].run_id, RingChange.RETIRED, 2, (), ("A2", "A3")),
        (runs[5].run_id, RingChange.RETURNED, 2, ("A3", "A4"), ()),
    ]
    assert [a.time for a in history.appearances] == [run.finished_at for run in runs]
    # Replaying who joined and who left gives the members of every run.
    members: set[str] = set()
    for appearance in history.appearances:
        members = (members | set(appearance.joined)) - set(appearance.left)
    assert members == {"A3", "A4"}
    assert (history.first_detected, history.last_seen, history.active) == (
        runs[0].finished_at,
        runs[5].finished_at,
        True,
    )


def test_a_retired_ring_keeps_its_last_sighting(loaded: GraphStore) -> None:
    seen = loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.write_rings([ring("R2", ["A3", "A4"])])
    retired = loaded.ring("R1")
    assert (retired.active, retired.last_seen, retired.first_detected) == (
        False,
        seen.finished_at,
        seen.finished_at,
    )


def test_history_verdicts_and_runs_survive_a_restart(loaded: GraphStore, reopen: Reopen) -> None:
    run = loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.set_ring_status("R1", RingStatus.CONFIRMED, actor=ANA, note="checked")
    loaded.assign_ring("R1", BEN, actor=ANA)
    before = (loaded.ring("R1"), loaded.ring_history("R1"), loaded.notes("R1"), loaded.audit())
    again = reopen()
    assert again.runs() == [run]
    assert (again.ring("R1"), again.ring_history("R1"), again.notes("R1"), again.audit()) == before


def test_ring_listings_sort_by_when_rings_were_found(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R2", ["A1", "A2"])])
    loaded.write_rings([ring("R2", ["A1", "A2"]), ring("R1", ["A3", "A4"])])
    oldest = loaded.rings(page=Page(sort="first_detected", descending=False))
    assert [r.ring_id for r in oldest.rings] == ["R2", "R1"]


def test_duplicate_ring_ids_are_rejected(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="unique"):
        loaded.write_rings([ring("R1", ["A1"]), ring("R1", ["A2"])])


def test_stats_count_by_kind(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    stats = loaded.stats()
    assert stats.links == {"PAYS_WITH": 2, "USES_DEVICE": 3}
    assert (stats.entity_total, stats.rings) == (7, 1)


def _risk_rows(accounts: list[str], risk: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": accounts,
            "risk": risk,
            "score": risk,
            "known_bad": [r == 1.0 for r in risk],
            "nearest": [accounts[0] if r > 0 else None for r in risk],
            "hops": [i if r > 0 else -1 for i, r in enumerate(risk)],
            "via": [accounts[i - 1] if i > 0 and r > 0 else None for i, r in enumerate(risk)],
        }
    )


def _hub_rows(keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": "IP",
            "key": keys,
            "link": "LOGS_IN_FROM",
            "accounts": [300 + i for i in range(len(keys))],
            "group_accounts": [300 + i for i in range(len(keys))],
            "fence": 40.0,
            "cohesion": 0.05,
        }
    )


def test_a_store_keeps_the_risk_and_hubs_of_the_latest_run(loaded: GraphStore) -> None:
    assert loaded.scores_run() is None
    loaded.write_scores(
        _risk_rows(["A1", "A2", "A3"], [1.0, 0.5, 0.0]), _hub_rows(["9.9.9.9"]), run_id="r1"
    )
    risk = loaded.risk()
    assert risk["account"].tolist() == ["A1", "A2", "A3"]
    assert risk.loc[1, ["nearest", "hops", "via"]].tolist() == ["A1", 1, "A1"]
    assert risk.loc[2, "nearest"] is None or pd.isna(risk.loc[2, "nearest"])
    assert bool(risk.loc[0, "known_bad"])
    assert not bool(risk.loc[1, "known_bad"])
    assert loaded.risk(accounts=["A2", "nobody"])["account"].tolist() == ["A2"]
    assert loaded.hubs()[["kind", "key", "accounts"]].values.tolist() == [["IP", "9.9.9.9", 300]]
    assert loaded.scores_run() == "r1"


def test_a_later_run_replaces_risk_and_hubs_whole(loaded: GraphStore) -> None:
    loaded.write_scores(_risk_rows(["A1", "A2"], [1.0, 0.5]), _hub_rows(["1.1.1.1"]), run_id="r1")
    loaded.write_scores(_risk_rows(["A3"], [1.0]), _hub_rows(["2.2.2.2", "3.3.3.3"]), run_id="r2")
    assert loaded.risk()["account"].tolist() == ["A3"]
    assert loaded.hubs()["key"].tolist() == ["3.3.3.3", "2.2.2.2"]  # most used first
    assert loaded.scores_run() == "r2"


def test_risk_with_a_missing_column_is_rejected(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="via"):
        loaded.write_scores(
            _risk_rows(["A1"], [1.0]).drop(columns="via"), _hub_rows([]), run_id="r1"
        )


def test_degrees_count_the_links_touching_each_entity(loaded: GraphStore) -> None:
    nowhere = EntityRef("Device", "nowhere")
    assert loaded.degrees([DEVICE, CARD, A2, nowhere]) == [2, 2, 2, 0]


# -- alerts: what runs did to rings that is worth telling -----------------------------------


def test_alerts_list_new_and_grown_rings_newest_first(loaded: GraphStore) -> None:
    first = loaded.write_rings([ring("R1", ["A1", "A2"]), ring("R2", ["A3", "A4"])])
    second = loaded.write_rings([ring("R1", ["A1", "A2", "A3"]), ring("R2", ["A4"])])
    third = loaded.write_rings([ring("R1", ["A1", "A2", "A3"])])
    alerts = loaded.ring_alerts()
    listed = [(a.run_id, a.ring_id, a.change, a.joined) for a in alerts]
    assert listed == [
        (second.run_id, "R1", RingChange.GROWN, ("A3",)),
        (first.run_id, "R2", RingChange.NEW, ("A3", "A4")),
        (first.run_id, "R1", RingChange.NEW, ("A1", "A2")),
    ]
    assert alerts[0].alert_id == f"{second.run_id}:R1"
    assert alerts[0].time == second.finished_at
    assert third.retired == 1  # retiring R2 is no alert


def test_alerts_since_a_time_are_those_of_later_runs(loaded: GraphStore) -> None:
    first = loaded.write_rings([ring("R1", ["A1", "A2"])])
    second = loaded.write_rings([ring("R1", ["A1", "A2"]), ring("R2", ["A3", "A4"])])
    assert first.finished_at is not None
    later = loaded.ring_alerts(since=first.finished_at)
    assert [(a.run_id, a.ring_id) for a in later] == [(second.run_id, "R2")]
    assert loaded.ring_alerts(since=second.finished_at) == []
