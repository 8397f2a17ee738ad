"""Ring detection benchmark: a million generated accounts end to end, igraph vs networkx.

Generates (once, then reused) a marketplace of ``--accounts`` accounts and one of
``--reference-accounts``, loads each into a DuckDB file, and runs ``detect_rings`` in a fresh
process per run so each run's peak memory is its own:

- the big graph with the default engine (igraph), writing the rings: every stage's time, the
  total and the peak memory, against the targets (60 s, 6 GiB);
- the reference graph with igraph and with networkx only (the same pipeline): per-stage times
  and the ratio between them.

Usage::

    python benchmarks/detection.py [--accounts 1000000] [--reference-accounts 100000]
                                   [--work benchmark-data] [--seed 0]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path
from typing import Any

from memory import peak_gib

from algorithms.pipeline import STAGES, detect_rings
from graphfraud.store import open_store
from loaders.generator import generate_marketplace
from loaders.load import load_tables
from loaders.mapping import builtin_mapping

TARGET_SECONDS = 60.0
TARGET_GIB = 6.0


def prepared(work: Path, accounts: int, seed: int) -> Path:
    """A DuckDB file holding a generated marketplace; generated and loaded on first use."""
    folder = work / f"marketplace-{accounts}-{seed}"
    database = folder / "graph.duckdb"
    done = folder / "loaded"
    if done.exists():
        print(f"{accounts:>10,} accounts: reusing {database}")
        return database
    started = time.perf_counter()
    generate_marketplace(folder / "data", accounts=accounts, seed=seed)
    generated = time.perf_counter()
    database.unlink(missing_ok=True)
    with open_store(f"duckdb:///{database}") as store:
        rejects = folder / "rejects.csv"
        load_tables(store, builtin_mapping("marketplace"), folder / "data", rejects_path=rejects)
    done.touch()
    print(
        f"{accounts:>10,} accounts: generated in {generated - started:.0f} s, "
        f"loaded in {time.perf_counter() - generated:.0f} s"
    )
    return database


def measure(database: Path, engine: str, write: bool) -> dict[str, Any]:
    """One detection run (meant for a fresh process): timings, rings, peak memory."""
    with open_store(f"duckdb:///{database}") as store:
        result = detect_rings(store, engine=engine, write=write)  # type: ignore[arg-type]
    return {
        "timings": result.timings,
        "seconds": result.seconds,
        "rings": len(result.rings),
        "accounts": result.accounts,
        "edges": result.edges,
        "peak_gib": peak_gib(),
    }


def in_fresh_process(database: Path, engine: str, write: bool) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(measure, (database, engine, write))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--reference-accounts", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    big = in_fresh_process(prepared(args.work, args.accounts, args.seed), "igraph", True)
    reference = prepared(args.work, args.reference_accounts, args.seed)
    fast = in_fresh_process(reference, "igraph", False)
    slow = in_fresh_process(reference, "networkx", False)

    print()
    print(
        f"{'stage':<12} {args.accounts:>12,} {'':>3} | {args.reference_accounts:>10,} igraph "
        f"{'networkx':>10}  {'ratio':>7}"
    )
    for stage in STAGES:
        a = big["timings"].get(stage)
        b, c = fast["timings"].get(stage), slow["timings"].get(stage)
        ratio = f"{c / b:6.1f}x" if b and c else ""
        row = f"{stage:<12} {_seconds(a):>12} {'':>3} | {_seconds(b):>17} {_seconds(c):>10}"
        print(f"{row}  {ratio:>7}")
    ratio = slow["seconds"] / fast["seconds"]
    print(
        f"{'total':<12} {_seconds(big['seconds']):>12} {'':>3} | {_seconds(fast['seconds']):>17} "
        f"{_seconds(slow['seconds']):>10}  {ratio:6.1f}x"
    )
    graph = ("components", "communities", "centrality")
    on_graph = sum(fast["timings"][s] for s in graph), sum(slow["timings"][s] for s in graph)
    print(
        f"graph stages (components, communities, centrality): igraph {on_graph[0]:.2f} s, "
        f"networkx {on_graph[1]:.2f} s, ratio {on_graph[1] / on_graph[0]:.1f}x"
    )
    print()
    print(
        f"{args.accounts:,} accounts, {big['edges']:,} projected ties, {big['rings']:,} rings: "
        f"{big['seconds']:.1f} s (target {TARGET_SECONDS:.0f} s: "
        f"{'met' if big['seconds'] <= TARGET_SECONDS else 'MISSED'}), peak memory "
        f"{big['peak_gib']:.2f} GiB (target {TARGET_GIB:.0f} GiB: "
        f"{'met' if big['peak_gib'] <= TARGET_GIB else 'MISSED'})"
    )
    print(
        f"{args.reference_accounts:,} accounts: igraph {fast['rings']:,} rings, networkx "
        f"{slow['rings']:,} rings; peak memory {fast['peak_gib']:.2f} / {slow['peak_gib']:.2f} GiB"
    )


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    main()
