"""Ring detection on Apache Spark: the same rings as :func:`algorithms.pipeline.find_rings`, with
the per-candidate work spread over a cluster.

Links are read from Parquet (a folder, or a table the session knows). The hub-aware
projection and its candidate components are computed in DataFrames
(:mod:`algorithms.spark_projection`), with GraphFrames' connected components where its jar
is on the session (``io.graphframes:graphframes-spark4_2.13``). Every component is then
detected on its own, in parallel (``applyInPandas`` grouped by component), by the
single-machine code's own functions on its projection: candidates, Leiden splits, scoring,
centrality, evidence and typology. Two passes: the first measures the candidates so the
households' sharing surprise (:func:`algorithms.scoring.household_reference`) is judged on the
whole graph, as the single-machine engine judges it; the second scores against it. The driver
gathers what is small (hub decisions, rings) and the edges, for the risk propagation.

Install with ``pip install 'graphfraud[spark]'``; pyspark is imported here only.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from algorithms.pipeline import (
    STAGES,
    DetectionResult,
    Progress,
    account_facts,
    candidate_groups,
    explain_rings,
    named_rings,
    score_candidates,
)
from algorithms.projection import Projection
from algorithms.risk import account_risk
from algorithms.scoring import household_reference, ring_signals
from graphfraud.errors import ConfigError
from graphfraud.model import Ring, RingEvidence
from graphfraud.settings import DetectionSettings, get_settings
from graphfraud.store.records import aware_utc

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from algorithms.spark_projection import SparkProjection

#: The GraphFrames build for the pyspark this extra installs (Spark 4.0, Scala 2.13).
GRAPHFRAMES_PACKAGE = "io.graphframes:graphframes-spark4_2.13:0.10.1"
#: How components are found: GraphFrames, label propagation in DataFrames, or the first
#: that the session can run.
Components = Literal["auto", "graphframes", "dataframes"]
#: Heap of a session started here. In local mode the executors run inside the driver's JVM, so
#: this is all the engine's memory; Spark's default of 1 GiB ran out at 100k accounts. The
#: driver itself gathers the account keys and edges (for risk) and the hub decisions.
DRIVER_MEMORY = "4g"


def spark_session(
    *,
    master: str | None = None,
    shuffle_partitions: int | None = None,
    graphframes: bool = True,
    driver_memory: str | None = DRIVER_MEMORY,
) -> SparkSession:
    """The active Spark session, or a new one (asking for the GraphFrames jar).

    Parameters
    ----------
    master
        Spark master for a new session, e.g. ``local[2]``; ``None``: what ``spark-submit`` or
        the environment says (``local[*]`` when nothing does).
    shuffle_partitions
        ``spark.sql.shuffle.partitions`` for a new session (a few on one machine).
    graphframes
        Whether a new session fetches :data:`GRAPHFRAMES_PACKAGE` (from Maven Central, once);
        where it cannot be had, the session starts without it.
    driver_memory
        ``spark.driver.memory`` for a new session started here (not under ``spark-submit``,
        whose ``--driver-memory`` has already sized the JVM); ``None``: Spark's default.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ConfigError(
            "the Spark engine needs pyspark: install it with pip install 'graphfraud[spark]'"
        ) from error
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    options = {
        "spark.app.name": "graphfraud",
        # Frames cross between the JVM and pandas as Arrow, not row by row.
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    if master:
        options["spark.master"] = master
    if shuffle_partitions:
        options["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    if driver_memory:
        options["spark.driver.memory"] = driver_memory
    if graphframes:
        try:
            return _built({**options, "spark.jars.packages": GRAPHFRAMES_PACKAGE})
        except Exception:  # the jar's repository unreachable: run without GraphFrames
            pass
    return _built(options)


def _built(options: Mapping[str, str]) -> SparkSession:
    """A new session with these options."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in options.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def read_links(spark: SparkSession, source: str) -> DataFrame:
    """Links (``LINK_COLUMNS``) from a Parquet folder or file, or a table of that name."""
    if Path(source).exists() or "://" in source:
        return spark.read.parquet(source)
    if spark.catalog.tableExists(source):
        return spark.table(source)
    raise ConfigError(f"links {source!r}: no such Parquet folder or table")


@dataclass
class SparkFinder:
    """Finds rings as :func:`algorithms.pipeline.find_rings` does, on Spark.

    Called like ``find_rings`` (``detect_rings(store, finder=SparkFinder(...))``), it reads
    the links from ``links`` instead of the store.

    Attributes
    ----------
    spark
        The session to run on.
    links
        Parquet folder or table name of the links.
    rings_out
        Where to write the rings as Parquet (``None``: nowhere).
    components
        How to find components (:data:`Components`).
    """

    spark: SparkSession
    links: str
    rings_out: Path | None = None
    components: Components = "auto"

    def __call__(
        self,
        links: object,
        accounts: pd.DataFrame,
        *,
        settings: DetectionSettings | None = None,
        seed: int = 0,
        previous: Mapping[str, Sequence[str]] | None = None,
        progress: Progress | None = None,
        **_: Any,
    ) -> DetectionResult:
        del links  # read from Parquet instead
        settings = settings or get_settings().detection
        tell = progress or (lambda stage, done, total: None)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def stage(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = timings.get(name, 0.0) + now - clock
            clock = now
            tell(name, STAGES.index(name) + 1, len(STAGES))

        from algorithms.spark_projection import project_links

        whole = project_links(
            self.spark, read_links(self.spark, self.links), accounts, settings=settings,
            components=self.components,
        )  # fmt: skip
        stage("projection")
        first = self._map(whole, _first_signals, "component long, size long, surprise double",
                          settings=settings, seed=seed)  # fmt: skip
        reference = household_reference(first, settings=settings)
        stage("communities")
        found = self._map(
            whole, _component_rings, "component long, score double, evidence binary",
            settings=settings, seed=seed, reference=reference,
        )  # fmt: skip
        stage("scoring")
        whole.parts.unpersist()
        found = found.sort_values(["score", "component"], ascending=[False, True], kind="stable")
        evidence: list[RingEvidence] = [pickle.loads(blob) for blob in found["evidence"]]
        rings = named_rings(evidence, previous, settings=settings)
        if self.rings_out is not None:
            write_rings_parquet(rings, self.rings_out)
        stage("ids")
        summary = whole.summary
        labelled = account_facts(summary, accounts.drop_duplicates("key"))[1]
        # Risk is propagated over the whole graph's edges, which the driver gathers for it.
        risk = account_risk(summary, labelled, settings=settings)
        stage("risk")
        return DetectionResult(
            rings=rings,
            risk=risk,
            timings=timings,
            hubs=summary.hubs,
            accounts=len(summary.accounts),
            edges=whole.edges,
            candidates=len(first),
            data_from=aware_utc(whole.span[0]),
            data_to=aware_utc(whole.span[1]),
        )

    def _map(self, whole: SparkProjection, step: Any, schema: str, **options: Any) -> pd.DataFrame:
        """Run ``step(component, projection, created_at, labelled, **options)`` on every
        component, in parallel (grouped by component id); its rows collected."""
        from algorithms.spark_projection import component_projection

        kinds, links, summary = whole.kinds, whole.links, whole.summary

        def run(rows: pd.DataFrame) -> pd.DataFrame:
            projection, created_at, labelled = component_projection(
                rows, kinds=kinds, links=links, whole=summary
            )
            return step(int(rows["component"].iloc[0]), projection, created_at, labelled,
                        **options)  # fmt: skip

        return whole.parts.groupBy("component").applyInPandas(run, schema).toPandas()


def _first_signals(
    component: int,
    projection: Projection,
    created_at: np.ndarray,
    labelled: np.ndarray,
    *,
    settings: DetectionSettings,
    seed: int,
) -> pd.DataFrame:
    """A component's first candidates' size and sharing surprise (the households' reference
    is judged on these, over the whole graph)."""
    _, candidates = candidate_groups(projection, settings=settings, seed=seed, engine="igraph")
    signals = ring_signals(
        projection, candidates, created_at=created_at, labelled=labelled, settings=settings,
        engine="igraph",
    )  # fmt: skip
    return pd.DataFrame(
        {"component": component, "size": signals["size"], "surprise": signals["surprise"]}
    )


def _component_rings(
    component: int,
    projection: Projection,
    created_at: np.ndarray,
    labelled: np.ndarray,
    *,
    settings: DetectionSettings,
    seed: int,
    reference: float,
) -> pd.DataFrame:
    """A component's rings, scored against the whole graph's reference, with evidence."""
    _, candidates = candidate_groups(projection, settings=settings, seed=seed, engine="igraph")
    scored = score_candidates(
        projection, candidates, created_at=created_at, labelled=labelled, reference=reference,
        settings=settings, seed=seed, engine="igraph",
    )  # fmt: skip
    evidence = explain_rings(
        projection, scored.rings, scored.signals, scored.scores, created_at=created_at,
        labelled=labelled, reference=reference, describe=None, settings=settings, seed=seed,
        engine="igraph",
    )  # fmt: skip
    return pd.DataFrame(
        {
            "component": component,
            "score": [e.score.total for e in evidence],
            "evidence": [pickle.dumps(e) for e in evidence],
        }
    )


def export_links(links: pd.DataFrame, path: Path) -> Path:
    """Write links as Parquet partitioned by link kind (what :class:`SparkFinder` reads)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(links.astype({"kind": str}), preserve_index=False)
    pq.write_to_dataset(table, root_path=path, partition_cols=["kind"])
    return path


def write_rings_parquet(rings: Sequence[Ring], path: Path) -> None:
    """Rings as Parquet, one row per member: ring id, score, typology, account, role."""
    rows = pd.DataFrame(
        [
            {
                "ring_id": ring.ring_id,
                "score": ring.score,
                "typology": ring.typology,
                "account": member.account,
                "role": member.role,
                "pagerank": member.pagerank,
            }
            for ring in rings
            for member in ring.members
        ],
        columns=["ring_id", "score", "typology", "account", "role", "pagerank"],
    )
    path.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(path / "rings.parquet", index=False)
