"""Ring listing at the scale of a million-account store: every filter and sort in the store's
base class, over a ring index the engine returns.

Writes ``--rings`` rings (13,000 by default: what detection finds in a generated marketplace of
a million accounts) of 3 to 40 members drawn from ``--accounts`` accounts, in three runs, so
some are retired and some carry verdicts; then times, per store (DuckDB, the caching store over
it, and Neo4j when ``--neo4j URL`` is given):

- listings: the default page, filtered by score, status, size, typology and assignee, sorted
  each way, a deep page, an account's rings, and a count;
- the baseline in the same run: reading one ring by id (one indexed lookup), so the ratio says
  how many point reads a listing costs.

Usage::

    python3 benchmarks/ring_listing.py [--rings 13000] [--accounts 1000000] [--repeat 20]
                                       [--neo4j neo4j://127.0.0.1:7687 --password secret]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import neo4j
import numpy as np
from pydantic import SecretStr

from graphfraud.model import TYPOLOGIES, Page, Ring, RingFilter, RingMember, RingStatus
from graphfraud.settings import Settings
from graphfraud.store import GraphStore, cypher, open_store
from graphfraud.store.cached import CachedStore

TARGET_MS = 50.0


def made_rings(count: int, accounts: int, *, seed: int, run: int) -> list[Ring]:
    """``count`` rings; each run keeps nine in ten of the previous run's ids."""
    rng = np.random.default_rng(seed)
    rings = []
    for i in range(count):
        ring_id = f"R-{i + run * count // 10:07d}"  # a tenth of the ids move on each run
        size = int(rng.integers(3, 41))
        members = [f"A{a:07d}" for a in rng.choice(accounts, size=size, replace=False)]
        typology = TYPOLOGIES[i % len(TYPOLOGIES)]
        score = float(np.round(rng.gamma(2.0, 1.0) + 1.25, 3))
        rings.append(Ring(ring_id, score, typology, [RingMember(m) for m in members]))
    return rings


def fill(store: GraphStore, args: argparse.Namespace) -> str:
    """Three runs of rings and some verdicts; returns a member account of a ring."""
    for run in range(3):
        began = time.perf_counter()
        recorded = store.write_rings(made_rings(args.rings, args.accounts, seed=run, run=run))
        print(
            f"  run {run + 1}: wrote {recorded.rings:,} rings in {time.perf_counter() - began:.1f}"
            f" s ({recorded.new:,} new, {recorded.retired:,} retired)"
        )
    index = store.ring_index()
    for i, ring_id in enumerate(index["ring_id"].tolist()[:200]):
        store.set_ring_status(ring_id, list(RingStatus)[i % 4], actor="benchmark")
        if i % 3 == 0:
            store.assign_ring(ring_id, "Ana Lima", actor="benchmark")
    member: str = store.ring(index["ring_id"].iloc[0]).accounts[0]
    return member


def timed(work: Callable[[], Any], repeat: int) -> float:
    """Median milliseconds of ``work``."""
    work()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def measure(name: str, store: GraphStore, member: str, repeat: int) -> None:
    total = store.count_rings(RingFilter(active=None))
    listings: dict[str, Callable[[], Any]] = {
        "default page (50, by score)": lambda: store.rings(),
        "min_score 3, status new": lambda: store.rings(
            RingFilter(min_score=3.0, status=RingStatus.NEW)
        ),
        "size 10..20, typology, by size asc": lambda: store.rings(
            RingFilter(min_size=10, max_size=20, typology="device_farm"),
            Page(sort="size", descending=False),
        ),
        "assignee, retired too, by last seen": lambda: store.rings(
            RingFilter(assignee="Ana Lima", active=None), Page(sort="last_seen")
        ),
        "deep page (offset 10,000, by id)": lambda: store.rings(
            RingFilter(active=None), Page(offset=10_000, sort="ring_id")
        ),
        "an account's rings": lambda: store.rings(RingFilter(account=member)),
        "count of active rings": lambda: store.count_rings(),
    }
    lookup = timed(lambda: store.ring("R-0000100"), repeat)
    print(f"\n{name}: {total:,} rings stored; one ring by id: {lookup:.2f} ms (the baseline)")
    for label, work in listings.items():
        ms = timed(work, repeat)
        verdict = "meets" if ms <= TARGET_MS else "MISSES"
        ratio = ms / lookup
        print(f"  {label:<38}{ms:9.2f} ms  {ratio:6.1f}x one ring  {verdict} {TARGET_MS:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rings", type=int, default=13_000)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--neo4j", help="Bolt URL of a Neo4j to measure too (it is wiped).")
    parser.add_argument("--password", default="graphfraud")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="graphfraud-listing-") as folder:
        url = f"duckdb:///{Path(folder) / 'rings.duckdb'}"
        print(f"DuckDB at {url}")
        with open_store(url) as store:
            member = fill(store, args)
            measure("DuckDB", store, member, args.repeat)
        with CachedStore(open_store(url)) as cached:
            began = time.perf_counter()
            cached.build()
            print(f"\ncaching store built in {time.perf_counter() - began:.1f} s")
            measure("caching store over DuckDB", cached, member, args.repeat)
    if args.neo4j:
        print(f"\nNeo4j at {args.neo4j} (wiped first)")
        with (
            neo4j.GraphDatabase.driver(args.neo4j, auth=("neo4j", args.password)) as driver,
            driver.session() as session,
        ):
            session.run(cypher.DELETE_EVERYTHING).consume()
        settings = Settings(neo4j_password=SecretStr(args.password))
        with open_store(args.neo4j, settings=settings) as store:
            member = fill(store, args)
            measure("Neo4j", store, member, args.repeat)


if __name__ == "__main__":
    main()
