"""Properties of detection's building blocks on random inputs, against brute force where one exists.

Hypothesis runs derandomised in the suite (``tests/conftest.py``), so every run draws the same
cases; a longer randomised run is ``scripts/fuzz_api.sh``'s job for the API, not this file's.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from algorithms.hubs import decide_hubs, spelling_stems
from algorithms.scoring import densest_window
from algorithms.stable_ids import match_rings
from graphfraud.settings import DetectionSettings

DAY = np.timedelta64(1, "D")

events = st.lists(
    st.tuples(st.integers(0, 3), st.one_of(st.none(), st.integers(0, 60))), max_size=40
)


@given(events=events, width=st.integers(0, 20))
def test_densest_window_counts_what_brute_force_counts(
    events: list[tuple[int, int | None]], width: int
) -> None:
    groups = np.array([group for group, _ in events], dtype=np.int64)
    days = [day for _, day in events]
    times = np.array(
        [np.datetime64("2024-01-01") + day * DAY if day is not None else None for day in days],
        dtype="datetime64[s]",
    )
    got = densest_window(groups, times, window=width * DAY, n_groups=4)
    for group in range(4):
        mine = sorted(day for g, day in events if g == group and day is not None)
        # Every densest window can start at one of the group's own events.
        best = max((sum(start <= d <= start + width for d in mine) for start in mine), default=0)
        assert got[group] == best


rings = st.lists(
    st.lists(st.sampled_from("abcdefghijkl"), min_size=1, max_size=6, unique=True), max_size=6
)


@given(new=rings, old=rings, threshold=st.sampled_from([0.3, 0.5, 0.8]))
def test_ring_matching_is_one_to_one_and_above_the_threshold(
    new: list[list[str]], old: list[list[str]], threshold: float
) -> None:
    pairs = match_rings(new, old, min_jaccard=threshold)
    assert pairs["new"].is_unique
    assert pairs["old"].is_unique
    for n, o, jaccard in pairs.itertuples(index=False):
        a, b = set(new[n]), set(old[o])
        assert jaccard == len(a & b) / len(a | b) >= threshold


@given(old=rings)
def test_rings_unchanged_are_each_matched_to_themselves(old: list[list[str]]) -> None:
    distinct = list({frozenset(ring): ring for ring in old}.values())
    pairs = match_rings(distinct, distinct, min_jaccard=0.5)
    # Two distinct sets can also overlap by half, but each set's best match is itself.
    assert (pairs["new"] == pairs["old"]).all()
    assert len(pairs) == len(distinct)


spellings = st.text(alphabet=" -._/", max_size=3)


@given(
    key=st.text(alphabet="abcdefXYZ0123456789", min_size=1, max_size=12),
    noise=st.lists(spellings, min_size=13, max_size=13),
    upper=st.booleans(),
)
def test_a_devices_spellings_share_one_stem(key: str, noise: list[str], upper: bool) -> None:
    spelled = "".join(part + char for part, char in zip(noise, key, strict=False))
    spelled = spelled.upper() if upper else spelled
    stems = spelling_stems(pd.Series(["Device", "Device"]), pd.Series([key, spelled]))
    assert stems.iloc[0] == stems.iloc[1] == "Device " + key.lower()


@given(
    users=st.lists(st.integers(1, 60), min_size=2, max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_hub_decisions_do_not_depend_on_the_order_things_arrive_in(
    users: list[int], order: random.Random
) -> None:
    # Things of one kind used by 1-60 of 120 accounts (each thing's users drawn in a band).
    uses = pd.DataFrame(
        {
            "node": [(7 * t + u) % 120 for t, n in enumerate(users) for u in range(n)],
            "thing": [t for t, n in enumerate(users) for _ in range(n)],
        }
    ).drop_duplicates()
    keys = [f"{t} place street" for t in range(len(users))]
    things = pd.DataFrame({"kind": "Address", "key": keys})
    things["accounts"] = uses.groupby("thing").size()
    settings = DetectionSettings(hub_min_accounts=10)

    def hubs_by_key(things: pd.DataFrame, uses: pd.DataFrame) -> dict[str, bool]:
        stems = spelling_stems(things["kind"], things["key"])
        found = decide_hubs(uses, things, stems=stems, n_accounts=120, settings=settings)
        return dict(zip(things["key"], found["hub"], strict=True))

    moved = list(range(len(users)))
    order.shuffle(moved)
    position = {old: new for new, old in enumerate(moved)}
    shuffled_things = things.iloc[moved].reset_index(drop=True)
    shuffled_uses = uses.assign(thing=uses["thing"].map(position)).sample(frac=1.0, random_state=0)
    assert hubs_by_key(shuffled_things, shuffled_uses) == hubs_by_key(things, uses)
