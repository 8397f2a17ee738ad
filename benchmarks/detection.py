"""Ring detection benchmark: time per stage at two sizes, against a baseline and a floor.

Generates (once, then reused) a marketplace of ``--accounts`` accounts and one of
``--reference-accounts``, loads each into a DuckDB file, and runs ``detect_rings`` in a fresh
process per run (so each run's peak memory is its own) with ``write=False``:

- this tree with igraph at both sizes: every stage's time, the total, the peak memory, and the
  growth exponent ``log(t_big / t_small) / log(n_big / n_small)`` (1 is linear);
- the same with a baseline tree (``--baseline``, e.g. the main checkout), in the same run on
  the same files, so a loaded machine slows both alike: the ratio is the figure to read;
- a floor at both sizes: the projection alone, then igraph connected components and one
  Leiden pass over it (what any method on this projection must at least spend);
- the reference size with the networkx engine too (the same pipeline, networkx throughout):
  per-stage times and the ratio between the engines.

Usage::

    python benchmarks/detection.py [--accounts 1000000] [--reference-accounts 100000]
                                   [--work benchmark-data] [--seed 0] [--baseline /work/main]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 20.0
TARGET_GIB = 6.0
TARGET_EXPONENT = 1.1


def prepared(work: Path, accounts: int, seed: int) -> Path:
    """A DuckDB file holding a generated marketplace; generated and loaded on first use."""
    from graphfraud.store import open_store
    from loaders.generator import generate_marketplace
    from loaders.load import load_tables
    from loaders.mapping import builtin_mapping

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


def measure(database: Path, engine: str) -> dict[str, Any]:
    """One detection run (meant for a fresh process): timings, rings, peak memory."""
    from memory import peak_gib

    from algorithms.pipeline import detect_rings
    from graphfraud.store import open_store

    with open_store(f"duckdb:///{database}") as store:
        result = detect_rings(store, engine=engine, write=False)  # type: ignore[arg-type]
    return {
        "timings": result.timings,
        "seconds": result.seconds,
        "rings": len(result.rings),
        "accounts": result.accounts,
        "edges": result.edges,
        "peak_gib": peak_gib(),
    }


def floor(database: Path) -> dict[str, Any]:
    """Reading and projecting, then igraph components and one Leiden pass on the projection."""
    import leidenalg
    import pandas as pd

    from algorithms.engines import igraph_graph
    from algorithms.projection import project_accounts
    from graphfraud.model import EntityKind
    from graphfraud.settings import get_settings
    from graphfraud.store import open_store

    settings = get_settings().detection
    timings: dict[str, float] = {}
    began = time.perf_counter()
    with open_store(f"duckdb:///{database}") as store:
        accounts = store.entities(kind=EntityKind.ACCOUNT)
        links = store.links()
    timings["reading"] = time.perf_counter() - began
    began = time.perf_counter()
    projection = project_accounts(
        links, accounts=pd.Index(accounts["key"].astype(str)), settings=settings, engine="igraph"
    )
    del links
    timings["projection"] = time.perf_counter() - began
    began = time.perf_counter()
    edges = projection.edges
    graph = igraph_graph(
        len(projection.accounts),
        edges["a"].to_numpy(),
        edges["b"].to_numpy(),
        edges["weight"].to_numpy(),
    )
    graph.connected_components()
    timings["components"] = time.perf_counter() - began
    began = time.perf_counter()
    leidenalg.find_partition(
        graph,
        leidenalg.RBConfigurationVertexPartition,
        weights="weight",
        resolution_parameter=settings.resolution,
        seed=0,
    )
    timings["communities"] = time.perf_counter() - began
    return {"timings": timings, "seconds": sum(timings.values())}


def in_fresh_process(task: str, database: Path, engine: str, tree: Path) -> dict[str, Any]:
    """Run ``task`` (measure or floor) in a new interpreter importing ``tree``'s code."""
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{Path(__file__).parent}")
    done = subprocess.run(
        [sys.executable, __file__, "--task", task, str(database), engine],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def growth(small: float, big: float, n_small: int, n_big: int) -> float:
    """The exponent ``k`` of ``t ~ n**k`` through two timings."""
    return math.log(big / small) / math.log(n_big / n_small)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--reference-accounts", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--baseline", type=Path, default=None, help="Another checkout to time on the same files."
    )
    parser.add_argument("--task", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:
        task, database, engine = args.task
        done = measure(Path(database), engine) if task == "measure" else floor(Path(database))
        print(json.dumps(done))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent.parent
    small_db = prepared(args.work.resolve(), args.reference_accounts, args.seed)
    big_db = prepared(args.work.resolve(), args.accounts, args.seed)
    sizes = (args.reference_accounts, args.accounts)

    trees = {"this tree": here} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for name, tree in trees.items():
        runs[name] = tuple(  # type: ignore[assignment]
            in_fresh_process("measure", db, "igraph", tree) for db in (small_db, big_db)
        )
    runs["floor"] = tuple(  # type: ignore[assignment]
        in_fresh_process("floor", db, "igraph", here) for db in (small_db, big_db)
    )
    slow = in_fresh_process("measure", small_db, "networkx", here)

    stages = ("reading", "projection", "components", "communities", "scoring", "centrality",
              "evidence", "ids")  # fmt: skip
    print()
    header = " ".join(f"{name[:12]:>12} {size:>9,}" for name in runs for size in sizes)
    print(f"{'stage':<12} {header}")
    for stage in (*stages, "total"):
        cells = []
        for small, big in runs.values():
            for run in (small, big):
                value = run["seconds"] if stage == "total" else run["timings"].get(stage)
                cells.append(f"{_seconds(value):>22}")
        print(f"{stage:<12} {' '.join(cells)}")
    print()
    for name, (small, big) in runs.items():
        exponent = growth(small["seconds"], big["seconds"], *sizes)
        found = "" if "rings" not in big else f", {big['rings']:,} rings"
        found += f", peak {big['peak_gib']:.2f} GiB" if "peak_gib" in big else ""
        print(
            f"{name}: {big['seconds']:.1f} s at {sizes[1]:,}, growth exponent {exponent:.2f} "
            f"(target {TARGET_EXPONENT}){found}"
        )
    if "baseline" in runs:
        ratio = runs["this tree"][1]["seconds"] / runs["baseline"][1]["seconds"]
        print(f"this tree / baseline at {sizes[1]:,}: {ratio:.2f}x (target: 1.00x or less)")
    big = runs["this tree"][1]
    print(
        f"target {TARGET_SECONDS:.0f} s on an idle machine: "
        f"{'met' if big['seconds'] <= TARGET_SECONDS else 'MISSED'}; peak memory target "
        f"{TARGET_GIB:.0f} GiB: {'met' if big['peak_gib'] <= TARGET_GIB else 'MISSED'}"
    )

    fast = runs["this tree"][0]
    print()
    print(f"{sizes[0]:,} accounts, igraph against networkx (networkx throughout):")
    for stage in stages:
        b, c = fast["timings"].get(stage), slow["timings"].get(stage)
        ratio = f"{c / b:6.1f}x" if b and c else ""
        print(f"  {stage:<12} {_seconds(b):>10} {_seconds(c):>10}  {ratio:>7}")
    print(
        f"  {'total':<12} {_seconds(fast['seconds']):>10} {_seconds(slow['seconds']):>10}  "
        f"{slow['seconds'] / fast['seconds']:6.1f}x; rings {fast['rings']:,} / {slow['rings']:,}"
    )


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    main()
