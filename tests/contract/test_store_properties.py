"""Properties every engine keeps on random data (hypothesis, derandomised: a run is
reproducible): loading is idempotent and order-free, and the caching store answers as the store
it wraps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphfraud.model import LINK_COLUMNS, EntityRef, Page, Ring, RingFilter, RingMember, Subgraph
from graphfraud.store import open_store
from graphfraud.store.cached import CachedStore
from tests.contract.conftest import Opener

EPOCH = datetime(2026, 1, 1)
ACCOUNTS = [f"A{i}" for i in range(8)]
THINGS = [("Device", "USES_DEVICE"), ("Email", "HAS_EMAIL"), ("IP", "LOGS_IN_FROM")]

#: Fresh stores per example: a few dozen examples keep the suite quick on every engine.
PROPERTY = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def links(draw: st.DrawFn) -> pd.DataFrame:
    """Links of a small random graph: accounts to a few shared things and to each other,
    duplicates included (a frame may repeat a link, as exports do)."""
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        account = draw(st.sampled_from(ACCOUNTS))
        if draw(st.booleans()):
            kind, link = draw(st.sampled_from(THINGS))
            other = f"{kind.lower()}-{draw(st.integers(0, 4))}"
        else:
            kind, link, other = "Account", "TRANSACTS_WITH", draw(st.sampled_from(ACCOUNTS))
        first = EPOCH + timedelta(hours=draw(st.integers(0, 500)))
        last = first + timedelta(hours=draw(st.integers(0, 500)))
        amount = draw(st.one_of(st.none(), st.floats(0, 1000, allow_nan=False)))
        count = draw(st.integers(1, 5))
        rows.append(("Account", account, link, kind, other, first, last, count, amount))
    return pd.DataFrame(rows, columns=list(LINK_COLUMNS))


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns[:5]), ignore_index=True)


@settings(PROPERTY, max_examples=6)  # a Neo4j example takes seconds
@given(frame=links(), part=st.integers(0, 30), seed=st.integers(0, 2**16))
def test_loading_again_shuffled_or_in_part_changes_nothing(
    opener: Opener, frame: pd.DataFrame, part: int, seed: int
) -> None:
    # Duplicates within one frame add up; loading again keeps the larger figures (the merge
    # rules of the contract): so any part of a frame, in any order, adds nothing to it.
    store = opener.open(empty=True)
    store.upsert_links(frame)
    expected = _canonical(store.links()), _canonical(store.entities())
    store.upsert_links(frame.sample(frac=1, random_state=seed))
    store.upsert_links(frame.iloc[part:])
    pd.testing.assert_frame_equal(_canonical(store.links()), expected[0])
    pd.testing.assert_frame_equal(_canonical(store.entities()), expected[1])


@PROPERTY
@given(
    frame=links(),
    start=st.sampled_from([*ACCOUNTS, "device-0", "ip-1"]),
    hops=st.integers(1, 4),
    limit=st.integers(1, 12),
    rings=st.lists(
        st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=4, unique=True), max_size=5
    ),
)
def test_the_caching_store_answers_as_the_store_it_wraps(
    frame: pd.DataFrame, start: str, hops: int, limit: int, rings: list[list[str]]
) -> None:
    store = open_store("duckdb:///:memory:")
    store.upsert_links(frame)
    found = [
        Ring(f"R{i}", float(i % 3), "device_farm", [RingMember(a) for a in members])
        for i, members in enumerate(rings)
    ]
    store.write_rings(found)
    # Wrapping the very handle the test reads directly: one store, two ways of reading it.
    with CachedStore(store) as cached:
        cached.build()
        known = store.entities()
        refs = [EntityRef(k, v) for k, v in zip(known["kind"], known["key"], strict=True)]
        ref = next((r for r in refs if r.key == start), refs[0])
        other = refs[limit % len(refs)]
        for read in (
            lambda s: s.neighbourhood(ref, hops=hops, limit=limit),
            lambda s: s.path(ref, other, max_hops=hops),
            lambda s: s.surroundings(refs[:limit], limit=limit),
        ):
            assert _rows(read(cached)) == _rows(read(store))
        pd.testing.assert_frame_equal(
            cached.accounts_sharing(ref), store.accounts_sharing(ref), check_dtype=False
        )
        page = Page(limit=limit % 4 + 1, sort="size")
        for flt in (RingFilter(), RingFilter(account=start), RingFilter(min_size=2, min_score=1)):
            assert cached.rings(flt, page) == store.rings(flt, page)


def _rows(found: Subgraph | None) -> tuple[object, ...] | None:
    """A subgraph's nodes in order, its edges in any order, and whether it was cut."""
    if found is None:
        return None

    def values(frame: pd.DataFrame) -> list[tuple[object, ...]]:
        cells = frame.astype(object).where(frame.notna(), None)
        return [tuple(row) for row in cells.itertuples(index=False)]

    return values(found.nodes), sorted(values(found.edges), key=repr), found.truncated
