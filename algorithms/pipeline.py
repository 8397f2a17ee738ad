"""Ring detection end to end: links in, scored and explained rings out (and into the store).

Stages: project accounts through shared identifiers → connected components of the strong edges
→ Leiden inside large components → score every candidate → centrality, evidence and typology
for the rings kept → stable ids against the stored rings → write. Each stage is timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import uuid4

import numpy as np
import pandas as pd

from algorithms.centrality import ring_centrality
from algorithms.communities import (
    attach_dominated,
    capped_merge,
    merge_dominating,
    merge_entangled,
    split_communities,
)
from algorithms.components import connected_components, peel_pendants, strong_edges
from algorithms.engines import Engine, check_engine, dense_labels
from algorithms.evidence import RingTables, ring_evidence
from algorithms.projection import Projection, project_accounts
from algorithms.risk import account_risk
from algorithms.scoring import household_reference, ring_signals, score_rings, shared_identifiers
from algorithms.stable_ids import assign_ring_ids
from algorithms.typology import classify_ring
from graphfraud import __version__
from graphfraud.model import (
    CodedLinks,
    DetectionRun,
    EntityKind,
    Page,
    Ring,
    RingEvidence,
    RingMember,
    TypologyEvidence,
)
from graphfraud.settings import DetectionSettings, get_settings
from graphfraud.store.base import GraphStore
from graphfraud.store.records import aware_utc

#: ``progress(stage, done, total)``, as the loader calls it.
Progress = Callable[[str, int, int], None]
#: Looks up display text for identifiers: frame of ``kind``, ``key`` → one value per row.
Describe = Callable[[pd.DataFrame], Sequence[str | None]]
#: Finds rings in a store's links and accounts, called as :func:`find_rings` is.
Finder = Callable[..., "DetectionResult"]

STAGES: tuple[str, ...] = (
    "reading",
    "projection",
    "components",
    "communities",
    "scoring",
    "centrality",
    "evidence",
    "ids",
    "risk",
    "writing",
)
_PAGE = 1_000


@dataclass(frozen=True)
class Candidates:
    """Every candidate a run scored, kept or not: what a miss is diagnosed from.

    Attributes
    ----------
    projection
        The account projection (node ids index ``projection.accounts``).
    components
        Connected component of the strong edges per node (before any split).
    groups
        Final candidate per node (``-1``: in none), rows of ``signals`` and ``scores``.
    signals, scores
        Each candidate's measured signals and contributions (:mod:`algorithms.scoring`).
    """

    projection: Projection
    components: np.ndarray
    groups: np.ndarray
    signals: pd.DataFrame
    scores: pd.DataFrame


class Scored(NamedTuple):
    """What :func:`score_candidates` kept, and every group it scored on the way.

    Attributes
    ----------
    rings
        Ring label per node (``0..R-1`` best score first, ``-1``: none).
    signals, scores
        The rings' signals and contributions (row ``r`` for ring ``r``).
    reference
        The households' sharing surprise the scores were judged against.
    groups, group_signals, group_scores
        Every group after splitting, kept or not (``-1``: in none), with its signals and
        scores: what a miss is diagnosed from.
    """

    rings: np.ndarray
    signals: pd.DataFrame
    scores: pd.DataFrame
    reference: float
    groups: np.ndarray
    group_signals: pd.DataFrame
    group_scores: pd.DataFrame


@dataclass
class DetectionResult:
    """What a detection run found and how long each stage took.

    Attributes
    ----------
    rings
        Rings kept, best score first.
    timings
        Seconds per stage (keys from :data:`STAGES` that ran).
    hubs
        Things too widely used, by strangers, to link accounts, with the reason
        (:data:`algorithms.projection.HUB_COLUMNS`: users of the thing and of all its
        spellings, its kind's fence, its users' cohesion).
    accounts, edges, candidates
        Accounts projected, projected edges, and candidate communities scored.
    data_from, data_to
        The span of the links read: the earliest first and the latest last sighting.
    run
        The run as the store recorded it, once written (see :func:`detect_rings`).
    candidates_scored
        Every candidate scored, when asked for (``keep_candidates``): for diagnosing misses.
    risk
        Every account's risk by association with the known-bad accounts, riskiest first, with
        its reason (:func:`algorithms.risk.account_risk`).
    """

    rings: list[Ring]
    timings: dict[str, float] = field(default_factory=dict)
    hubs: pd.DataFrame = field(default_factory=pd.DataFrame)
    accounts: int = 0
    edges: int = 0
    candidates: int = 0
    data_from: datetime | None = None
    data_to: datetime | None = None
    run: DetectionRun | None = None
    candidates_scored: Candidates | None = None
    risk: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def seconds(self) -> float:
        """Total seconds over all stages."""
        return sum(self.timings.values())


def detect_rings(
    store: GraphStore,
    *,
    settings: DetectionSettings | None = None,
    seed: int = 0,
    engine: Engine = "igraph",
    write: bool = True,
    progress: Progress | None = None,
    run_id: str | None = None,
    keep_candidates: bool = False,
    finder: Finder | None = None,
    engine_name: str | None = None,
) -> DetectionResult:
    """Detect rings in a store's graph and write them back with stable ids.

    Parameters
    ----------
    store
        The graph store to read links and accounts from and write rings to.
    settings
        Detection settings; default: ``get_settings().detection``.
    seed
        Seed of every randomised step (communities, sampled betweenness).
    engine
        ``"igraph"`` (default) or ``"networkx"`` (the slow reference).
    write
        Whether to write the rings to the store, recording the run (its settings, data span
        and counts) and what it did to each ring, and to keep its account risk and hubs
        (what a product check answers from).
    progress
        Called as ``progress(stage, done, total)`` as stages start and at the end.
    run_id
        Id to record the run under; default: a fresh one.
    keep_candidates
        Whether to return every candidate scored (``candidates_scored``), kept or not, with
        the projection: what the evaluation's miss analysis reads.
    finder
        What finds the rings: :func:`find_rings` (default), or another engine's finder
        called the same way (:class:`algorithms.spark.SparkFinder`).
    engine_name
        The engine the run is recorded under; default: ``engine``.

    Returns
    -------
    DetectionResult
        Rings (best first), per-stage timings, hubs.
    """
    settings = settings or get_settings().detection
    tell = progress or (lambda stage, done, total: None)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    tell("reading", 0, len(STAGES))
    accounts = store.entities(kind=EntityKind.ACCOUNT)
    previous = stored_memberships(store)
    reading = time.perf_counter() - started

    result = (finder or find_rings)(
        store.coded_links,  # read inside, so the frame is freed once projected
        accounts,
        settings=settings,
        seed=seed,
        engine=engine,
        previous=previous,
        describe=describer(store),
        progress=progress,
        keep_candidates=keep_candidates,
    )
    result.timings["reading"] = result.timings.get("reading", 0.0) + reading
    if write:
        tell("writing", STAGES.index("writing"), len(STAGES))
        began = time.perf_counter()
        run = DetectionRun(
            run_id=run_id or uuid4().hex[:12],
            started_at=started_at,
            settings=settings.model_dump(mode="json"),
            data_from=result.data_from,
            data_to=result.data_to,
            engine=engine_name or engine,
            version=__version__,
            accounts=result.accounts,
            candidates=result.candidates,
        )
        result.run = store.write_rings(result.rings, run=run)
        store.write_scores(result.risk, result.hubs, run_id=result.run.run_id)
        result.timings["writing"] = time.perf_counter() - began
    tell("done", len(STAGES), len(STAGES))
    return result


def describer(store: GraphStore) -> Describe:
    """A :data:`Describe` that looks display text up in ``store``."""

    def describe(frame: pd.DataFrame) -> list[str | None]:
        found = pd.concat(
            [
                store.entities(kind=str(kind), keys=group["key"].tolist())
                for kind, group in frame.groupby("kind", sort=False)
            ]
            or [pd.DataFrame(columns=["kind", "key", "display"])],
            ignore_index=True,
        )
        lookup = found.set_index(["kind", "key"])["display"]
        values = lookup.reindex(pd.MultiIndex.from_frame(frame[["kind", "key"]])).to_numpy()
        return [None if pd.isna(v) else str(v) for v in values]

    return describe


def stored_memberships(store: GraphStore) -> dict[str, list[str]]:
    """Every active stored ring's id and member accounts, for stable-id matching."""
    out: dict[str, list[str]] = {}
    offset = 0
    while True:
        page = store.rings(page=Page(offset=offset, limit=_PAGE, sort="ring_id"))
        out.update({ring.ring_id: ring.accounts for ring in page.rings})
        offset += _PAGE
        if offset >= page.total or not page.rings:
            return out


def find_rings(
    links: pd.DataFrame | CodedLinks | Callable[[], pd.DataFrame | CodedLinks],
    accounts: pd.DataFrame,
    *,
    settings: DetectionSettings | None = None,
    seed: int = 0,
    engine: Engine = "igraph",
    previous: Mapping[str, Sequence[str]] | None = None,
    describe: Describe | None = None,
    progress: Progress | None = None,
    keep_candidates: bool = False,
) -> DetectionResult:
    """Detect rings in frames, without a store.

    Parameters
    ----------
    links
        Links frame (``LINK_COLUMNS``) or coded links (``GraphStore.coded_links()``, which
        number every account of the store ``accounts`` came from), or a function returning
        either: it is then called here (timed as "reading") and the links are freed as soon
        as they are projected.
    accounts
        Account entities (``ENTITY_COLUMNS``): ``created_at`` and ``label`` (non-null = a
        known-bad seed) are used.
    settings, seed, engine, progress, keep_candidates
        As for :func:`detect_rings` (settings default to ``get_settings().detection``, so
        both entry points read one source: defaults, then the environment).
    previous
        Stored rings (id → member accounts) whose ids persist when matched.
    describe
        Looks up display text of identifiers shown in the evidence.

    Returns
    -------
    DetectionResult
        Rings best first, with timings of the stages that ran here.
    """
    settings = settings or get_settings().detection
    engine = check_engine(engine)
    tell = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now
        tell(name, STAGES.index(name) + 1, len(STAGES))

    if callable(links):
        tell("reading", 0, len(STAGES))
        links = links()
        stage("reading")
    coded = isinstance(links, CodedLinks)
    data_from, data_to = span(links.links if isinstance(links, CodedLinks) else links)
    tell("projection", STAGES.index("projection"), len(STAGES))
    accounts = accounts.drop_duplicates("key")
    projection = project_accounts(
        links,
        accounts=None if coded else pd.Index(accounts["key"].astype(str)),
        settings=settings,
        engine=engine,
    )
    del links  # the largest frame of the run; everything below works on the projection
    n_nodes = len(projection.accounts)
    created_at, labelled = account_facts(projection, accounts)
    stage("projection")

    components, candidates = candidate_groups(
        projection, settings=settings, seed=seed, engine=engine, stage=stage
    )
    scored = score_candidates(
        projection, candidates, created_at=created_at, labelled=labelled, reference=None,
        settings=settings, seed=seed, engine=engine,
    )  # fmt: skip
    stage("scoring")
    evidence = explain_rings(
        projection, scored.rings, scored.signals, scored.scores, created_at=created_at,
        labelled=labelled, reference=scored.reference, describe=describe, settings=settings,
        seed=seed, engine=engine, stage=stage,
    )  # fmt: skip
    found = named_rings(evidence, previous, settings=settings)
    stage("ids")
    risk = account_risk(projection, labelled, settings=settings)
    stage("risk")
    every = Candidates(projection, components, scored.groups, scored.group_signals,
                       scored.group_scores)  # fmt: skip
    return DetectionResult(
        rings=found,
        timings=timings,
        hubs=projection.hubs,
        accounts=n_nodes,
        edges=len(projection.edges),
        candidates=int(candidates.max(initial=-1)) + 1,
        data_from=data_from,
        data_to=data_to,
        candidates_scored=every if keep_candidates else None,
        risk=risk,
    )


def named_rings(
    evidence: Sequence[RingEvidence],
    previous: Mapping[str, Sequence[str]] | None,
    *,
    settings: DetectionSettings,
) -> list[Ring]:
    """Rings from their evidence (best first), each keeping a stored ring's id when it matches
    one (:func:`algorithms.stable_ids.assign_ring_ids`)."""
    members = [[m.account for m in e.members] for e in evidence]
    ids = assign_ring_ids(members, dict(previous or {}), min_jaccard=settings.match_jaccard)
    return [
        Ring(
            ring_id=ring_id,
            score=e.score.total,
            typology=e.typology.name,
            members=[RingMember(m.account, m.role, m.pagerank, m.degree) for m in e.members],
            evidence=e,
        )
        for ring_id, e in zip(ids, evidence, strict=True)
    ]


def candidate_groups(
    projection: Projection,
    *,
    settings: DetectionSettings,
    seed: int,
    engine: Engine,
    stage: Callable[[str], None] = lambda name: None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate groups of a projection: components of its strong edges, split by Leiden,
    pieces of one ring merged back.

    Every group lies inside one connected component of the projection's edges and the
    identifiers its members share (:func:`algorithms.projection.candidate_links`), so a
    projection restricted to one such component gives that component's groups.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        Strong-edge component per node (before any split), and group label per node
        (``0..k-1``; ``-1``: in no group of ``min_ring_size`` or more).
    """
    n_nodes = len(projection.accounts)
    strong = strong_edges(projection.edges, min_weight=settings.min_edge_weight)
    strong = peel_pendants(n_nodes, strong)
    components = connected_components(n_nodes, strong, engine=engine)
    stage("components")

    sizes = np.bincount(components)
    communities = split_communities(
        projection.edges,
        components,
        which=sizes > settings.split_above,
        resolution=settings.resolution,
        seed=seed,
        engine=engine,
    )
    communities = merge_entangled(
        projection.edges,
        communities,
        share=settings.merge_share,
        max_size=settings.max_ring_size,
        engine=engine,
    )
    communities = merge_dominating(
        communities,
        projection.usage,
        projection.identifiers,
        share=settings.attach_share,
        max_size=settings.max_ring_size,
        engine=engine,
    )
    attached = attach_dominated(
        communities, projection.usage, projection.identifiers, share=settings.attach_share
    )
    communities = capped_merge(communities, attached, max_size=settings.max_ring_size)
    candidates = _at_least(communities, settings.min_ring_size)
    stage("communities")
    return components, candidates


def score_candidates(
    projection: Projection,
    candidates: np.ndarray,
    *,
    created_at: np.ndarray,
    labelled: np.ndarray,
    reference: float | None,
    settings: DetectionSettings,
    seed: int,
    engine: Engine,
) -> Scored:
    """Score candidate groups, split those that are no one ring, and keep the rings.

    Parameters
    ----------
    reference
        The sharing surprise households reach (:func:`household_reference`); ``None``: judged
        here on these candidates. A part of a graph (one component) takes the whole graph's.

    Returns
    -------
    Scored
        The rings kept, and every group scored on the way to them.
    """

    def measure(groups: np.ndarray) -> pd.DataFrame:
        return ring_signals(
            projection,
            groups,
            created_at=created_at,
            labelled=labelled,
            settings=settings,
            engine=engine,
        )

    signals = measure(candidates)
    if reference is None:
        # Households are judged once, on the first candidates: re-splitting makes small parts
        # of big groups, which are no households.
        reference = household_reference(signals, settings=settings)
    scores = score_rings(signals, reference=reference, settings=settings)
    candidates, signals, scores = _split_until_rings(
        projection, candidates, signals, scores,
        measure=measure, reference=reference, settings=settings, seed=seed, engine=engine,
    )  # fmt: skip
    kept = np.flatnonzero(scores["score"].to_numpy() >= settings.min_score)
    kept = kept[np.argsort(-scores["score"].to_numpy()[kept], kind="stable")]
    rank = np.full(len(signals) + 1, -1, dtype=np.int64)
    rank[kept] = np.arange(len(kept))
    rings = rank[candidates]  # candidates' -1 picks the trailing -1
    return Scored(
        rings=rings,
        signals=signals.iloc[kept].reset_index(drop=True),
        scores=scores.iloc[kept].reset_index(drop=True),
        reference=reference,
        groups=candidates,
        group_signals=signals,
        group_scores=scores,
    )


def explain_rings(
    projection: Projection,
    rings: np.ndarray,
    signals: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    created_at: np.ndarray,
    labelled: np.ndarray,
    reference: float,
    describe: Describe | None,
    settings: DetectionSettings,
    seed: int,
    engine: Engine,
    stage: Callable[[str], None] = lambda name: None,
) -> list[RingEvidence]:
    """Centrality, evidence and typology of every ring (as :func:`score_candidates` gives)."""
    centrality = ring_centrality(
        projection.edges,
        rings,
        exact_max=settings.betweenness_exact_max,
        samples=settings.betweenness_samples,
        seed=seed,
        engine=engine,
    )
    stage("centrality")

    tables = RingTables(
        projection=projection,
        rings=rings,
        centrality=centrality,
        signals=signals,
        scores=scores,
        created_at=created_at,
        labelled=labelled,
        display=_display(projection, rings, describe),
    )
    evidence = []
    for measured in ring_evidence(tables, reference=reference, settings=settings):
        name, reasons = classify_ring(measured, settings=settings)
        typology = TypologyEvidence(name=name, reasons=reasons)
        evidence.append(measured.model_copy(update={"typology": typology}))
    stage("evidence")
    return evidence


def _split_until_rings(
    projection: Projection,
    groups: np.ndarray,
    signals: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    measure: Callable[[np.ndarray], pd.DataFrame],
    reference: float,
    settings: DetectionSettings,
    seed: int,
    engine: Engine,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Split again every group too large, too weak, or too loosely joined to be one ring.

    Each level splits with Leiden at the resolution times ``resolution_growth`` (up to
    ``split_levels`` levels) and scores every part on its own:

    - a group larger than ``max_ring_size``, or larger than ``split_above`` and scoring below
      ``min_score``, is replaced by its parts: a ring hiding in a blob of households is found
      as the blob's densest part, never dropped with the blob;
    - a scoring group larger than a household is replaced by its parts only if few of its
      members (under ``span_share``) are tied across the parts (every part counts, pairs
      and lone accounts too): households chained by a gift address add up to a big
      surprise, but only the gift's giver spans them, while a ring's members share cards,
      devices, proxies or money across any cut. A group found to be one
      is tested once: finer and finer cuts would cut anything in the end.

    Returns
    -------
    tuple
        Group label per node (``-1``: none) and the groups' signals and scores.
    """
    resolution = settings.resolution
    settled = np.zeros(len(groups), dtype=bool)  # nodes of groups found to be one
    for _ in range(settings.split_levels):
        size = signals["size"].to_numpy()
        weak = scores["score"].to_numpy() < settings.min_score
        forced = (size > settings.max_ring_size) | (weak & (size > settings.split_above))
        grouped = groups >= 0
        one = np.zeros(len(signals), dtype=bool)
        one[groups[grouped & settled]] = True
        tested = ~forced & ~one & (size > settings.household_size)
        if not (forced | tested).any():
            break
        resolution *= settings.resolution_growth
        cut = split_communities(
            projection.edges, groups, which=forced | tested, resolution=resolution,
            seed=seed, engine=engine,
        )  # fmt: skip
        parts = _at_least(cut, settings.min_ring_size)
        in_test = np.where(grouped & tested[np.maximum(groups, 0)], groups, -1)
        # Ties across every part count, pairs and loners included: a ring cut into pairs is
        # no less one ring than one cut into halves.
        spanning = _spanning_members(
            projection, in_test, cut, n_groups=len(signals), settings=settings
        )
        chained = spanning < settings.span_share * size
        split = forced | (tested & chained)
        taken = np.zeros(len(groups), dtype=bool)
        taken[grouped] = split[groups[grouped]]
        # A group tested and found to be one is not cut again at a finer resolution.
        settled[grouped] |= (tested & ~chained)[groups[grouped]]
        if not taken.any():
            continue  # nothing needs splitting at this resolution; a higher one may
        # Whole groups keep their label, signals and score; only the new parts are measured.
        whole = np.flatnonzero(~split)
        renumber = np.full(len(signals), -1, dtype=np.int64)
        renumber[whole] = np.arange(len(whole))
        new_parts = _at_least(dense_labels(np.where(taken, parts, -1)), settings.min_ring_size)
        part_signals = measure(new_parts)
        groups = np.where(
            grouped & ~taken,
            renumber[np.maximum(groups, 0)],
            np.where(new_parts >= 0, new_parts + len(whole), -1),
        )
        signals = pd.concat([signals.iloc[whole], part_signals], ignore_index=True)
        scores = pd.concat(
            [
                scores.iloc[whole],
                score_rings(part_signals, reference=reference, settings=settings),
            ],
            ignore_index=True,
        )
    return groups, signals, scores


def _spanning_members(
    projection: Projection,
    groups: np.ndarray,
    parts: np.ndarray,
    *,
    n_groups: int,
    settings: DetectionSettings,
) -> np.ndarray:
    """Per group, the members tied across its parts: users of a (non-hub) thing that members
    of two or more parts use, and ends of repeated direct links between parts (a friend's one
    referral or payment ties two households no more than a gift parcel does)."""
    shared = shared_identifiers(projection, groups)
    usage = projection.usage
    node = usage["node"].to_numpy()
    ident = usage["identifier"].to_numpy()
    inside = (groups[node] >= 0) & (parts[node] >= 0)
    uses = pd.DataFrame({"ring": groups[node], "identifier": ident, "part": parts[node]})[inside]
    spread = uses.drop_duplicates().groupby(["ring", "identifier"]).size()
    index = pd.MultiIndex.from_frame(shared[["ring", "identifier"]])
    spanning = shared[spread.reindex(index, fill_value=0).to_numpy() >= 2]
    crossing = uses.assign(node=node[inside]).merge(spanning[["ring", "identifier"]])["node"]
    direct = projection.direct
    src, dst = direct["src"].to_numpy(np.int64), direct["dst"].to_numpy(np.int64)
    repeated = direct["count"].to_numpy(np.int64) >= settings.cycle_min_transfers
    across = (
        repeated
        & (groups[src] >= 0)
        & (groups[src] == groups[dst])
        & (parts[src] >= 0)
        & (parts[dst] >= 0)
        & (parts[src] != parts[dst])
    )
    tied = np.unique(np.concatenate([crossing.to_numpy(np.int64), src[across], dst[across]]))
    return np.bincount(groups[tied], minlength=n_groups)


def span(links: pd.DataFrame) -> tuple[datetime | None, datetime | None]:
    """The earliest first and the latest last sighting of ``links``, tz-aware UTC."""
    return aware_utc(links["first_seen"].min()), aware_utc(links["last_seen"].max())


def _at_least(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Keep groups of at least ``min_size`` nodes, relabelled ``0..k-1``; others become -1."""
    grouped = labels >= 0
    sizes = np.bincount(labels[grouped]) if grouped.any() else np.zeros(1, dtype=np.int64)
    return dense_labels(np.where(grouped & (sizes[np.maximum(labels, 0)] >= min_size), labels, -1))


def account_facts(projection: Projection, accounts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Creation time and known-bad flag per projected node (accounts seen only in links have
    neither)."""
    facts = accounts.set_index(accounts["key"].astype(str))
    facts = facts.reindex(projection.accounts)
    created_at = pd.to_datetime(facts["created_at"]).to_numpy("datetime64[us]")
    return created_at, facts["label"].notna().to_numpy()


def _display(projection: Projection, rings: np.ndarray, describe: Describe | None) -> np.ndarray:
    """Display text for the identifiers ring members use (``None`` elsewhere)."""
    display = np.full(len(projection.identifiers), None, dtype=object)
    if describe is None:
        return display
    usage = projection.usage
    wanted = np.unique(usage["identifier"].to_numpy()[rings[usage["node"].to_numpy()] >= 0])
    if len(wanted):
        display[wanted] = list(describe(projection.identifiers.iloc[wanted][["kind", "key"]]))
    return display
