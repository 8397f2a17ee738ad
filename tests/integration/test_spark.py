"""The Spark engine in local mode finds the single-machine engine's rings on a generated
marketplace, and ``detect --engine spark`` runs on its own from a store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from algorithms.pipeline import find_rings
from algorithms.spark import SparkFinder, export_links, spark_session
from graphfraud.cli import app
from graphfraud.model import Page
from graphfraud.store import open_store
from loaders.generator import generate_marketplace
from loaders.load import load_tables
from loaders.mapping import builtin_mapping
from tests.unit.planted_graphs import marketplace as planted_marketplace


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("spark")
    generate_marketplace(folder / "data", accounts=20_000, seed=3)
    url = f"duckdb:///{folder / 'graph.duckdb'}"
    with open_store(url) as store:
        load_tables(store, builtin_mapping("marketplace"), folder / "data")
    return url


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    # Two local cores and a few shuffle partitions: a small graph on a shared machine.
    session = spark_session(master="local[2]", shuffle_partitions=4, graphframes=False)
    yield session
    session.stop()


def _rings(rings: list) -> dict[frozenset[str], float]:
    return {frozenset(ring.accounts): round(ring.score, 9) for ring in rings}


def test_spark_engine_finds_the_same_rings_as_one_machine(
    marketplace: str, spark: object, tmp_path: Path
) -> None:
    with open_store(marketplace) as store:
        links, accounts = store.links(), store.entities(kind="Account")
    alone = find_rings(links, accounts, seed=0)
    parquet = export_links(links, tmp_path / "links")
    spread = SparkFinder(spark, str(parquet), rings_out=tmp_path / "rings")(  # type: ignore[arg-type]
        None, accounts, seed=0
    )
    assert len(alone.rings) >= 10  # the planted rings are there to compare
    assert _rings(spread.rings) == _rings(alone.rings)
    assert [r.typology for r in spread.rings] == [r.typology for r in alone.rings]
    written = pd.read_parquet(tmp_path / "rings" / "rings.parquet")
    assert set(written["ring_id"]) == {ring.ring_id for ring in spread.rings}


def test_detect_with_the_spark_engine_writes_rings_to_the_store(
    spark: object, tmp_path: Path
) -> None:
    url = f"duckdb:///{tmp_path / 'graph.duckdb'}"
    planted, rings = planted_marketplace()
    with open_store(url) as store:
        store.ensure_schema()
        store.upsert_entities(planted.accounts())
        store.upsert_links(planted.links())
    out = tmp_path / "rings"
    result = CliRunner().invoke(
        app, ["detect", "--engine", "spark", "--store", url, "--rings-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with open_store(url) as store:
        stored = store.rings(page=Page(limit=1000))
        runs = store.runs()
    found = {frozenset(ring.accounts) for ring in stored.rings}
    assert frozenset(rings["device_farm"]) in found
    assert runs[0].engine == "spark"
    written = pd.read_parquet(out / "rings.parquet")
    assert set(written["ring_id"]) == {ring.ring_id for ring in stored.rings}
