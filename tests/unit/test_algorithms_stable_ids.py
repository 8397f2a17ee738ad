"""Stable ring ids: best-overlap matching against stored rings."""

from __future__ import annotations

from algorithms.stable_ids import assign_ring_ids, match_rings, membership_id
from graphfraud.settings import DetectionSettings

JACCARD = DetectionSettings().match_jaccard


def test_a_ring_that_mostly_persists_keeps_its_id() -> None:
    ids = assign_ring_ids(
        [["a", "b", "c", "d", "e"]], {"R-old": ["a", "b", "c", "d"]}, min_jaccard=JACCARD
    )
    assert ids == ["R-old"]


def test_a_ring_that_changed_too_much_gets_a_new_id() -> None:
    ids = assign_ring_ids(
        [["a", "e", "f", "g"]], {"R-old": ["a", "b", "c", "d"]}, min_jaccard=JACCARD
    )
    assert ids == [membership_id(["a", "e", "f", "g"])]


def test_each_stored_id_goes_to_one_new_ring_the_closest() -> None:
    old = {"R-old": ["a", "b", "c", "d"]}
    ids = assign_ring_ids([["a", "b", "c"], ["a", "b", "c", "d"]], old, min_jaccard=JACCARD)
    assert ids[1] == "R-old"
    assert ids[0] != "R-old"


def test_new_ids_are_derived_from_members_so_reruns_agree() -> None:
    assert assign_ring_ids([["b", "a", "c"]], {}, min_jaccard=JACCARD) == assign_ring_ids(
        [["c", "b", "a"]], {}, min_jaccard=JACCARD
    )


def test_a_derived_id_never_collides_with_a_stored_one() -> None:
    stale = membership_id(["a", "b", "c"])
    ids = assign_ring_ids([["a", "b", "c"]], {stale: ["x", "y", "z"]}, min_jaccard=JACCARD)
    assert ids[0] != stale


def test_ids_within_one_run_are_unique() -> None:
    ids = assign_ring_ids([["a", "b"], ["c", "d"], ["e", "f"]], {}, min_jaccard=JACCARD)
    assert len(set(ids)) == 3


def test_match_rings_reports_the_jaccard_of_each_pair() -> None:
    matches = match_rings([["a", "b", "c"]], [["b", "c", "d"]], min_jaccard=0.4)
    assert matches.to_dict("records") == [{"new": 0, "old": 0, "jaccard": 0.5}]
