"""Ring detection on Apache Spark: the same rings as :func:`algorithms.pipeline.find_rings`, with
the per-candidate work spread over a cluster.

Links are read from Parquet (a folder, or a table the session knows). Candidate components
are found on Spark, with GraphFrames' connected components where its jar is on the session
(``io.graphframes:graphframes-spark4_2.13``), else with the same label propagation written in
DataFrames. Every component is then detected on its own, in parallel (``mapInPandas``), by the
single-machine code's own functions on the projection restricted to it
(:func:`algorithms.projection.restrict`): candidates, Leiden splits, scoring, centrality,
evidence and typology. Two passes: the first measures the candidates so the households'
sharing surprise (:func:`algorithms.scoring.household_reference`) is judged on the whole
graph, as the single-machine engine judges it; the second scores against it.

Not yet on Spark: the projection itself (hubs, rarity, account pairs) runs on the driver with
:func:`algorithms.projection.project_accounts`, so the driver must hold the links.

Install with ``pip install 'graphfraud[spark]'``; pyspark is imported here only.
"""

from __future__ import annotations

import itertools
import pickle
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
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
    span,
)
from algorithms.projection import Projection, candidate_links, project_accounts, restrict
from algorithms.risk import account_risk
from algorithms.scoring import household_reference, ring_signals
from graphfraud.errors import ConfigError
from graphfraud.model import Ring, RingEvidence
from graphfraud.settings import DetectionSettings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The GraphFrames build for the pyspark this extra installs (Spark 4.0, Scala 2.13).
GRAPHFRAMES_PACKAGE = "io.graphframes:graphframes-spark4_2.13:0.10.1"
#: How components are found: GraphFrames, label propagation in DataFrames, or the first
#: that the session can run.
Components = Literal["auto", "graphframes", "dataframes"]


def spark_session(
    *, master: str | None = None, shuffle_partitions: int | None = None, graphframes: bool = True
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
    }
    if master:
        options["spark.master"] = master
    if shuffle_partitions:
        options["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
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

        frame = read_links(self.spark, self.links).toPandas()
        stage("reading")
        data_from, data_to = span(frame)
        accounts = accounts.drop_duplicates("key")
        projection = project_accounts(
            frame, accounts=pd.Index(accounts["key"].astype(str)), settings=settings,
            engine="igraph",
        )  # fmt: skip
        del frame
        created_at, labelled = account_facts(projection, accounts)
        stage("projection")

        parts = self._parts(projection, created_at, labelled, settings)
        stage("components")
        first = self._map(parts, _first_signals, "component long, size long, surprise double",
                          settings=settings, seed=seed)  # fmt: skip
        reference = household_reference(first, settings=settings)
        stage("communities")
        found = self._map(
            parts, _component_rings, "component long, score double, evidence binary",
            settings=settings, seed=seed, reference=reference,
        )  # fmt: skip
        stage("scoring")
        found = found.sort_values(["score", "component"], ascending=[False, True], kind="stable")
        evidence: list[RingEvidence] = [pickle.loads(blob) for blob in found["evidence"]]
        rings = named_rings(evidence, previous, settings=settings)
        if self.rings_out is not None:
            write_rings_parquet(rings, self.rings_out)
        stage("ids")
        # Risk is propagated over the whole projection, which the driver holds anyway.
        risk = account_risk(projection, labelled, settings=settings)
        stage("risk")
        return DetectionResult(
            rings=rings,
            risk=risk,
            timings=timings,
            hubs=projection.hubs,
            accounts=len(projection.accounts),
            edges=len(projection.edges),
            candidates=len(first),
            data_from=data_from,
            data_to=data_to,
        )

    def _parts(
        self,
        projection: Projection,
        created_at: np.ndarray,
        labelled: np.ndarray,
        settings: DetectionSettings,
    ) -> DataFrame:
        """One row per component big enough for a ring: its id and its pickled projection."""
        pairs = candidate_links(projection, settings=settings)
        labels = self._component_labels(len(projection.accounts), pairs)
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0, True])
        rows = []
        for start, end in itertools.pairwise(bounds):
            nodes = np.sort(order[start:end])
            if len(nodes) < settings.min_ring_size:
                continue
            part = (restrict(projection, nodes), created_at[nodes], labelled[nodes])
            rows.append((int(labels[nodes[0]]), pickle.dumps(part)))
        return self.spark.createDataFrame(rows, "component long, part binary")

    def _component_labels(self, n_nodes: int, pairs: pd.DataFrame) -> np.ndarray:
        """Connected component (its smallest node id) of every node, found on Spark."""
        vertices = self.spark.createDataFrame(
            pd.DataFrame({"id": np.arange(n_nodes, dtype=np.int64)})
        )
        edges = self.spark.createDataFrame(
            pd.DataFrame({"src": pairs["a"].to_numpy(np.int64), "dst": pairs["b"].to_numpy()})
        )
        labelled = _components(self.spark, vertices, edges, how=self.components).toPandas()
        labels = np.empty(n_nodes, dtype=np.int64)
        labels[labelled["id"].to_numpy(np.int64)] = labelled["component"].to_numpy(np.int64)
        return labels

    def _map(self, parts: DataFrame, step: Any, schema: str, **options: Any) -> pd.DataFrame:
        """Run ``step(part, **options)`` on every component, in parallel; rows collected."""

        def run(batches: Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
            for batch in batches:
                for component, blob in zip(batch["component"], batch["part"], strict=True):
                    yield step(int(component), *pickle.loads(blob), **options)

        return parts.mapInPandas(run, schema).toPandas()


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


def _components(
    spark: SparkSession, vertices: DataFrame, edges: DataFrame, *, how: Components
) -> DataFrame:
    """``id`` and ``component`` (the smallest id in it) per vertex."""
    from pyspark.sql import functions as f

    if how in ("auto", "graphframes") and _has_graphframes(spark):
        from graphframes import GraphFrame  # type: ignore[import-untyped]

        if spark.sparkContext.getCheckpointDir() is None:
            # GraphFrames' components checkpoint between rounds.
            spark.sparkContext.setCheckpointDir(str(Path(tempfile.gettempdir()) / "graphfraud"))
        found = GraphFrame(vertices, edges).connectedComponents()
        # GraphFrames names a component by its smallest vertex id too.
        return found.select("id", f.col("component").cast("long"))
    if how == "graphframes":
        raise ConfigError(
            f"GraphFrames is not on this Spark session: start it with --packages "
            f"{GRAPHFRAMES_PACKAGE}, or use the DataFrame components"
        )
    return _propagate_labels(vertices, edges)


def _has_graphframes(spark: SparkSession) -> bool:
    """Whether GraphFrames' Python package and its jar are both there."""
    try:
        import graphframes  # noqa: F401
    except ImportError:
        return False
    jvm = spark.sparkContext._jvm
    try:
        jvm.java.lang.Class.forName("org.graphframes.GraphFrame")  # type: ignore[union-attr]
    except Exception:  # Py4J's error for a class not found
        return False
    return True


def _propagate_labels(vertices: DataFrame, edges: DataFrame) -> DataFrame:
    """Connected components by minimum-label propagation: every vertex takes the smallest
    label among itself and its neighbours until none changes (as many rounds as the widest
    component's diameter; candidate components are small once hubs are out)."""
    from pyspark.sql import functions as f

    both = edges.select("src", "dst").union(
        edges.select(f.col("dst").alias("src"), f.col("src").alias("dst"))
    )
    labels = vertices.select("id", f.col("id").alias("component"))
    while True:
        offered = both.join(labels, both["src"] == labels["id"]).select(
            f.col("dst").alias("id"), f.col("component")
        )
        updated = (
            labels.union(offered).groupBy("id").agg(f.min("component").alias("component"))
        ).localCheckpoint()
        changed = updated.join(labels.withColumnRenamed("component", "old"), "id").filter(
            f.col("component") < f.col("old")
        )
        if changed.isEmpty():
            return updated
        labels = updated


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
