"""Load a generated marketplace into a real Neo4j and measure links written per second.

Steps, in one run on one server (started here from the Maven-assembled Neo4j unless --url
names one; its database is wiped between steps, so never point it at data you care about):

1. generate a marketplace (default 100k accounts) and parse it once into entity and link frames
   (through an in-memory DuckDB store, so every step writes exactly the same frames);
2. batch-size sweep: write the same sample of links at several ``UNWIND $rows`` batch sizes into
   an empty database, and pick the smallest within 10% of the fastest;
3. naive baseline: the same engine and statement, one row per transaction, on a small sample;
4. the full load through ``load_tables`` (what ``graphfraud load --store neo4j://...`` runs), at
   the chosen batch size.

Target on a 2-core machine (Neo4j and Python share it): at least 10k links/s for the full load.

    python3 benchmarks/neo4j_load.py
    python3 benchmarks/neo4j_load.py --accounts 20000 --batch-sizes 2000 10000
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import neo4j
import pandas as pd
from pydantic import SecretStr

from graphfraud.neo4j_server import start_server, stop_server
from graphfraud.settings import Settings
from graphfraud.store import cypher, open_store
from graphfraud.store.neo4j import Neo4jStore
from loaders import builtin_mapping, load_tables
from loaders.generator import generate_marketplace

PASSWORD = "graphfraud-benchmark"


@contextmanager
def neo4j_url(url: str | None, password: str, home: Path) -> Iterator[str]:
    """The given server, or one started here for the run."""
    if url:
        yield url
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    info = start_server(home, port=port, password=password, heap="2g", pagecache="1g", fresh=True)
    try:
        yield info.url
    finally:
        stop_server(info.home)


def wipe(url: str, password: str) -> None:
    with (
        neo4j.GraphDatabase.driver(url, auth=("neo4j", password)) as driver,
        driver.session(database="neo4j") as session,
    ):
        session.run(cypher.DELETE_EVERYTHING).consume()


def parsed_links(folder: Path) -> pd.DataFrame:
    """The links a load of ``folder`` writes, in the contract's frame layout."""
    with open_store("duckdb:///:memory:") as memory:
        load_tables(memory, builtin_mapping(), folder)
        return memory.links()


def timed_links(url: str, settings: Settings, links: pd.DataFrame, batch_size: int) -> float:
    """Seconds to write ``links`` into an empty database at ``batch_size`` rows per batch."""
    wipe(url, settings.neo4j_password.get_secret_value())
    with Neo4jStore(url, settings=settings, batch_size=batch_size) as store:
        started = time.perf_counter()
        store.upsert_links(links)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=100_000, help="links in the sweep")
    parser.add_argument("--naive-sample", type=int, default=2_000, help="links, row by row")
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[1_000, 5_000, 10_000, 20_000, 50_000, 100_000],
    )
    parser.add_argument("--url", help="use this Neo4j instead of starting one (it is wiped)")
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = Settings(neo4j_password=SecretStr(args.password))

    with tempfile.TemporaryDirectory(prefix="graphfraud-neo4j-bench-") as tmp:
        folder = Path(tmp) / "data"
        started = time.perf_counter()
        generate_marketplace(folder, accounts=args.accounts, seed=args.seed)
        links = parsed_links(folder)
        print(
            f"generated and parsed {args.accounts:,} accounts: {len(links):,} links "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        sample = links.sample(n=min(args.sample, len(links)), random_state=args.seed)
        with neo4j_url(args.url, args.password, Path(tmp) / "neo4j") as url:
            print(f"Neo4j at {url}\n\nbatch-size sweep, {len(sample):,} links each:", flush=True)
            rates: dict[int, float] = {}
            for size in args.batch_sizes:
                rates[size] = len(sample) / timed_links(url, settings, sample, size)
                print(f"  batch {size:>7,}: {rates[size]:>9,.0f} links/s", flush=True)
            # Larger transactions hold more server memory: take the smallest batch within 10%
            # of the fastest, since differences below that are noise on a shared machine.
            best = max(rates.values())
            chosen = min(size for size, rate in rates.items() if rate >= 0.9 * best)
            print(
                f"  chosen: {chosen:,} rows per transaction, the smallest within 10% of the "
                f"fastest ({best:,.0f} links/s)",
                flush=True,
            )

            few = sample.head(args.naive_sample)
            naive = len(few) / timed_links(url, settings, few, 1)
            print(f"\nnaive, one row per transaction ({len(few):,} links): {naive:,.0f} links/s")

            wipe(url, args.password)
            with Neo4jStore(url, settings=settings, batch_size=chosen) as store:
                report = load_tables(store, builtin_mapping(), folder)
            rate = report.links / report.seconds
            print(
                f"\nfull load of {args.accounts:,} accounts at batch {chosen:,}: "
                f"{report.entities:,} entities and {report.links:,} links in "
                f"{report.seconds:.1f} s (parsing included)\n"
                f"  {rate:,.0f} links/s; {rate / naive:,.0f}x the naive loader; "
                f"target 10,000 links/s: {'met' if rate >= 10_000 else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
