"""Write a generated marketplace into a real Neo4j and measure links written per second.

Every step writes the same whole load (entities, links and events, aggregated once: what
``load_tables`` hands to ``GraphStore.write_graph``) and is timed around that write alone, so
the rates compare the engines' write paths, not the parsing before them:

1. the embedded store (DuckDB), new file: the reference;
2. Neo4j, new database, by bulk import (``neo4j-admin database import full``; the stop and
   restart of the server included);
3. Neo4j, new database, merged over Bolt: the previous path of ``graphfraud load``;
4. Neo4j, incremental: a database holding half the links takes the whole load again (half the
   links new, half merged into existing ones), at each batch size of ``--batch-sizes``.

The server is started here from the Maven-assembled Neo4j (its database is wiped between
steps); ``--url`` uses another one instead and skips the bulk import, which needs the server's
folder. Targets (issue 15): new database at least 100k links/s, incremental at least 30k.

    python3 benchmarks/neo4j_load.py
    python3 benchmarks/neo4j_load.py --accounts 20000 --batch-sizes 5000 10000
    python3 benchmarks/neo4j_load.py --steps incremental --batch-sizes 10000   # one step alone
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
import pyarrow as pa
from pydantic import SecretStr

from graphfraud.neo4j_server import ServerInfo, start_server, stop_server, stopped_server
from graphfraud.settings import Settings
from graphfraud.store import cypher, open_store
from graphfraud.store.base import GraphStore, aggregate_entities, conform_events, conform_links
from graphfraud.store.neo4j import Neo4jStore
from loaders import builtin_mapping, load_tables
from loaders.generator import generate_marketplace

PASSWORD = "graphfraud-benchmark"
TARGET_NEW = 100_000
TARGET_INCREMENTAL = 30_000

Load = tuple[pa.Table, pa.Table, pa.Table]
#: The Neo4j writes the benchmark can time (``--steps``).
STEPS = ("bulk", "merge", "incremental")
MERGED = "Neo4j new database, merged over Bolt (before)"


@contextmanager
def neo4j_server(url: str | None, password: str, home: Path) -> Iterator[ServerInfo | None]:
    """The given server (None: its folder is unknown), or one started here for the run."""
    if url:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    info = start_server(home, port=port, password=password, heap="2g", pagecache="1g", fresh=True)
    try:
        yield info
    finally:
        stop_server(info.home)


def wipe(url: str, password: str) -> None:
    with (
        neo4j.GraphDatabase.driver(url, auth=("neo4j", password)) as driver,
        driver.session(database="neo4j") as session,
    ):
        session.run(cypher.DELETE_EVERYTHING).consume()


def parsed_load(folder: Path) -> Load:
    """The whole load of ``folder`` as ``write_graph`` takes it (parsed once, for every step)."""
    with open_store("duckdb:///:memory:") as memory:
        load_tables(memory, builtin_mapping(), folder)
        return (
            aggregate_entities(pa.Table.from_pandas(memory.entities(), preserve_index=False)),
            conform_links(memory.links()),
            conform_events(memory.events()),
        )


def timed_write(store: GraphStore | None, load: Load) -> float:
    """Seconds ``write_graph`` takes (into a new embedded store when ``store`` is None)."""
    if store is None:
        with tempfile.TemporaryDirectory() as tmp, open_store(f"duckdb:///{tmp}/g.duckdb") as db:
            started = time.perf_counter()
            db.write_graph(*load)
            return time.perf_counter() - started
    started = time.perf_counter()
    store.write_graph(*load)
    return time.perf_counter() - started


def half(load: Load) -> Load:
    """Every entity and event, and the first half of the links."""
    entities, links, events = load
    return entities, links.slice(0, links.num_rows // 2), events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[5_000, 10_000, 20_000])
    parser.add_argument("--url", help="use this Neo4j instead of starting one (it is wiped)")
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--steps", nargs="+", choices=STEPS, default=list(STEPS),
        help="which writes to time (default all); the embedded store always runs, as reference",
    )  # fmt: skip
    args = parser.parse_args()
    settings = Settings(neo4j_password=SecretStr(args.password))

    with tempfile.TemporaryDirectory(prefix="graphfraud-neo4j-bench-") as tmp:
        folder = Path(tmp) / "data"
        started = time.perf_counter()
        generate_marketplace(folder, accounts=args.accounts, seed=args.seed)
        load = parsed_load(folder)
        links = load[1].num_rows
        print(
            f"{args.accounts:,} accounts: {load[0].num_rows:,} entities, {links:,} links, "
            f"{load[2].num_rows:,} events, generated and parsed in "
            f"{time.perf_counter() - started:.1f} s\n",
            flush=True,
        )
        rates: dict[str, float] = {}

        def report(name: str, seconds: float) -> None:
            rates[name] = links / seconds
            print(f"  {name:<46} {seconds:>7.1f} s {rates[name]:>10,.0f} links/s", flush=True)

        report("embedded store (DuckDB), new file", timed_write(None, load))
        with neo4j_server(args.url, args.password, Path(tmp) / "neo4j") as info:
            url = args.url or (info.url if info else "")
            if info is not None and "bulk" in args.steps:
                wipe(url, args.password)
                with Neo4jStore(url, settings=settings, bulk_home=info.home) as store:
                    report("Neo4j new database, bulk import", timed_write(store, load))
                # What the import spends on stopping and starting the server, whatever the size.
                started = time.perf_counter()
                with stopped_server(info.home, password=args.password):
                    pass
                restart = time.perf_counter() - started
                print(f"  {'(of which a server restart, alone)':<46} {restart:>7.1f} s")
            if "merge" in args.steps:
                wipe(url, args.password)
                with Neo4jStore(url, settings=settings) as store:
                    report(MERGED, timed_write(store, load))
            for size in args.batch_sizes if "incremental" in args.steps else []:
                wipe(url, args.password)
                with Neo4jStore(url, settings=settings, batch_size=size) as store:
                    store.write_graph(*half(load))
                    report(f"Neo4j incremental, {size:,} rows per transaction",
                           timed_write(store, load))  # fmt: skip

        embedded = rates["embedded store (DuckDB), new file"]
        print()
        if "Neo4j new database, bulk import" in rates:
            bulk = rates["Neo4j new database, bulk import"]
            print(
                f"new database: bulk import {bulk:,.0f} links/s{versus_merge(bulk, rates)}, "
                f"{bulk / embedded:.2f}x the embedded store; target {TARGET_NEW:,}: "
                f"{'met' if bulk >= TARGET_NEW else 'NOT met'}"
            )
        found = [rate for name, rate in rates.items() if "incremental" in name]
        if found:
            best = max(found)
            print(
                f"incremental: best {best:,.0f} links/s{versus_merge(best, rates)}, "
                f"{best / embedded:.2f}x the embedded store; target {TARGET_INCREMENTAL:,}: "
                f"{'met' if best >= TARGET_INCREMENTAL else 'NOT met'}"
            )


def versus_merge(rate: float, rates: dict[str, float]) -> str:
    """``rate`` against the merge into a new database, where that step ran."""
    return f", {rate / rates[MERGED]:.2f}x the merge over Bolt" if MERGED in rates else ""


if __name__ == "__main__":
    main()
