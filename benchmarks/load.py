"""Generate and load synthetic marketplaces of growing size, beside a plain-DuckDB floor.

Prints, per size: generation time, load time, links written per second and the peak memory of
each stage (each stage runs in a process of its own, so its peak is its own), and the same
figures for the **floor** measured in the same run on the same files: DuckDB reads every CSV
with ``read_csv``, builds the links with one GROUP BY and the entities table, and builds the
same key indexes — what any loader of these tables into DuckDB has to pay, with no
normalisation, no checks and no rejects. The ratio load / floor is the figure to watch; the
machine may be busy, so absolute times say less than the ratio. On a machine shared with other
work the wall-clock ratio says more about the neighbours than about the load, so the CPU
seconds of each (every thread of its process) and their ratio are printed too, and where the
load's time went, stage by stage.

Targets (issue 15): 1M accounts load in at most 1.2x the floor, with a peak of at most 4 GiB.

    python3 benchmarks/load.py                  # 10k, 100k, 1M
    python3 benchmarks/load.py --sizes 100000   # just one size
    python3 benchmarks/load.py --sizes 1000000 --data /tmp/m1m   # tables generated before
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from memory import peak_gib

TARGET_RATIO = 1.2
TARGET_GIB = 4.0


def stage_generate(folder: Path, accounts: int) -> dict[str, float]:
    from loaders.generator import generate_marketplace

    started = time.perf_counter()
    generate_marketplace(folder, accounts=accounts, seed=1)
    return {"seconds": time.perf_counter() - started, "peak_gib": peak_gib()}


class Stages:
    """Wall and CPU seconds of each stage a load reports through its ``progress``."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self._stage = "opening"
        self._since = (time.perf_counter(), time.process_time())

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.switch(stage.split()[0])  # "reading accounts" counts as reading

    def switch(self, stage: str) -> None:
        if stage == self._stage:
            return
        now = (time.perf_counter(), time.process_time())
        spent = self.seconds.setdefault(self._stage, [0.0, 0.0])
        spent[0] += now[0] - self._since[0]
        spent[1] += now[1] - self._since[1]
        self._stage, self._since = stage, now


def stage_load(folder: Path) -> dict[str, object]:
    from graphfraud.store import open_store
    from loaders import builtin_mapping, load_tables

    started, cpu = time.perf_counter(), time.process_time()
    stages = Stages()
    # Timed through close: the store builds its lookup indexes after a bulk load.
    with open_store(f"duckdb:///{folder / 'graph.duckdb'}") as store:
        report = load_tables(store, builtin_mapping(), folder, progress=stages)
        stages.switch("closing")
    stages.switch("done")
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "stages": stages.seconds,
        "links": report.links,
        "entities": report.entities,
        "rows": report.read,
        "peak_gib": peak_gib(),
    }


def floor_sql(folder: Path) -> str:
    """The floor's statements for the built-in mapping's tables in ``folder``.

    Every link of the mapping straight from the raw text (no normalisation), aggregated in one
    GROUP BY; the entities are the links' endpoints plus the accounts' creation time and label.
    """
    from loaders import builtin_mapping

    parts, attributes = [], []
    for source in builtin_mapping().sources:
        table = f"read_csv('{folder / (source.table + '.csv')}', all_varchar = true)"
        stamp = f"try_cast({source.timestamp} AS TIMESTAMP)" if source.timestamp else "NULL"
        amount = f"try_cast({source.amount} AS DOUBLE)" if source.amount else "NULL"
        targets = [(c.column, c.link_kind, c.kind) for c in source.identifiers]
        targets += [(c.column, c.link, "Account") for c in source.accounts]
        for column, link, kind in targets:
            parts.append(
                f"SELECT 'Account' AS src_kind, {source.account} AS src_key, '{link}' AS kind, "
                f"'{kind}' AS dst_kind, {column} AS dst_key, {stamp} AS ts, {amount} AS amount "
                f"FROM {table} WHERE {source.account} IS NOT NULL AND {column} IS NOT NULL"
            )
        if source.created_at or source.label:
            created = f"try_cast({source.created_at} AS TIMESTAMP)" if source.created_at else "NULL"
            label = source.label or "NULL"
            attributes.append(
                f"SELECT {source.account} AS key, {created} AS created_at, {label} AS label "
                f"FROM {table} WHERE {source.account} IS NOT NULL"
            )
    return f"""
        CREATE TABLE links AS
        SELECT src_kind, src_key, kind, dst_kind, dst_key, min(ts) AS first_seen,
               max(ts) AS last_seen, count(*) AS count, sum(amount) AS amount
        FROM ({" UNION ALL ".join(parts)}) GROUP BY ALL;
        CREATE TABLE entities AS
        SELECT kind, key, NULL::VARCHAR AS display, min(created_at) AS created_at,
               max(label) AS label
        FROM (SELECT src_kind AS kind, src_key AS key, NULL::TIMESTAMP AS created_at,
                     NULL::VARCHAR AS label FROM links
              UNION ALL SELECT dst_kind, dst_key, NULL, NULL FROM links
              UNION ALL SELECT 'Account', key, created_at, label
                        FROM ({" UNION ALL ".join(attributes)}))
        GROUP BY kind, key;
        CREATE INDEX entities_key ON entities (key);
        CREATE INDEX links_src_key ON links (src_key);
        CREATE INDEX links_dst_key ON links (dst_key);
    """


def stage_floor(folder: Path) -> dict[str, float]:
    """The floor: plain DuckDB from CSV to indexed tables, through close."""
    import duckdb

    statements = floor_sql(folder)
    started, cpu = time.perf_counter(), time.process_time()
    with duckdb.connect(str(folder / "floor.duckdb")) as db:
        db.execute(statements)
        links = db.sql("SELECT count(*) FROM links").fetchall()[0][0]
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "links": links,
        "peak_gib": peak_gib(),
    }


STAGES = {"generate": stage_generate, "load": stage_load, "floor": stage_floor}


def run_stage(stage: str, folder: Path, accounts: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--stage", stage, "--folder", str(folder)]
    command += ["--accounts", str(accounts)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    from loaders import builtin_mapping

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--data",
        type=Path,
        help="a folder the generator already filled (with --sizes' one size and seed 1), read "
        "instead of generating",
    )
    parser.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        if args.stage == "generate":
            print(json.dumps(stage_generate(args.folder, args.accounts)))
        else:
            print(json.dumps(STAGES[args.stage](args.folder)))  # type: ignore[operator]
        return

    print(
        f"{'accounts':>10} {'rows':>11} {'links':>11} {'load s':>8} {'floor s':>8} "
        f"{'ratio':>6} {'load cpu':>9} {'floor cpu':>10} {'cpu ratio':>9} {'links/s':>10} "
        f"{'load GiB':>9} {'floor GiB':>10}"
    )
    breakdowns = []
    if args.data is not None and len(args.sizes) != 1:
        parser.error("--data holds one size: give that one with --sizes")
    for accounts in args.sizes:
        with tempfile.TemporaryDirectory(prefix="graphfraud-bench-") as tmp:
            folder = Path(tmp)
            if args.data is None:
                run_stage("generate", folder, accounts)
            else:
                # The mapping's tables only: a rejects file there is the load's output, and
                # written through a link it would overwrite the given folder's.
                for source in builtin_mapping().sources:
                    name = f"{source.table}.csv"
                    (folder / name).symlink_to((args.data / name).resolve())
            floor = run_stage("floor", folder, accounts)
            loaded = run_stage("load", folder, accounts)
        ratio = loaded["seconds"] / floor["seconds"]
        print(
            f"{accounts:>10,} {loaded['rows']:>11,.0f} {loaded['links']:>11,.0f} "
            f"{loaded['seconds']:>8.1f} {floor['seconds']:>8.1f} {ratio:>6.2f} "
            f"{loaded['cpu']:>9.1f} {floor['cpu']:>10.1f} {loaded['cpu'] / floor['cpu']:>9.2f} "
            f"{loaded['links'] / loaded['seconds']:>10,.0f} {loaded['peak_gib']:>9.2f} "
            f"{floor['peak_gib']:>10.2f}",
            flush=True,
        )
        spent = ", ".join(
            f"{stage} {wall:.1f} s ({cpu:.1f} s cpu)"
            for stage, (wall, cpu) in loaded["stages"].items()
        )
        breakdowns.append(f"{accounts:,} accounts, load by stage: {spent}")
    print("", *breakdowns, sep="\n")
    print(f"\ntargets: load at most {TARGET_RATIO}x the floor, peak at most {TARGET_GIB} GiB")


if __name__ == "__main__":
    main()
