"""A store with history, for the tests of documents: a generated marketplace loaded as it
grew, month by month, with detection run after each month as a weekly job would have.

Each run is recorded as finished at the end of the month it saw, so rings are first detected,
grow, shrink and retire at the times their activity happened; a few verdicts are given and
timed in between. Tests check the documents' figures against this store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from algorithms.pipeline import detect_rings
from graphfraud import __version__
from graphfraud.model import DetectionRun
from graphfraud.store import GraphStore
from loaders.generator import generate_marketplace
from loaders.load import load_tables
from loaders.mapping import builtin_mapping

ACCOUNTS = 3_000
SEED = 1
#: The month ends detection ran at: the generated rings start between 2024 and late 2025.
CUTOFFS = ("2025-06-30", "2025-09-30", "2025-12-31", "2026-03-01")
#: Each table's time column: a snapshot holds the rows up to the cutoff.
TIME_COLUMNS = ("created_at", "added_at", "ts")


def generate(folder: Path) -> Path:
    """The generated marketplace's tables, in ``folder``."""
    generate_marketplace(folder, accounts=ACCOUNTS, seed=SEED)
    return folder


def snapshot(data: Path, cutoff: str) -> dict[str, pd.DataFrame]:
    """The tables as an export made at ``cutoff`` would hold them."""
    stop = pd.Timestamp(cutoff, tz="UTC")
    tables = {}
    for path in sorted(data.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        column = next(c for c in TIME_COLUMNS if c in frame.columns)
        times = pd.to_datetime(frame[column], utc=True, errors="coerce")
        # Rows with a time that cannot be read stay: the loader rejects them, as it would.
        tables[path.stem] = frame[~(times >= stop)]
    return tables


def grow(store: GraphStore, data: Path, folder: Path) -> list[DetectionRun]:
    """Load ``data`` month by month into ``store``, detecting after each; returns the runs."""
    runs = []
    for number, cutoff in enumerate(CUTOFFS):
        load_tables(
            store, builtin_mapping(), snapshot(data, cutoff), rejects_path=folder / "rejects.csv"
        )
        result = detect_rings(store, seed=SEED, write=False)
        finished = datetime.fromisoformat(cutoff).replace(tzinfo=UTC)
        run = DetectionRun(
            run_id=f"run-{number + 1}",
            started_at=finished,
            finished_at=finished,
            data_from=result.data_from,
            data_to=result.data_to,
            engine="igraph",
            version=__version__,
            accounts=result.accounts,
            candidates=result.candidates,
        )
        runs.append(store.write_rings(result.rings, run=run))
    return runs


__all__ = ["CUTOFFS", "generate", "grow", "snapshot"]
