"""What every store engine promises, whatever it runs on."""

from __future__ import annotations

import pandas as pd
import pytest

from graphfraud.errors import InputError, NotFound
from graphfraud.model import (
    EntityRef,
    Page,
    Ring,
    RingEvidence,
    RingFilter,
    RingMember,
    RingStatus,
    TypologyEvidence,
)
from graphfraud.store import GraphStore

A1, A2, A3, A4 = (EntityRef("Account", f"A{i}") for i in range(1, 5))
DEVICE = EntityRef("Device", "dev-1")
CARD = EntityRef("PaymentInstrument", "pi_abc")


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


def test_neighbourhood_rejects_bad_hops(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="hops"):
        loaded.neighbourhood(A1, hops=0)


def test_surroundings_of_a_set_are_the_links_touching_it(loaded: GraphStore) -> None:
    sub = loaded.surroundings([A1, A3])
    assert set(sub.nodes["key"]) == {"A1", "dev-1", "A3", "pi_abc"}
    assert sorted(sub.edges["src_key"]) == ["A1", "A3"]
    assert not sub.truncated


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
    assert got.status == RingStatus.NEW


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
    loaded.set_ring_status("R2", RingStatus.CONFIRMED)
    loaded.write_rings([ring("R3", ["A1", "A3"], score=2.0), ring("R4", ["A2"], score=6.0)])
    # R1 was dropped, R2 retired (labelled, not found again): neither is counted.
    assert loaded.count_rings() == 2
    assert loaded.count_rings(RingFilter(min_score=3.0)) == 1
    assert loaded.count_rings(RingFilter(account="A3")) == 1
    assert loaded.count_rings(RingFilter(status=RingStatus.CONFIRMED)) == 0


def test_rings_reject_unknown_sort(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="sort"):
        loaded.rings(RingFilter(), Page(sort="members; DROP TABLE rings"))


def test_status_and_note_are_recorded(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    updated = loaded.set_ring_status("R1", "confirmed", "same device farm as case 12")
    assert (updated.status, updated.note) == (RingStatus.CONFIRMED, "same device farm as case 12")
    assert [r.ring_id for r in loaded.rings(RingFilter(status=RingStatus.CONFIRMED)).rings] == [
        "R1"
    ]


def test_unknown_status_is_rejected(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    with pytest.raises(InputError, match="status"):
        loaded.set_ring_status("R1", "guilty")


def test_status_survives_a_rerun_that_keeps_the_ring(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    loaded.set_ring_status("R1", RingStatus.BENIGN, "household")
    loaded.write_rings([ring("R1", ["A1", "A2", "A3"], score=2.0)])
    again = loaded.ring("R1")
    assert (again.status, again.note, again.size) == (RingStatus.BENIGN, "household", 3)


def test_rerun_drops_unlabelled_rings_and_retires_labelled_ones(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"]), ring("R2", ["A3", "A4"])])
    loaded.set_ring_status("R2", RingStatus.CONFIRMED)
    loaded.write_rings([ring("R3", ["A1", "A3"])])
    assert [r.ring_id for r in loaded.rings().rings] == ["R3"]
    assert loaded.ring("R2").status == RingStatus.CONFIRMED
    with pytest.raises(NotFound):
        loaded.ring("R1")


def test_duplicate_ring_ids_are_rejected(loaded: GraphStore) -> None:
    with pytest.raises(InputError, match="unique"):
        loaded.write_rings([ring("R1", ["A1"]), ring("R1", ["A2"])])


def test_stats_count_by_kind(loaded: GraphStore) -> None:
    loaded.write_rings([ring("R1", ["A1", "A2"])])
    stats = loaded.stats()
    assert stats.links == {"PAYS_WITH": 2, "USES_DEVICE": 3}
    assert (stats.entity_total, stats.rings) == (7, 1)
