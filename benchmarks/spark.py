"""Spark engine benchmark: detection time and peak memory by size, next to the single machine.

For each size in ``--sizes`` a marketplace is generated and loaded into DuckDB (once, then
reused; :func:`detection.prepared`), its links are written as Parquet partitioned by kind, and
detection runs in a fresh process per run so each run's peak memory is its own:

- the single-machine engine (``find_rings``) at the sizes up to ``--single-max``;
- the Spark engine in local mode (``--master``, default ``local[2]``).

Peak memory is the highest resident set size of the run's whole process tree (the Python
driver, Spark's JVM with its executors, and the Python workers), sampled every 0.2 s.

It prints one row per size and run, and the growth rate: how time and memory grow with size
(the exponent ``k`` of ``time ~ size**k`` between successive sizes).

Usage::

    python benchmarks/spark.py [--sizes 1000000 5000000 10000000] [--single-max 1000000]
                               [--work benchmark-data] [--master local[2]] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from detection import prepared
from memory import peak_gib

from algorithms.pipeline import find_rings
from algorithms.spark import SparkFinder, export_links, spark_session
from graphfraud.store import open_store


def links_parquet(database: Path) -> Path:
    """The store's links as partitioned Parquet beside it (written on first use)."""
    folder = database.parent / "links"
    if not folder.exists():
        with open_store(f"duckdb:///{database}") as store:
            export_links(store.links(), folder)
    return folder


def single(database: Path) -> dict[str, Any]:
    """The single-machine engine (meant for a fresh process)."""
    with TreePeak() as peak:
        started = time.perf_counter()
        with open_store(f"duckdb:///{database}") as store:
            accounts = store.entities(kind="Account")
            result = find_rings(store.links, accounts)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rings": len(result.rings), "peak_gib": peak.gib}


def spark(database: Path, master: str) -> dict[str, Any]:
    """The Spark engine in local mode (meant for a fresh process)."""
    links = str(links_parquet(database))
    with TreePeak() as peak:
        started = time.perf_counter()
        session = spark_session(master=master, shuffle_partitions=8)
        with open_store(f"duckdb:///{database}") as store:
            accounts = store.entities(kind="Account")
        result = SparkFinder(session, links)(None, accounts)
        seconds = time.perf_counter() - started
    session.stop()
    return {"seconds": seconds, "rings": len(result.rings), "peak_gib": peak.gib}


class TreePeak:
    """The highest summed resident set size of this process and all its descendants while
    the ``with`` block runs, in GiB (a process's own VmHWM misses Spark's JVM and workers)."""

    def __init__(self) -> None:
        self.gib = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self.gib = max(self.gib, peak_gib())

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._done.wait(0.2):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:  # a worker that ended meanwhile
                    continue
            self.gib = max(self.gib, total / 2**30)


def in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return dict(pool.apply(function, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--single-max", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    rows: list[tuple[int, str, dict[str, Any]]] = []
    for size in args.sizes:
        began = time.perf_counter()
        database = prepared(args.work, size, args.seed)
        links_parquet(database)
        load = time.perf_counter() - began
        if size <= args.single_max:
            rows.append((size, "single", {**in_fresh_process(single, database), "load": load}))
        rows.append(
            (size, "spark", {**in_fresh_process(spark, database, args.master), "load": load})
        )

    print()
    print(f"{'accounts':>12} {'engine':<7} {'load s':>8} {'detect s':>9} {'peak GiB':>9} "
          f"{'rings':>6} {'time growth':>12} {'memory growth':>14}")  # fmt: skip
    previous: dict[str, tuple[int, dict[str, Any]]] = {}
    for size, engine, run in rows:
        growth = ["", ""]
        if engine in previous:
            last_size, last = previous[engine]
            scale = math.log(size / last_size)
            growth = [
                f"size^{math.log(run['seconds'] / last['seconds']) / scale:.2f}",
                f"size^{math.log(run['peak_gib'] / last['peak_gib']) / scale:.2f}",
            ]
        previous[engine] = (size, run)
        print(
            f"{size:>12,} {engine:<7} {run['load']:>8.0f} {run['seconds']:>9.1f} "
            f"{run['peak_gib']:>9.2f} {run['rings']:>6} {growth[0]:>12} {growth[1]:>14}"
        )
    print("(load: generate, load into DuckDB and export Parquet; a few seconds when reused)")


if __name__ == "__main__":
    main()
