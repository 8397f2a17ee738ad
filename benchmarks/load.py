"""Generate and load synthetic marketplaces of growing size into the embedded store.

Prints, per size: generation time, load time, links written per second and the peak memory of
each stage (each stage runs in a process of its own, so its peak is its own). The baseline,
measured in the same run, is a row-at-a-time loader (one parameterised INSERT per link) on a
sample of the same links; the ratio says how much the columnar path buys.

Targets on a 2-core machine: 1M accounts load in at most 90 s with a peak of at most 6 GiB.

    python3 benchmarks/load.py                  # 10k, 100k, 1M
    python3 benchmarks/load.py --sizes 10000    # just one size
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import peak_gib

BASELINE_SAMPLE = 20_000


def stage_generate(folder: Path, accounts: int) -> dict[str, float]:
    from loaders.generator import generate_marketplace

    started = time.perf_counter()
    generate_marketplace(folder, accounts=accounts, seed=1)
    return {"seconds": time.perf_counter() - started, "peak_gib": peak_gib()}


def stage_load(folder: Path) -> dict[str, float]:
    from graphfraud.store import open_store
    from loaders import builtin_mapping, load_tables

    started = time.perf_counter()
    # Timed through close: the store builds its lookup indexes after a bulk load.
    with open_store(f"duckdb:///{folder / 'graph.duckdb'}") as store:
        report = load_tables(store, builtin_mapping(), folder)
    return {
        "seconds": time.perf_counter() - started,
        "links": report.links,
        "entities": report.entities,
        "rows": report.read,
        "peak_gib": peak_gib(),
    }


def stage_baseline(folder: Path) -> dict[str, float]:
    """Row-at-a-time inserts of a sample of the loaded links into a fresh table."""
    import duckdb

    from graphfraud.store import open_store

    with open_store(f"duckdb:///{folder / 'graph.duckdb'}") as store:
        sample = store.links().head(BASELINE_SAMPLE)
    rows = list(sample.itertuples(index=False, name=None))
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE links (src_kind VARCHAR, src_key VARCHAR, kind VARCHAR, dst_kind VARCHAR,"
        " dst_key VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP, count BIGINT,"
        " amount DOUBLE)"
    )
    started = time.perf_counter()
    for row in rows:
        db.execute("INSERT INTO links VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "links": len(rows)}


def run_stage(stage: str, folder: Path, accounts: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--stage", stage, "--folder", str(folder)]
    command += ["--accounts", str(accounts)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--stage", choices=["generate", "load", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        if args.stage == "generate":
            print(json.dumps(stage_generate(args.folder, args.accounts)))
        elif args.stage == "load":
            print(json.dumps(stage_load(args.folder)))
        else:
            print(json.dumps(stage_baseline(args.folder)))
        return

    header = (
        f"{'accounts':>10} {'generate s':>11} {'gen GiB':>8} {'rows':>11} {'links':>11} "
        f"{'load s':>8} {'links/s':>10} {'load GiB':>9}"
    )
    print(header)
    baseline = None
    for accounts in args.sizes:
        with tempfile.TemporaryDirectory(prefix="graphfraud-bench-") as tmp:
            folder = Path(tmp)
            generated = run_stage("generate", folder, accounts)
            loaded = run_stage("load", folder, accounts)
            if baseline is None or accounts <= 100_000:
                baseline = run_stage("baseline", folder, accounts)
        rate = loaded["links"] / loaded["seconds"]
        print(
            f"{accounts:>10,} {generated['seconds']:>11.1f} {generated['peak_gib']:>8.2f} "
            f"{loaded['rows']:>11,.0f} {loaded['links']:>11,.0f} {loaded['seconds']:>8.1f} "
            f"{rate:>10,.0f} {loaded['peak_gib']:>9.2f}",
            flush=True,
        )
        last_rate = rate
    assert baseline is not None
    naive = baseline["links"] / baseline["seconds"]
    print(
        f"\nbaseline, one INSERT per link ({baseline['links']:,.0f} links): {naive:,.0f} links/s;"
        f" columnar load of the largest size is {last_rate / naive:,.0f}x faster"
    )


if __name__ == "__main__":
    main()
