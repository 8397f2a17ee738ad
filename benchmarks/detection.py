"""Ring detection benchmark: time per stage at several sizes, against a baseline and a floor.

Generates (once, then reused) a marketplace for each of ``--sizes`` (or copies a loaded store
given with ``--store SIZE=PATH``, e.g. the shared 1M one), loads it into a DuckDB file, and
runs ``detect_rings`` in a fresh process per run (so each run's peak memory is its own) with
``write=False``:

- this tree with igraph at every size: every stage's time, the total, the process's CPU
  seconds (all threads: steadier than wall time on a shared machine), the peak memory, and the
  growth exponent ``log(t_big / t_small) / log(n_big / n_small)`` (1 is linear) between the
  smallest and the largest size and between neighbouring sizes;
- the same with a baseline tree (``--baseline``, e.g. the main checkout), in the same run on
  the same files, so a loaded machine slows both alike: the ratio is the figure to read;
- a floor at every size: reading and projecting (as this tree does), then igraph connected
  components and one Leiden pass over the projection (what any method on this projection must
  at least spend), beside this tree's detection and the ratio between them;
- the smallest size with the networkx engine (the same pipeline, networkx throughout) in a
  process where igraph and leidenalg raise if called: the two engines are measured apart.

Usage::

    python benchmarks/detection.py [--sizes 100000 300000 1000000] [--work benchmark-data]
                                   [--seed 0] [--baseline /work/main]
                                   [--store 1000000=/work/data/m1m.duckdb]

Sizes of a million accounts and more are heavy: run them under the machine's shared lock.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 20.0
TARGET_GIB = 6.0
TARGET_EXPONENT = 1.1


def prepared(work: Path, accounts: int, seed: int, given: Path | None = None) -> Path:
    """A DuckDB file holding a marketplace: ``given`` copied (never written to), or one
    generated and loaded on first use."""
    from graphfraud.store import open_store
    from loaders.generator import generate_marketplace
    from loaders.load import load_tables
    from loaders.mapping import builtin_mapping

    folder = work / (f"store-{accounts}" if given else f"marketplace-{accounts}-{seed}")
    database = folder / "graph.duckdb"
    done = folder / "loaded"
    if done.exists():
        print(f"{accounts:>10,} accounts: reusing {database}")
        return database
    folder.mkdir(parents=True, exist_ok=True)
    if given is not None:
        shutil.copyfile(given, database)
        done.touch()
        print(f"{accounts:>10,} accounts: copied {given}")
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
    """One detection run (meant for a fresh process): timings, rings, peak memory.

    With the networkx engine, igraph and leidenalg raise if called: the reference engine is
    measured on its own, not on igraph's work.
    """
    from memory import peak_gib

    from algorithms.pipeline import detect_rings
    from graphfraud.store import open_store

    if engine == "networkx":
        _forbid_igraph()
    cpu = time.process_time()
    with open_store(f"duckdb:///{database}") as store:
        result = detect_rings(store, engine=engine, write=False)  # type: ignore[arg-type]
    return {
        "timings": result.timings,
        "seconds": result.seconds,
        "cpu": time.process_time() - cpu,
        "rings": len(result.rings),
        "accounts": result.accounts,
        "edges": result.edges,
        "peak_gib": peak_gib(),
    }


def _forbid_igraph() -> None:
    """Make building an igraph graph and running Leiden raise in this process."""
    import igraph
    import leidenalg

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the networkx engine called igraph")

    igraph.Graph.__init__ = refuse  # type: ignore[method-assign,assignment]
    leidenalg.find_partition = refuse


def floor(database: Path) -> dict[str, Any]:
    """Reading and projecting, then igraph components and one Leiden pass on the projection."""
    import leidenalg

    from algorithms.engines import igraph_graph
    from algorithms.projection import project_accounts
    from graphfraud.settings import get_settings
    from graphfraud.store import open_store

    settings = get_settings().detection
    timings: dict[str, float] = {}
    cpu = time.process_time()
    began = time.perf_counter()
    with open_store(f"duckdb:///{database}") as store:
        links = store.coded_links()
    timings["reading"] = time.perf_counter() - began
    began = time.perf_counter()
    projection = project_accounts(links, accounts=None, settings=settings, engine="igraph")
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
    return {"timings": timings, "seconds": sum(timings.values()), "cpu": time.process_time() - cpu}


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


STAGES = ("reading", "projection", "components", "communities", "scoring", "centrality",
          "evidence", "ids", "risk")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("benchmark-data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--baseline", type=Path, default=None, help="Another checkout to time on the same files."
    )
    parser.add_argument(
        "--store", action="append", default=[], metavar="SIZE=PATH",
        help="A loaded DuckDB store to copy for that size instead of generating one.",
    )  # fmt: skip
    parser.add_argument("--task", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:
        task, database, engine = args.task
        done = measure(Path(database), engine) if task == "measure" else floor(Path(database))
        print(json.dumps(done))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent.parent
    given = {int(size): Path(path) for size, path in (item.split("=", 1) for item in args.store)}
    sizes = sorted(args.sizes)
    databases = [prepared(args.work.resolve(), n, args.seed, given.get(n)) for n in sizes]

    trees = {"this tree": here} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in (*trees, "floor")}
    # Size by size, each tree's run beside the others': a machine whose load changes over the
    # run slows the runs compared with each other alike.
    for n, db in zip(sizes, databases, strict=True):
        for name, tree in trees.items():
            runs[name].append(in_fresh_process("measure", db, "igraph", tree))
        runs["floor"].append(in_fresh_process("floor", db, "igraph", here))
        for name, measured in runs.items():  # as it goes: a long run stopped early says something
            done = measured[-1]
            stages = " ".join(f"{k} {v:.1f}" for k, v in done["timings"].items())
            wall, cpu = done["seconds"], done["cpu"]
            print(f"{n:>10,} {name}: {wall:.1f} s wall, {cpu:.1f} s CPU ({stages})", flush=True)
    slow = in_fresh_process("measure", databases[0], "networkx", here)

    print()
    print(f"{'stage':<12} " + " ".join(f"{name[:12]:>12} {n:>9,}" for name in runs for n in sizes))
    for stage in (*STAGES, "total", "cpu", "peak GiB"):
        cells = []
        for measured in runs.values():
            for run in measured:
                if stage == "peak GiB":
                    cells.append(f"{run['peak_gib']:>20.2f}  " if "peak_gib" in run else " " * 22)
                    continue
                value = run[stage] if stage == "cpu" else run["timings"].get(stage)
                value = run["seconds"] if stage == "total" else value
                cells.append(f"{_seconds(value):>22}")
        print(f"{stage:<12} {' '.join(cells)}")
    print()
    for name, measured in runs.items():
        total = [run["seconds"] for run in measured]
        pairs = zip(sizes, sizes[1:], total, total[1:], strict=False)
        steps = ", ".join(f"{a:,}->{b:,}: {growth(s, t, a, b):.2f}" for a, b, s, t in pairs)
        whole = growth(total[0], total[-1], sizes[0], sizes[-1])
        found = "" if "rings" not in measured[-1] else f", {measured[-1]['rings']:,} rings"
        found += f", peak {measured[-1]['peak_gib']:.2f} GiB" if "peak_gib" in measured[-1] else ""
        print(
            f"{name}: {total[-1]:.1f} s at {sizes[-1]:,}, growth exponent {whole:.2f} "
            f"{sizes[0]:,}->{sizes[-1]:,} (target {TARGET_EXPONENT}; {steps}){found}"
        )
    ours = runs["this tree"]
    cpu = [run["cpu"] for run in ours]
    cpu_growth = growth(cpu[0], cpu[-1], sizes[0], sizes[-1])
    print(f"this tree, CPU seconds: growth exponent {cpu_growth:.2f}")
    for other in ("floor", "baseline") if "baseline" in runs else ("floor",):
        for n, run, base in zip(sizes, ours, runs[other], strict=True):
            print(
                f"this tree / {other} at {n:,}: {run['seconds'] / base['seconds']:.2f}x wall, "
                f"{run['cpu'] / base['cpu']:.2f}x CPU"
            )
    big = ours[-1]
    exponent = growth(ours[0]["seconds"], big["seconds"], sizes[0], sizes[-1])
    print(
        f"targets at {sizes[-1]:,}: {TARGET_SECONDS:.0f} s on an idle machine "
        f"{'met' if big['seconds'] <= TARGET_SECONDS else 'MISSED'} ({big['seconds']:.1f} s); "
        f"exponent {TARGET_EXPONENT} {'met' if exponent <= TARGET_EXPONENT else 'MISSED'}; "
        f"peak memory {TARGET_GIB:.0f} GiB {'met' if big['peak_gib'] <= TARGET_GIB else 'MISSED'}"
    )

    fast = ours[0]
    print()
    print(f"{sizes[0]:,} accounts, igraph against networkx (networkx throughout, igraph barred):")
    for stage in STAGES:
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
