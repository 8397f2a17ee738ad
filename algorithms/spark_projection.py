"""The hub-aware account projection (:func:`algorithms.projection.project_accounts`) in Spark
DataFrames, so that no one machine holds every link.

Everything large stays a DataFrame: identifier use per kind, account pairs through non-hub
identifiers, direct ties, the candidate graph and its components. What reaches the driver is
small and is handed to the single-machine functions themselves, so every decision and weight
is theirs, not a copy:

- the hub test's fences come from the per-kind histogram of users per thing
  (:func:`algorithms.hubs.kind_fences` on it), its cohesion from the few tested groups'
  sampled users and their other things (:func:`algorithms.hubs.tied_share`);
- spelling stems and rarity weights are computed by :func:`algorithms.hubs.spelling_stems` and
  :func:`algorithms.projection.rarity` on each partition (pandas UDFs);
- money cycles are found by :func:`algorithms.engines.strong_components` on the repeated
  transfers between non-hub accounts (a small directed graph).

Accounts are numbered in key order and identifiers ordered by (kind, key), as on one machine,
so a component's projection (:func:`component_projection`) equals
:func:`algorithms.projection.restrict` of the whole one.

Connected components of the candidate graph use GraphFrames where its jar is on the session,
else the same family of algorithm in DataFrames: iterative minimum-label propagation, as in
GraphFrames' own ``connectedComponents`` (Kiveris et al., "Connected Components in MapReduce
and Beyond", SoCC 2014, whose small-star / large-star rounds GraphFrames implements).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as f
from pyspark.sql.types import LongType

from algorithms.engines import scrambled, strong_components
from algorithms.hubs import kind_fences, spelling_stems, tied_share
from algorithms.projection import IDENTIFIER_COLUMNS, Projection, rarity
from algorithms.spark import GRAPHFRAMES_PACKAGE, Components
from graphfraud.errors import ConfigError
from graphfraud.model import ACCOUNT_LINKS, LINK_COLUMNS, EntityKind, LinkKind
from graphfraud.settings import DetectionSettings

#: Columns of the per-component rows (:attr:`SparkProjection.parts`); ``piece`` says which of
#: a projection's tables a row belongs to, and the columns it does not use are null.
PART_SCHEMA = (
    "component long, piece string, node long, key string, created_at timestamp_ntz, "
    "labelled boolean, ikind string, ikey string, link string, accounts long, "
    "group_accounts long, fence double, cohesion double, rarity double, hub boolean, "
    "weight double, first_seen timestamp_ntz, a long, b long, shared long, src long, dst long, "
    "kind string, count long, amount double"
)


@dataclass(frozen=True)
class SparkProjection:
    """The projection as Spark holds it, and the small facts the driver keeps.

    Attributes
    ----------
    parts
        Every component big enough for a ring, as rows of :data:`PART_SCHEMA` (cached):
        its accounts, identifier uses, ownerships, edges and direct links.
    summary
        A driver-side :class:`Projection` of the whole graph for what needs it whole: account
        keys, edges (risk propagation walks them), hub identifiers, hub accounts and
        ``kind_users``; no identifier uses.
    kinds, links
        Every entity kind and link kind in the graph, sorted (categories of the tables).
    edges
        Edges of the whole projection.
    span
        Earliest ``first_seen`` and latest ``last_seen`` of the links.
    """

    parts: DataFrame
    summary: Projection
    kinds: list[str]
    links: list[str]
    edges: int
    span: tuple[object, object]


def project_links(
    spark: SparkSession,
    links: DataFrame,
    accounts: pd.DataFrame,
    *,
    settings: DetectionSettings,
    components: Components = "auto",
) -> SparkProjection:
    """Project ``links`` (``LINK_COLUMNS``) onto accounts and cut it into components.

    Parameters
    ----------
    spark
        The session.
    links
        The links.
    accounts
        Accounts (``key``, ``created_at``, ``label``); those without links are counted too.
    settings
        As for :func:`algorithms.projection.project_accounts`.
    components
        How to find components (:data:`Components`).
    """
    is_account = f.col("src_kind") == EntityKind.ACCOUNT.value
    direct_link = (
        is_account
        & (f.col("dst_kind") == EntityKind.ACCOUNT.value)
        & f.col("kind").isin(sorted(ACCOUNT_LINKS))
    )
    links = links.select(
        *LINK_COLUMNS,
        direct_link.alias("direct"),
        (is_account & ~direct_link).alias("through"),
    )
    facts = spark.createDataFrame(
        accounts.drop_duplicates("key")
        .astype({"key": object})
        .assign(
            key=accounts["key"].astype(str),
            created_at=pd.to_datetime(accounts["created_at"]).astype("datetime64[us]"),
            labelled=accounts["label"].notna(),
        )[["key", "created_at", "labelled"]],
        "key string, created_at timestamp_ntz, labelled boolean",
    )
    numbered = _numbered(
        facts.select("key")
        .union(links.select(f.col("src_key").alias("key")))
        .union(links.filter("direct").select(f.col("dst_key").alias("key")))
        .distinct()
    )
    link_names = sorted(r[0] for r in links.select("kind").distinct().collect())
    weights = {name: settings.link_weights.get(name, 1.0) for name in link_names}
    # An account's strongest use of an identifier is kept, as on one machine.
    order = np.argsort(np.argsort(-np.array([weights[n] for n in link_names]), kind="stable"))
    strength = dict(zip(link_names, order.tolist(), strict=True))

    src = numbered.select(f.col("key").alias("src_key"), f.col("node"))
    usage = (
        links.filter("through")
        .join(src, "src_key")
        .select(
            "node",
            f.col("dst_kind").alias("ikind"),
            f.col("dst_key").alias("ikey"),
            f.col("kind").alias("link"),
            _lookup(weights, "kind").alias("weight"),
            _lookup(strength, "kind").alias("strength"),
            "first_seen",
        )
    )
    owners = usage.filter(f.col("link") == LinkKind.OWNS.value).select("node", "ikind", "ikey")
    strongest = Window.partitionBy("ikind", "ikey", "node").orderBy("strength")
    usage = (
        usage.withColumn("rank", f.row_number().over(strongest))
        .filter("rank = 1")
        .drop("rank", "strength")
        .localCheckpoint()
    )
    identifiers = usage.groupBy("ikind", "ikey").agg(
        f.count("*").alias("accounts"), f.min_by("link", "node").alias("link")
    )
    direct = (
        links.filter("direct")
        .join(src, "src_key")
        .join(numbered.select(f.col("key").alias("dst_key"), f.col("node").alias("dst")), "dst_key")
        .select(
            f.col("node").alias("src"),
            "dst",
            "kind",
            "count",
            "amount",
            "first_seen",
            _lookup(weights, "kind").alias("weight"),
        )
        .localCheckpoint()
    )
    counterparties = (
        direct.filter(f.col("src") != f.col("dst"))
        .select(f.least("src", "dst").alias("first"), f.greatest("src", "dst").alias("second"))
        .distinct()
    )

    judged = _judge_hubs(spark, usage, identifiers, counterparties, numbered, settings)
    identifiers = (
        identifiers.join(judged.identifiers, ["ikind", "ikey"])
        .withColumn("rarity", _rarity(settings)(f.col("group_accounts")))
        .localCheckpoint()
    )
    # A use takes its identifier's facts, and the link kind of its strongest use.
    usage = usage.drop("link").join(identifiers, ["ikind", "ikey"])

    edges = (
        _identifier_pairs(usage)
        .unionByName(_direct_pairs(direct, counterparties, judged.hub_accounts, settings))
        .groupBy("a", "b")
        .agg(f.sum("weight").alias("weight"), f.sum("shared").alias("shared"))
        .localCheckpoint()
    )
    joining = usage.filter(
        (f.col("accounts") >= 2)
        & (f.col("accounts") <= settings.max_ring_size / settings.attach_share)
    )
    # Each joining identifier's users tied to its first user: a star, found in few rounds.
    stars = joining.withColumn(
        "centre", f.min("node").over(Window.partitionBy("ikind", "ikey"))
    ).filter(f.col("node") != f.col("centre"))
    candidate = edges.select(f.col("a").alias("src"), f.col("b").alias("dst")).union(
        stars.select(f.col("centre").alias("src"), f.col("node").alias("dst"))
    )
    vertices = (
        candidate.select(f.col("src").alias("id"))
        .union(candidate.select(f.col("dst").alias("id")))
        .distinct()
    )
    labels = _components(spark, vertices, candidate, how=components)
    size = Window.partitionBy("component")
    member = (
        labels.withColumn("size", f.count("*").over(size))
        .filter(f.col("size") >= settings.min_ring_size)
        .select(f.col("id").alias("node"), "component")
        .localCheckpoint()
    )

    parts = _parts(member, numbered, facts, usage, owners, edges, direct).localCheckpoint()
    kinds = sorted(r[0] for r in identifiers.select("ikind").distinct().collect())
    span = links.agg(f.min("first_seen"), f.max("last_seen")).first()
    summary = _summary(numbered, edges, identifiers, judged.account_hubs, settings)
    return SparkProjection(
        parts=parts,
        summary=summary,
        kinds=kinds,
        links=link_names,
        edges=edges.count(),
        span=(span[0], span[1]) if span is not None else (None, None),
    )


def component_projection(
    rows: pd.DataFrame, *, kinds: list[str], links: list[str], whole: Projection
) -> tuple[Projection, np.ndarray, np.ndarray]:
    """One component's projection, creation times and known-bad flags, from its rows.

    Nodes are renumbered in key order and identifiers in (kind, key) order, as
    :func:`algorithms.projection.restrict` renumbers them; ``whole`` gives what stays the whole
    graph's (``account_hubs``, ``kind_users``).
    """
    piece = rows["piece"].to_numpy()
    accounts = rows[piece == "account"].sort_values("node")
    local = pd.Index(accounts["node"].to_numpy(np.int64))

    uses = rows[piece == "usage"].sort_values(["ikind", "ikey", "node"])
    identifier, _ = pd.factorize(pd.MultiIndex.from_frame(uses[["ikind", "ikey"]]))
    heads = uses.drop_duplicates(["ikind", "ikey"])
    identifiers = pd.DataFrame(
        {
            "kind": pd.Categorical(heads["ikind"], categories=kinds),
            "key": heads["ikey"].to_numpy(dtype=object),
            "link": pd.Categorical(heads["link"], categories=links),
            **{
                column: heads[column].to_numpy()
                for column in ("accounts", "group_accounts", "fence", "cohesion", "rarity", "hub")
            },
        }
    )[list(IDENTIFIER_COLUMNS)].astype(
        {"accounts": np.int64, "group_accounts": np.int64, "hub": bool}
    )
    usage = pd.DataFrame(
        {
            "node": local.get_indexer(uses["node"]),
            "identifier": identifier.astype(np.int64),
            "weight": uses["weight"].to_numpy("float64"),
            "first_seen": uses["first_seen"].to_numpy("datetime64[us]"),
        }
    )
    owned = rows[piece == "owner"]
    position = pd.MultiIndex.from_frame(heads[["ikind", "ikey"]]).get_indexer(
        pd.MultiIndex.from_frame(owned[["ikind", "ikey"]])
    )
    owners = pd.DataFrame(
        {"node": local.get_indexer(owned["node"]), "identifier": position.astype(np.int64)}
    ).sort_values(["identifier", "node"], kind="stable")
    edges = rows[piece == "edge"].sort_values(["a", "b"])
    direct = rows[piece == "direct"].sort_values(["src", "dst", "kind", "first_seen"])
    projection = Projection(
        accounts=pd.Index(accounts["key"].to_numpy(dtype=object), dtype=object),
        edges=pd.DataFrame(
            {
                "a": local.get_indexer(edges["a"]),
                "b": local.get_indexer(edges["b"]),
                "weight": edges["weight"].to_numpy("float64"),
                "shared": edges["shared"].to_numpy(np.int64),
            }
        ),
        identifiers=identifiers,
        usage=usage,
        direct=pd.DataFrame(
            {
                "src": local.get_indexer(direct["src"]),
                "dst": local.get_indexer(direct["dst"]),
                "kind": direct["kind"].to_numpy(dtype=object),
                "count": direct["count"].to_numpy(np.int64),
                "amount": direct["amount"].to_numpy("float64"),
                "first_seen": direct["first_seen"].to_numpy("datetime64[us]"),
            }
        ),
        owners=owners.reset_index(drop=True),
        account_hubs=whole.account_hubs,
        kind_users=whole.kind_users,
    )
    created_at = accounts["created_at"].to_numpy("datetime64[us]")
    return projection, created_at, accounts["labelled"].fillna(False).to_numpy(bool)


@dataclass(frozen=True)
class _Hubs:
    """The hub test's outcome: per identifier (``ikind``, ``ikey``) its test columns, the hub
    accounts' node ids, and the hub accounts' report rows."""

    identifiers: DataFrame
    hub_accounts: DataFrame
    account_hubs: pd.DataFrame


def _judge_hubs(
    spark: SparkSession,
    usage: DataFrame,
    identifiers: DataFrame,
    counterparties: DataFrame,
    numbered: DataFrame,
    settings: DetectionSettings,
) -> _Hubs:
    """:func:`algorithms.hubs.decide_hubs` over identifiers and accounts, on Spark.

    Things are grouped by spelling stem; an account is a thing its direct counterparties use
    (its stem is ``Account <key>``), as in :func:`algorithms.projection.project_accounts`.
    """
    shared = identifiers.filter("accounts >= 2")
    stems = _stems(shared.select("ikind", "ikey")).unionByName(
        identifiers.filter("accounts < 2").select(
            "ikind", "ikey", f.concat_ws("\0", "ikind", "ikey").alias("stem")
        )
    )
    things = (
        identifiers.join(stems, ["ikind", "ikey"])
        .select(
            "ikind",
            "ikey",
            "stem",
            f.col("ikind").alias("kind"),
            ((f.col("accounts") >= 2) & (f.col("ikind") != EntityKind.ACCOUNT.value)).alias(
                "telling"
            ),
        )
        .localCheckpoint()
    )
    account_stem = numbered.select(
        "node", f.concat(f.lit(EntityKind.ACCOUNT.value + " "), "key").alias("stem")
    )
    by_first = counterparties.join(account_stem.withColumnRenamed("node", "second"), "second")
    by_second = counterparties.join(account_stem.withColumnRenamed("node", "first"), "first")
    account_kind = f.lit(EntityKind.ACCOUNT.value)
    pairs = (
        usage.join(things, ["ikind", "ikey"])
        .select("stem", "node", "kind")
        .unionByName(
            by_first.select("stem", f.col("first").alias("node"), account_kind.alias("kind"))
        )
        .unionByName(
            by_second.select("stem", f.col("second").alias("node"), account_kind.alias("kind"))
        )
        .distinct()
        .localCheckpoint()
    )
    groups = pairs.groupBy("stem").agg(f.count("*").alias("users"), f.first("kind").alias("kind"))

    histogram = groups.groupBy("kind", "users").count().toPandas()
    fences = _fences(histogram, settings)
    fence = _lookup(fences, "kind", default=float(settings.hub_min_accounts))
    groups = groups.withColumn("fence", fence).localCheckpoint()
    tested = groups.filter(f.col("users") > f.col("fence"))
    cohesion = _cohesion(spark, pairs, groups, tested, things, usage, settings)
    judged = (
        groups.join(cohesion, "stem", "left")
        .withColumn("hub", f.coalesce(f.col("cohesion") < settings.hub_cohesion, f.lit(False)))
        .select("stem", f.col("users").alias("group_accounts"), "fence", "cohesion", "hub")
        .localCheckpoint()
    )
    hubs = (
        account_stem.join(judged.filter("hub"), "stem")
        .join(numbered, "node")
        .select("node", "key", f.col("group_accounts").alias("counterparties"), "fence", "cohesion")
        .orderBy("node")
        .toPandas()
    )
    return _Hubs(
        identifiers=things.join(judged, "stem").select(
            "ikind", "ikey", "group_accounts", "fence", "cohesion", "hub"
        ),
        hub_accounts=spark.createDataFrame(hubs[["node"]], "node long"),
        account_hubs=hubs[["key", "counterparties", "fence", "cohesion"]].reset_index(drop=True),
    )


def _fences(histogram: pd.DataFrame, settings: DetectionSettings) -> dict[str, float]:
    """Each kind's fence from its histogram of users per thing (the same quartiles)."""
    fences: dict[str, float] = {}
    for kind, rows in histogram.groupby("kind"):
        users = np.repeat(rows["users"].to_numpy(np.int64), rows["count"].to_numpy(np.int64))
        kinds = np.full(len(users), kind, dtype=object)
        fences[str(kind)] = float(kind_fences(kinds, users, settings)[0])
    return fences


def _cohesion(
    spark: SparkSession,
    pairs: DataFrame,
    groups: DataFrame,
    tested: DataFrame,
    things: DataFrame,
    usage: DataFrame,
    settings: DetectionSettings,
) -> DataFrame:
    """``stem`` and ``cohesion`` of the tested groups: their sampled users (the smallest
    :func:`algorithms.engines.scrambled` node ids, as on one machine) and those users' other
    things are gathered and judged by :func:`algorithms.hubs.tied_share`."""
    sample = Window.partitionBy("stem").orderBy("order")
    members = (
        pairs.join(tested.select("stem"), "stem")
        .withColumn("order", _scrambled(f.col("node")))
        .withColumn("rank", f.row_number().over(sample))
        .filter(f.col("rank") <= settings.cohesion_sample)
        .select(f.col("stem").alias("g"), "node")
        .localCheckpoint()
    )
    nodes = members.select("node").distinct()
    other = (
        usage.join(things.filter("telling"), ["ikind", "ikey"])
        .join(nodes, "node")
        .select("node", f.col("stem").alias("j"))
        .distinct()
    ).toPandas()
    degree = pairs.join(nodes, "node").groupBy("node", "kind").count()
    sample_degree = (
        members.join(degree, "node").groupBy("g", "kind").agg(f.sum("count").alias("d")).toPandas()
    )
    total = pairs.groupBy("kind").count().toPandas().set_index("kind")["count"]
    members_frame = members.toPandas()
    wanted = pd.concat([members_frame["g"], other["j"]]).drop_duplicates()
    info = (
        groups.join(
            spark.createDataFrame(wanted.astype(object).to_frame("stem"), "stem string"), "stem"
        )
        .toPandas()
        .set_index("stem")[["users", "kind"]]
    )
    table = sample_degree.pivot_table(index="g", columns="kind", values="d", fill_value=0)
    tied = tied_share(
        members_frame,
        other,
        groups=info,
        sample_degree=table.astype(np.int64),
        total=total,
        settings=settings,
    )
    tested_frame = tested.select("stem", "users").toPandas()
    cohesion = tied.reindex(tested_frame["stem"], fill_value=0).to_numpy() / np.minimum(
        tested_frame["users"].to_numpy(), settings.cohesion_sample
    )
    return spark.createDataFrame(
        pd.DataFrame(
            {"stem": tested_frame["stem"].astype(object), "cohesion": cohesion.astype("float64")}
        ),
        "stem string, cohesion double",
    )


def _identifier_pairs(usage: DataFrame) -> DataFrame:
    """Account pairs through each non-hub identifier two or more use: its rarity times the
    weaker use (:func:`algorithms.projection.project_accounts`)."""
    linking = usage.filter(~f.col("hub") & (f.col("accounts") >= 2)).select(
        "ikind", "ikey", "node", "weight", "rarity"
    )
    left = linking.alias("l")
    right = linking.select("ikind", "ikey", f.col("node").alias("b"), f.col("weight").alias("w"))
    return (
        left.join(right, ["ikind", "ikey"])
        .filter(f.col("node") < f.col("b"))
        .select(
            f.col("node").alias("a"),
            "b",
            (f.col("rarity") * f.least("weight", "w")).alias("weight"),
            f.lit(1).alias("shared"),
        )
    )


def _direct_pairs(
    direct: DataFrame,
    counterparties: DataFrame,
    hub_accounts: DataFrame,
    settings: DetectionSettings,
) -> DataFrame:
    """Referral and money/order links between non-hub accounts as undirected weighted pairs:
    the kind's weight times the rarity of the busier end, times ``cycle_boost`` on repeated
    transfers round a directed cycle of three or more accounts."""
    hub = hub_accounts.withColumn("hub", f.lit(True))
    calm = counterparties.join(hub.withColumnRenamed("node", "first"), "first", "left_anti").join(
        hub.withColumnRenamed("node", "second"), "second", "left_anti"
    )
    degree = (
        calm.select(f.col("first").alias("node"))
        .union(calm.select(f.col("second").alias("node")))
        .groupBy("node")
        .count()
    )
    linking = (
        direct.filter(f.col("src") != f.col("dst"))
        .join(hub.withColumnRenamed("node", "src"), "src", "left_anti")
        .join(hub.withColumnRenamed("node", "dst"), "dst", "left_anti")
    )
    flows = linking.filter(
        (f.col("count") >= settings.cycle_min_transfers)
        & (f.col("kind") == LinkKind.TRANSACTS_WITH.value)
    )
    cycles = _cycle_flows(flows.select("src", "dst").toPandas())
    boosted = linking.sparkSession.createDataFrame(cycles, "src long, dst long").withColumn(
        "in_cycle", f.lit(True)
    )
    flow = (f.col("count") >= settings.cycle_min_transfers) & (
        f.col("kind") == LinkKind.TRANSACTS_WITH.value
    )
    busier = f.greatest(
        f.coalesce(f.col("src_degree"), f.lit(0)), f.coalesce(f.col("dst_degree"), f.lit(0))
    )
    return (
        linking.join(
            degree.select(f.col("node").alias("src"), f.col("count").alias("src_degree")),
            "src",
            "left",
        )
        .join(
            degree.select(f.col("node").alias("dst"), f.col("count").alias("dst_degree")),
            "dst",
            "left",
        )
        .join(boosted, ["src", "dst"], "left")
        .select(
            f.least("src", "dst").alias("a"),
            f.greatest("src", "dst").alias("b"),
            (
                f.col("weight")
                * _rarity(settings)(busier)
                * f.when(flow & f.col("in_cycle"), settings.cycle_boost).otherwise(1.0)
            ).alias("weight"),
            f.lit(0).alias("shared"),
        )
    )


def _cycle_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """The repeated transfers (``src``, ``dst``) that lie on a directed cycle of three or more
    accounts (:func:`algorithms.engines.strong_components` on this small graph)."""
    nodes, local = np.unique(
        np.r_[flows["src"].to_numpy(np.int64), flows["dst"].to_numpy(np.int64)],
        return_inverse=True,
    )
    src, dst = local[: len(flows)], local[len(flows) :]
    scc = strong_components(len(nodes), src, dst)
    sizes = np.bincount(scc, minlength=len(nodes))
    in_cycle = (scc[src] == scc[dst]) & (sizes[scc[src]] >= 3)
    return flows.loc[in_cycle, ["src", "dst"]].drop_duplicates().reset_index(drop=True)


def _parts(
    member: DataFrame,
    numbered: DataFrame,
    facts: DataFrame,
    usage: DataFrame,
    owners: DataFrame,
    edges: DataFrame,
    direct: DataFrame,
) -> DataFrame:
    """Every component's tables as rows of :data:`PART_SCHEMA`."""
    source = member.withColumnRenamed("node", "src")
    target = member.select(f.col("node").alias("dst"), f.col("component").alias("dst_component"))
    pieces = [
        member.join(numbered, "node")
        .join(facts, "key", "left")
        .withColumn("piece", f.lit("account")),
        usage.join(member, "node").drop("kind").withColumn("piece", f.lit("usage")),
        owners.join(member, "node").withColumn("piece", f.lit("owner")),
        edges.join(member.withColumnRenamed("node", "a"), "a").withColumn("piece", f.lit("edge")),
        direct.drop("weight")
        .join(source, "src")
        .join(target, "dst")
        .filter(f.col("component") == f.col("dst_component"))
        .drop("dst_component")
        .withColumn("piece", f.lit("direct")),
    ]
    schema = [field.strip().split(" ") for field in PART_SCHEMA.split(",")]
    columns = [f.col(name).cast(kind) for name, kind in schema]
    every = pieces[0]
    for piece in pieces[1:]:
        every = every.unionByName(piece, allowMissingColumns=True)
    return every.select(*columns)


def _summary(
    numbered: DataFrame,
    edges: DataFrame,
    identifiers: DataFrame,
    account_hubs: pd.DataFrame,
    settings: DetectionSettings,
) -> Projection:
    """The whole graph's accounts, edges, hub identifiers and ``kind_users`` on the driver."""
    keys = numbered.orderBy("node").select("key").toPandas()["key"]
    kept = edges.filter(f.col("weight") >= settings.min_edge_weight).toPandas()
    hubs = identifiers.filter("hub").toPandas()
    hub_identifiers = pd.DataFrame(
        {
            "kind": hubs["ikind"],
            "key": hubs["ikey"],
            "link": hubs["link"],
            **{c: hubs[c] for c in ("accounts", "group_accounts", "fence", "cohesion", "rarity")},
            "hub": True,
        }
    )[list(IDENTIFIER_COLUMNS)]
    kind_users = (
        identifiers.filter(~f.col("hub"))
        .groupBy(f.col("ikind").alias("kind"), "accounts")
        .agg(f.count("*").alias("things"))
        .orderBy("kind", "accounts")
        .toPandas()
    )
    empty = pd.DataFrame()
    return Projection(
        accounts=pd.Index(keys.to_numpy(dtype=object), dtype=object),
        edges=kept[["a", "b", "weight", "shared"]].astype({"a": np.int64, "b": np.int64}),
        identifiers=hub_identifiers,
        usage=empty,
        direct=empty,
        owners=empty,
        account_hubs=account_hubs,
        kind_users=kind_users.astype({"accounts": np.int64, "things": np.int64}),
    )


def _numbered(keys: DataFrame) -> DataFrame:
    """``key`` and ``node``: keys numbered 0, 1, … in key order, without one partition
    holding them all (each sorted partition's rows are offset by the ones before it)."""
    ordered = (
        keys.orderBy("key")
        .withColumn("part", f.spark_partition_id())
        .withColumn("row", f.row_number().over(Window.partitionBy("part").orderBy("key")))
        .localCheckpoint()
    )
    counts = ordered.groupBy("part").count().orderBy("part").toPandas()
    offsets = pd.DataFrame(
        {"part": counts["part"], "offset": np.cumsum(counts["count"]) - counts["count"]}
    )
    start = ordered.sparkSession.createDataFrame(offsets, "part int, offset long")
    return (
        ordered.join(f.broadcast(start), "part")
        .select("key", (f.col("offset") + f.col("row") - 1).alias("node"))
        .localCheckpoint()
    )


def _lookup(
    values: dict[str, float] | dict[str, int], column: str, *, default: float | None = None
) -> Column:
    """``values[column]`` per row (a literal map), ``default`` where the key is missing."""
    if not values:
        return f.lit(default)
    mapping = f.create_map(*[f.lit(x) for pair in values.items() for x in pair])
    found = mapping[f.col(column)]
    return found if default is None else f.coalesce(found, f.lit(default))


def _rarity(settings: DetectionSettings):  # type: ignore[no-untyped-def]
    """:func:`algorithms.projection.rarity` as a pandas UDF."""
    exponent = settings.rarity_exponent

    @f.pandas_udf("double")  # type: ignore[call-overload]
    def weight(users: pd.Series) -> pd.Series:
        return pd.Series(rarity(users.to_numpy(np.int64), exponent=exponent))

    return weight


# A type object, not DDL text: workers import this module with no session to parse it.
@f.pandas_udf(LongType())  # type: ignore[call-overload]
def _scrambled(nodes: pd.Series) -> pd.Series:
    """:func:`algorithms.engines.scrambled`, its unsigned order kept in a signed long."""
    z = scrambled(nodes.to_numpy(np.int64)) ^ np.uint64(1 << 63)
    return pd.Series(z.view(np.int64))


def _stems(things: DataFrame) -> DataFrame:
    """``ikind``, ``ikey`` and their :func:`algorithms.hubs.spelling_stems`."""

    def stem(batches):  # type: ignore[no-untyped-def]
        for batch in batches:
            yield batch.assign(stem=spelling_stems(batch["ikind"], batch["ikey"]).to_numpy())

    return things.mapInPandas(stem, "ikind string, ikey string, stem string")


def _components(
    spark: SparkSession, vertices: DataFrame, edges: DataFrame, *, how: Components
) -> DataFrame:
    """``id`` and ``component`` (the smallest id in it) per vertex."""
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
    component's diameter; candidate components are small once hubs are out, and identifiers
    join their users as stars)."""
    both = (
        edges.select("src", "dst")
        .union(edges.select(f.col("dst").alias("src"), f.col("src").alias("dst")))
        .localCheckpoint()
    )
    labels = vertices.select("id", f.col("id").alias("component")).localCheckpoint()
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
