"""A store with history, for the tests of documents: a generated marketplace loaded as it
grew, month by month, with detection run after each month as a weekly job would have.

Each run is recorded as finished at the end of the month it saw, so rings are first detected,
grow, shrink and retire at the times their activity happened; a few verdicts are given and
timed in between. Tests check the documents' figures against this store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from algorithms.pipeline import detect_rings
from graphfraud import __version__
from graphfraud.model import DetectionRun, RingFilter
from graphfraud.settings import get_settings
from graphfraud.store import GraphStore, open_store
from loaders.generator import generate_marketplace
from loaders.load import load_tables
from loaders.mapping import builtin_mapping

ACCOUNTS = 3_000
SEED = 1
#: The month ends detection ran at: the generated rings start between 2024 and late 2025.
CUTOFFS = ("2025-06-30", "2025-09-30", "2025-12-31", "2026-03-01")
#: Who gives the verdicts, and the note on the confirmed ring.
INVESTIGATOR = "Ivan Investigator"
NOTE = "same farm as case 12"
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
            settings=get_settings().detection.model_dump(mode="json"),
            data_from=result.data_from,
            data_to=result.data_to,
            engine="igraph",
            version=__version__,
            accounts=result.accounts,
            candidates=result.candidates,
        )
        runs.append(store.write_rings(result.rings, run=run))
    return runs


def judge(store: GraphStore) -> list[str]:
    """Give verdicts to the first three rings by id: confirmed (through review, with a
    note), benign, under review. Returns their ids."""
    ids = sorted(store.ring_index(RingFilter(active=None))["ring_id"])[:3]
    store.set_ring_status(ids[0], "under_review", actor=INVESTIGATOR)
    store.set_ring_status(ids[0], "confirmed", actor=INVESTIGATOR, note=NOTE)
    store.set_ring_status(ids[1], "benign", actor=INVESTIGATOR, note="a household")
    store.set_ring_status(ids[2], "under_review", actor=INVESTIGATOR)
    return ids


@dataclass(frozen=True)
class DocumentsWorld:
    """The grown store (a DuckDB file), the tables it was grown from, and what was done."""

    store_url: str
    data: Path
    runs: list[DetectionRun]
    judged: list[str]

    def open(self) -> GraphStore:
        return open_store(self.store_url)


@pytest.fixture(scope="session")
def documents_world(tmp_path_factory: pytest.TempPathFactory) -> DocumentsWorld:
    """A store grown month by month, detected after each month, with a few verdicts."""
    folder = tmp_path_factory.mktemp("documents")
    data = generate(folder / "data")
    store_url = f"duckdb:///{folder / 'graph.duckdb'}"
    with open_store(store_url) as store:
        runs = grow(store, data, folder)
        judged = judge(store)
    return DocumentsWorld(store_url, data, runs, judged)
