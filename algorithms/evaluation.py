"""Measure detection against planted ground truth, next to two naive baselines.

A planted ring counts as *found* when a detected ring matches it with Jaccard >= 0.5. Every
detected ring is *attributed* to the planted ring it overlaps most (if any), which gives
per-typology precision for methods that name no typology. Counts are kept next to the ratios
so runs over several seeds and sizes combine by summing counts (micro-averages).

Risk by association (:mod:`algorithms.risk`) is measured by hiding half the known-bad labels:
propagated from the other half, how many of the ``k`` riskiest accounts (known-bad ones
excluded) carry a hidden label, next to the plain-components rule (accounts in connected
components over all shared identifiers holding a known-bad account, components with the largest
share of known-bad members first).

Baselines, run on the same graph:

- ``components``: connected components of accounts over *all* shared identifiers (no weights,
  no hub caps), biggest first;
- ``louvain``: Louvain communities of the unweighted account projection, biggest first.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import igraph as ig
import numpy as np
import pandas as pd

from algorithms.engines import igraph_graph
from algorithms.pipeline import Candidates, DetectionResult, detect_rings
from algorithms.projection import Projection, project_accounts
from algorithms.risk import account_risk
from algorithms.scoring import CONTRIBUTIONS
from graphfraud.model import ACCOUNT_LINKS, EntityKind, GroundTruth
from graphfraud.settings import DetectionSettings
from graphfraud.store.base import GraphStore

ALL = "all"
METHODS: tuple[str, ...] = ("graphfraud", "components", "louvain")
#: Counts summed across runs; the ratios are computed from them.
COUNTS: tuple[str, ...] = (
    "planted",
    "found",
    "detected",
    "correct",
    "planted_members",
    "members_found",
    "detected_members",
    "members_correct",
    "top",
    "top_correct",
    "benign_in_top",
    "typed",
    "typed_correct",
)
#: Size bands misses are read by (the last is open-ended).
SIZE_BANDS: tuple[tuple[int, int], ...] = ((3, 5), (6, 10), (11, 30), (31, 1_000_000_000))
#: Columns of :func:`explain_misses`' missed rings.
MISS_COLUMNS: tuple[str, ...] = (
    "ring_id",
    "typology",
    "size",
    "band",
    "camouflaged",
    "shares",
    "hub_shares",
    "cause",
    "candidate_size",
    "held",
    "score",
    "contributions",
    "detail",
)
#: Columns of :func:`explain_misses`' false positives among the best rings.
FALSE_POSITIVE_COLUMNS: tuple[str, ...] = (
    "rank",
    "size",
    "structure",
    "held",
    "score",
    "contributions",
    "shares",
)
RATIOS: tuple[str, ...] = (
    "ring_recall",
    "ring_precision",
    "ring_f1",
    "member_recall",
    "member_precision",
    "precision_at_top",
    "typology_accuracy",
)


def evaluate_rings(
    detected: Sequence[Sequence[str]],
    truth: GroundTruth,
    *,
    typologies: Sequence[str] | None = None,
    top: int = 50,
    min_jaccard: float = 0.5,
) -> pd.DataFrame:
    """Score ranked detected rings against the planted ones, per typology and overall.

    Parameters
    ----------
    detected
        Member accounts of each detected ring, best first.
    truth
        Planted rings and benign structures.
    typologies
        The typology each detected ring was given, if the method names one.
    top
        How many of the best rings count for ``precision_at_top`` and ``benign_in_top``.
    min_jaccard
        Overlap at which a detected ring matches a planted one.

    Returns
    -------
    pandas.DataFrame
        Index: each planted typology and ``"all"``; columns :data:`COUNTS` and :data:`RATIOS`.
    """
    found, planted, overlap = _overlaps(detected, truth)
    det_size = found.groupby("ring").size()
    # Attribute each detected ring to the planted ring it overlaps most.
    best = overlap.sort_values(["ring", "inter", "jaccard"], ascending=[True, False, False])
    best = best.drop_duplicates("ring").set_index("ring")
    typology_of = planted.drop_duplicates("ring_id").set_index("ring_id")["typology"]
    ring_typology = pd.Series(
        typology_of.reindex(best["ring_id"]).to_numpy(), index=best.index
    ).reindex(range(len(detected)))
    matched = (best["jaccard"] >= min_jaccard).reindex(range(len(detected)), fill_value=False)
    found_ids = set(overlap.loc[overlap["jaccard"] >= min_jaccard, "ring_id"].tolist())

    is_top = np.arange(len(detected)) < top
    benign_top = _benign(found, truth.benign, det_size, top=top) & ~matched
    planted_members = set(planted["account_id"])
    found["planted"] = found["account_id"].isin(planted_members)
    found["typology"] = ring_typology.reindex(found["ring"]).to_numpy()
    detected_members = set(found["account_id"])
    given = None if typologies is None else pd.Series(list(typologies), dtype=object)

    rows = {}
    for typology in [*sorted(planted["typology"].unique()), ALL]:
        every = typology == ALL
        in_t = planted if every else planted[planted["typology"] == typology]
        rings_t = pd.Series(True, index=ring_typology.index) if every else ring_typology == typology
        members_t = found if every else found[found["typology"] == typology]
        typed = matched & rings_t & (given is not None)
        rows[typology] = {
            "planted": in_t["ring_id"].nunique(),
            "found": len(set(in_t["ring_id"]) & found_ids),
            "detected": int(rings_t.sum()),
            "correct": int((rings_t & matched).sum()),
            "planted_members": in_t["account_id"].nunique(),
            "members_found": len(set(in_t["account_id"]) & detected_members),
            "detected_members": members_t["account_id"].nunique(),
            "members_correct": members_t.loc[members_t["planted"], "account_id"].nunique(),
            "top": int((rings_t & is_top).sum()),
            "top_correct": int((rings_t & is_top & matched).sum()),
            "benign_in_top": int(benign_top.sum()) if every else 0,
            "typed": int(typed.sum()),
            "typed_correct": 0
            if given is None
            else int((typed & (given.reindex(typed.index) == ring_typology)).sum()),
        }
    return with_ratios(pd.DataFrame.from_dict(rows, orient="index")[list(COUNTS)])


def _overlaps(
    detected: Sequence[Sequence[str]], truth: GroundTruth
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Detected members (``ring``, ``account_id``), planted members (deduplicated), and every
    overlapping (detected ``ring``, planted ``ring_id``) pair with ``inter`` and ``jaccard``."""
    found = pd.DataFrame(
        {
            "ring": np.repeat(np.arange(len(detected)), [len(m) for m in detected]),
            "account_id": [str(a) for members in detected for a in members],
        }
    ).drop_duplicates()
    planted = truth.rings.drop_duplicates(["ring_id", "account_id"])
    overlap = (
        found.merge(planted[["ring_id", "account_id"]], on="account_id")
        .groupby(["ring", "ring_id"])
        .size()
        .reset_index(name="inter")
    )
    det_size = found.groupby("ring").size()
    true_size = planted.groupby("ring_id").size()
    overlap["jaccard"] = overlap["inter"] / (
        det_size.reindex(overlap["ring"]).to_numpy()
        + true_size.reindex(overlap["ring_id"]).to_numpy()
        - overlap["inter"].to_numpy()
    )
    return found, planted, overlap


def with_ratios(counts: pd.DataFrame) -> pd.DataFrame:
    """Add :data:`RATIOS` computed from :data:`COUNTS` (NaN where a denominator is zero)."""
    out = counts[list(COUNTS)].astype("int64").copy()

    def ratio(num: str, den: str) -> pd.Series:
        return (out[num] / out[den].where(out[den] > 0)).astype("float64")

    out["ring_recall"] = ratio("found", "planted")
    out["ring_precision"] = ratio("correct", "detected")
    total = out["ring_recall"] + out["ring_precision"]
    f1 = 2 * out["ring_recall"] * out["ring_precision"] / total.where(total > 0)
    out["ring_f1"] = f1.where(total.isna() | (total > 0), 0.0)
    out["member_recall"] = ratio("members_found", "planted_members")
    out["member_precision"] = ratio("members_correct", "detected_members")
    out["precision_at_top"] = ratio("top_correct", "top")
    out["typology_accuracy"] = ratio("typed_correct", "typed")
    return out


def combine_evaluations(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Sum the counts of several evaluations (same method) and recompute the ratios."""
    summed = pd.concat([frame[list(COUNTS)] for frame in frames]).groupby(level=0).sum()
    order = [t for t in summed.index if t != ALL] + [ALL]
    return with_ratios(summed.loc[order])


def components_baseline(links: pd.DataFrame, *, min_size: int = 3) -> list[list[str]]:
    """Connected components of accounts over every shared identifier, biggest first."""
    through = links[
        (links["src_kind"] == EntityKind.ACCOUNT) & ~links["kind"].isin(list(ACCOUNT_LINKS))
    ]
    account, accounts = pd.factorize(through["src_key"].astype(str))
    thing, _ = pd.factorize(through["dst_kind"].astype(str) + "\x00" + through["dst_key"])
    n = len(accounts)
    graph = igraph_graph(
        n + int(thing.max(initial=-1)) + 1,
        account.astype(np.int64),
        n + thing.astype(np.int64),
        np.ones(len(account)),
    )
    labels = np.asarray(graph.connected_components().membership)[:n]
    return _ranked_groups(labels, np.asarray(accounts, dtype=object), min_size)


def louvain_baseline(
    projection: Projection, *, seed: int = 0, min_size: int = 3
) -> list[list[str]]:
    """Louvain communities of the projection with every edge weighing one, biggest first."""
    edges = projection.edges
    graph = igraph_graph(
        len(projection.accounts),
        edges["a"].to_numpy(np.int64),
        edges["b"].to_numpy(np.int64),
        np.ones(len(edges)),
    )
    # igraph draws from Python's random module; a private generator keeps this reproducible.
    ig.set_random_number_generator(random.Random(seed))
    try:
        labels = np.asarray(graph.community_multilevel().membership)
    finally:
        ig.set_random_number_generator(random)
    return _ranked_groups(labels, projection.accounts.to_numpy(), min_size)


@dataclass(frozen=True)
class Evaluation:
    """One marketplace's evaluation: every method's figures, and (when asked) the diagnosis.

    Attributes
    ----------
    tables
        Method name (:data:`METHODS`) → :func:`evaluate_rings` table.
    misses, false_positives
        As :func:`explain_misses` returns (empty frames unless asked for).
    """

    tables: dict[str, pd.DataFrame]
    misses: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISS_COLUMNS))
    false_positives: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=FALSE_POSITIVE_COLUMNS)
    )


def evaluate_store(
    store: GraphStore,
    truth: GroundTruth,
    *,
    settings: DetectionSettings,
    seed: int,
    top: int,
    explain: bool,
) -> Evaluation:
    """Detect rings in a loaded marketplace and score them and both baselines.

    Parameters
    ----------
    store
        The loaded marketplace.
    truth
        Its ground truth (``loaders.truth.read_ground_truth``).
    settings, seed
        Detection settings and seed.
    top
        How many of the best rings count for precision at top and benign structures in it.
    explain
        Whether to diagnose every missed ring and false positive (:func:`explain_misses`).

    Returns
    -------
    Evaluation
        Every method's figures, and the diagnosis when asked for.
    """
    result = detect_rings(store, settings=settings, seed=seed, write=False, keep_candidates=explain)
    links = store.links()
    rings = result.rings
    projection = project_accounts(links, accounts=None, settings=settings, engine="igraph")
    tables = {
        "graphfraud": evaluate_rings(
            [r.accounts for r in rings], truth, typologies=[r.typology for r in rings], top=top
        ),
        "components": evaluate_rings(components_baseline(links), truth, top=top),
        "louvain": evaluate_rings(louvain_baseline(projection, seed=seed), truth, top=top),
    }
    if not explain:
        return Evaluation(tables)
    misses, false_positives = explain_misses(result, truth, settings=settings, top=top)
    return Evaluation(tables, misses, false_positives)


def explain_misses(
    result: DetectionResult,
    truth: GroundTruth,
    *,
    settings: DetectionSettings,
    top: int,
    min_jaccard: float = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Why each planted ring was missed, and what each false positive among the best is.

    A missed ring is described by what its members share (non-hub things by kind, and the
    hubs among what they share), then by the candidate holding most of its members: that
    candidate's size, how many members it holds, its score and contributions. The ``cause``
    names the stage that lost it:

    - ``not in graph``: no member reached the projection (no link survived loading);
    - ``hubs only`` / ``nothing shared``: its members share only hubs, or nothing at all;
    - ``weak ties``: no strong edges join three of its members, so it never formed a
      candidate;
    - ``split apart``: it sat in a component that splitting cut into parts too small to keep,
      or the candidate holding most of it holds under half;
    - ``merged``: a candidate holds most of it among many others (Jaccard under
      ``min_jaccard``); past ``max_ring_size`` it is a giant;
    - ``scored low``: a candidate matches it but scored under ``min_score``.

    Parameters
    ----------
    result
        A run with ``keep_candidates`` set (its ``candidates_scored``).
    truth
        The planted rings and benign structures.
    settings
        The run's settings (``min_score``, ``min_ring_size``, ``max_ring_size``).
    top
        How many of the best rings the false positives are read from.
    min_jaccard
        Overlap at which a detected ring matches a planted one.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        Missed rings (:data:`MISS_COLUMNS`), and false positives among the ``top`` best
        (:data:`FALSE_POSITIVE_COLUMNS`: which benign structure holds most of the ring, or
        which planted ring it is a fragment of, and why it scored).
    """
    scored = result.candidates_scored
    if scored is None:
        raise ValueError("explain_misses needs a run with keep_candidates=True")
    found, planted, overlap = _overlaps([r.accounts for r in result.rings], truth)
    matched = set(overlap.loc[overlap["jaccard"] >= min_jaccard, "ring_id"])
    missed = planted[~planted["ring_id"].isin(matched)]
    rows = [
        _miss(str(ring_id), members, scored, settings=settings, min_jaccard=min_jaccard)
        for ring_id, members in missed.groupby("ring_id", sort=True)
    ]
    misses = pd.DataFrame(rows, columns=list(MISS_COLUMNS))

    # Per detected ring: the planted ring it overlaps most, and the benign structure.
    best = overlap.sort_values(["ring", "jaccard"], ascending=[True, False]).drop_duplicates("ring")
    closest = dict(zip(best["ring"].tolist(), best["ring_id"].tolist(), strict=True))
    closeness = dict(zip(best["ring"].tolist(), best["jaccard"].tolist(), strict=True))
    sharing = dict(zip(best["ring"].tolist(), best["inter"].tolist(), strict=True))
    benign = found[found["ring"] < top].merge(truth.benign, on="account_id")
    held = benign.groupby(["ring", "kind", "structure_id"]).size().rename("held").reset_index()
    held = held.sort_values(["ring", "held"], ascending=[True, False]).drop_duplicates("ring")
    benign_kind = dict(zip(held["ring"].tolist(), held["kind"].tolist(), strict=True))
    benign_held = dict(zip(held["ring"].tolist(), held["held"].tolist(), strict=True))
    positives = []
    for rank, ring in enumerate(result.rings[:top]):
        if closeness.get(rank, 0.0) >= min_jaccard:
            continue
        if benign_held.get(rank, 0) * 2 >= len(ring.accounts):
            structure, count = str(benign_kind[rank]), int(benign_held[rank])
        elif rank in closest:
            structure, count = f"fragment of {closest[rank]}", int(sharing[rank])
        else:
            structure, count = "background", 0
        contributions = ring.evidence.score.contributions if ring.evidence else {}
        shares = ring.evidence.shared_by_kind if ring.evidence else {}
        positives.append(
            {
                "rank": rank + 1,
                "size": len(ring.accounts),
                "structure": structure,
                "held": count,
                "score": ring.score,
                "contributions": _named(contributions),
                "shares": _counted(shares),
            }
        )
    return misses, pd.DataFrame(positives, columns=list(FALSE_POSITIVE_COLUMNS))


def size_band(size: int) -> str:
    """The band of :data:`SIZE_BANDS` a ring of ``size`` members falls in, e.g. ``"6-10"``.

    Examples
    --------
    >>> size_band(4), size_band(31)
    ('3-5', '31+')
    """
    for low, high in SIZE_BANDS:
        if low <= size <= high:
            return f"{low}+" if high == SIZE_BANDS[-1][1] else f"{low}-{high}"
    return f"<{SIZE_BANDS[0][0]}"


def _miss(
    ring_id: str,
    members: pd.DataFrame,
    scored: Candidates,
    *,
    settings: DetectionSettings,
    min_jaccard: float,
) -> dict[str, Any]:
    """One missed ring's row of :data:`MISS_COLUMNS`."""
    projection = scored.projection
    size = len(members)
    nodes = projection.accounts.get_indexer(pd.Index(members["account_id"].astype(str)))
    nodes = nodes[nodes >= 0]
    row: dict[str, Any] = {
        "ring_id": ring_id,
        "typology": members["typology"].iloc[0],
        "size": size,
        "band": size_band(size),
        "camouflaged": bool(members["camouflaged"].iloc[0]),
        "shares": "",
        "hub_shares": "",
        "cause": "not in graph",
        "candidate_size": 0,
        "held": 0,
        "score": float("nan"),
        "contributions": "",
        "detail": "",
    }
    if len(nodes) == 0:
        return row
    usage = projection.usage
    mine = usage[np.isin(usage["node"].to_numpy(), nodes)]
    counts = mine.groupby("identifier").size()
    shared = counts[counts >= 2].index.to_numpy()
    things = projection.identifiers.iloc[shared]
    hub = things["hub"].to_numpy(bool)
    row["shares"] = _counted(things.loc[~hub, "kind"].astype(str).value_counts().to_dict())
    row["hub_shares"] = _counted(things.loc[hub, "kind"].astype(str).value_counts().to_dict())
    direct = projection.direct
    internal = np.isin(direct["src"].to_numpy(), nodes) & np.isin(direct["dst"].to_numpy(), nodes)

    groups = scored.groups[nodes]
    if (groups < 0).all():
        components = scored.components[nodes]
        piece = np.bincount(components).max()
        component = int(np.bincount(components).argmax())
        component_size = int(np.sum(scored.components == component))
        if not (~hub).any() and not internal.any():
            row["cause"] = "hubs only" if hub.any() else "nothing shared"
        elif piece >= settings.min_ring_size and component_size > settings.split_above:
            row["cause"] = "split apart"
            row["detail"] = (
                f"{piece} members in a component of {component_size}, split into parts "
                f"under {settings.min_ring_size} members or dropped"
            )
        else:
            row["cause"] = "weak ties"
            row["detail"] = f"at most {piece} members joined by strong edges"
        return row
    group = int(np.bincount(groups[groups >= 0]).argmax())
    held = int(np.sum(groups == group))
    group_size = int(scored.signals["size"].iloc[group])
    score = float(scored.scores["score"].iloc[group])
    contributions = {name: float(scored.scores[name].iloc[group]) for name in CONTRIBUTIONS}
    row.update(
        candidate_size=group_size,
        held=held,
        score=score,
        contributions=_named(contributions),
    )
    jaccard = held / (group_size + size - held)
    pieces = len(np.unique(groups[groups >= 0]))
    if jaccard >= min_jaccard:
        row["cause"] = "scored low"
        row["detail"] = f"score {score:.2f} < min_score {settings.min_score}"
    elif held * 2 < size:
        row["cause"] = "split apart"
        row["detail"] = f"held by {pieces} candidates, the largest share {held} of {size}"
    else:
        kept = "kept" if score >= settings.min_score else "dropped"
        giant = " (a giant)" if group_size > settings.max_ring_size else ""
        row["cause"] = "merged"
        row["detail"] = f"in a candidate of {group_size}{giant}, {kept}"
    return row


def _named(values: dict[str, float]) -> str:
    """Non-zero contributions as ``name=0.42`` text, largest first."""
    ranked = sorted(((v, k) for k, v in values.items() if v > 0.005), reverse=True)
    return " ".join(f"{name}={value:.2f}" for value, name in ranked)


def _counted(counts: dict[str, int]) -> str:
    """Counts per kind as ``Device:3 Phone:1`` text, most first."""
    ranked = sorted(((v, k) for k, v in counts.items() if v > 0), reverse=True)
    return " ".join(f"{kind}:{count}" for count, kind in ranked)


#: Methods ranking accounts by risk: propagation, and the plain-components rule.
RISK_METHODS: tuple[str, ...] = ("risk", "components")
#: Counts of a risk evaluation, summed across runs: labels ``hidden``, accounts the method
#: ``ranked``, the ``k`` looked at and the ``hits`` (hidden known-bad accounts) among them.
RISK_COUNTS: tuple[str, ...] = ("hidden", "ranked", "k", "hits")
#: Ratios of a risk evaluation: precision and recall at ``k`` of the hidden known-bad accounts.
RISK_RATIOS: tuple[str, ...] = ("precision_at_k", "recall_at_k")


def evaluate_risk(
    links: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    settings: DetectionSettings,
    seed: int,
    k: int,
) -> pd.DataFrame:
    """Hide half the known-bad labels and find them again: risk against plain components.

    Parameters
    ----------
    links
        Links frame (``LINK_COLUMNS``).
    accounts
        Account entities (``ENTITY_COLUMNS``): a non-null ``label`` is a known-bad account.
    settings
        Detection settings (the projection and ``risk_restart``).
    seed
        Seed of the choice of labels hidden.
    k
        How many of the riskiest accounts each method is judged on.

    Returns
    -------
    pandas.DataFrame
        Index :data:`RISK_METHODS`; columns :data:`RISK_COUNTS` and :data:`RISK_RATIOS`.
    """
    accounts = accounts.drop_duplicates("key")
    keys = pd.Index(accounts["key"].astype(str))
    projection = project_accounts(links, accounts=keys, settings=settings, engine="igraph")
    labels = accounts.set_index(keys)["label"].reindex(projection.accounts)
    labelled = np.flatnonzero(labels.notna().to_numpy())
    rng = np.random.default_rng([seed, 7])
    hidden = np.zeros(len(projection.accounts), dtype=bool)
    hidden[rng.choice(labelled, size=len(labelled) // 2, replace=False)] = True
    visible = np.zeros(len(projection.accounts), dtype=bool)
    visible[labelled] = True
    visible &= ~hidden

    risk = account_risk(projection, visible, settings=settings)
    by_risk = risk.loc[~risk["known_bad"] & (risk["score"] > 0), "account"].tolist()
    known = set(projection.accounts[visible])
    by_components = components_rule(links, known)
    secret = set(projection.accounts[hidden])
    rows = {
        method: {
            "hidden": len(secret),
            "ranked": len(ranked),
            "k": k,
            "hits": sum(account in secret for account in ranked[:k]),
        }
        for method, ranked in (("risk", by_risk), ("components", by_components))
    }
    return with_risk_ratios(pd.DataFrame.from_dict(rows, orient="index"))


def components_rule(links: pd.DataFrame, known_bad: set[str]) -> list[str]:
    """Accounts in connected components (over every shared identifier) that hold a known-bad
    account, the components with the largest share of known-bad members first (smaller first
    on ties), accounts in key order within one; known-bad accounts themselves left out."""
    ranked: list[tuple[float, int, list[str]]] = []
    for members in components_baseline(links, min_size=1):
        bad = sum(account in known_bad for account in members)
        if bad:
            others = sorted(a for a in members if a not in known_bad)
            ranked.append((-bad / len(members), len(members), others))
    ranked.sort(key=lambda row: (row[0], row[1], row[2][:1]))
    return [account for _, _, members in ranked for account in members]


def with_risk_ratios(counts: pd.DataFrame) -> pd.DataFrame:
    """Add :data:`RISK_RATIOS` to :data:`RISK_COUNTS` (NaN where a denominator is zero)."""
    out = counts[list(RISK_COUNTS)].astype("int64").copy()
    out["precision_at_k"] = (out["hits"] / out["k"].where(out["k"] > 0)).astype("float64")
    out["recall_at_k"] = (out["hits"] / out["hidden"].where(out["hidden"] > 0)).astype("float64")
    return out


def combine_risk_evaluations(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Sum the counts of several risk evaluations and recompute the ratios."""
    summed = pd.concat([frame[list(RISK_COUNTS)] for frame in frames]).groupby(level=0).sum()
    return with_risk_ratios(summed.reindex(list(RISK_METHODS)))


def as_nested(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, dict[str, Any]]]:
    """Method → typology → metric, JSON-ready (NaN becomes None)."""
    return {
        method: {
            str(typology): {
                str(name): None if pd.isna(value) else getattr(value, "item", lambda v=value: v)()
                for name, value in row.items()
            }
            for typology, row in table.iterrows()
        }
        for method, table in tables.items()
    }


def _ranked_groups(labels: np.ndarray, keys: np.ndarray, min_size: int) -> list[list[str]]:
    sizes = np.bincount(labels)
    order = np.argsort(labels, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)]
    big = np.flatnonzero(sizes >= min_size)
    big = big[np.argsort(-sizes[big], kind="stable")]
    return [[str(k) for k in keys[order[starts[g] : starts[g + 1]]]] for g in big]


def _benign(found: pd.DataFrame, benign: pd.DataFrame, sizes: pd.Series, *, top: int) -> pd.Series:
    """Whether each ring is among the ``top`` and half or more of its members belong to one
    benign structure (a household, a café IP's users, ...)."""
    hits = found[found["ring"] < top].merge(benign, on="account_id")
    largest = hits.groupby(["ring", "structure_id"]).size().groupby(level="ring").max()
    share = largest.reindex(sizes.index, fill_value=0) / sizes
    return share >= 0.5
