"""Incremental re-detection: after new rows arrive, detect again only where they landed.

New links change the rings of the part of the graph they touch: detection starts from the
connected components of the projection's strong edges (those reaching ``min_edge_weight``),
so the strong components that hold an account the new rows touched, with every stored ring
that has a member there, are detected again on the projection restricted to them
(:func:`algorithms.projection.restrict`), with the pipeline's own per-candidate functions
(:func:`~algorithms.pipeline.candidate_groups`, :func:`~algorithms.pipeline.score_candidates`,
:func:`~algorithms.pipeline.explain_rings`); every other stored ring is kept as it is. The
rings found keep their stored ids where their membership mostly persists
(:func:`~algorithms.pipeline.named_rings`), and the whole set is written as one run, so the
store's ring history records which rings are new, grew, merged (one grows, the other
retires) or shrank, and verdicts are untouched.

The method follows Spade (Jiang et al., "Spade: A Real-Time Fraud Detection Framework on
Evolving Graphs", VLDB 2023): keep the dense groups of an evolving graph and, on each batch
of edge updates, re-examine only the part of the graph the updates reach instead of peeling
the whole graph again. Where this differs:

- Spade maintains a peeling order for one density metric edge by edge; here the unit touched
  is a whole strong component, re-run through the same Leiden splits and scoring as a full
  run. A full run may also attach to a group accounts tied to it only through weak edges (a
  thing most of whose users are in the group, :func:`algorithms.communities.attach_dominated`)
  or merge groups across strong components; those that the new rows cause are found by the
  next full run. The unit is not the candidate-link component
  (:func:`algorithms.projection.candidate_links`), which would make the result exactly a full
  run's: on the generated marketplace that is one component of most accounts.
- What is global is kept from one whole-graph projection (a :class:`Baseline`: the hub
  calls per identifier and account with their kind's fence and cohesion, the per-kind
  sharing), made once and reused for every batch until the next full run. Only the links
  around the touched part are read (:meth:`GraphStore.links_touching`): the touched
  accounts and the members of stored rings among them, every link of each non-hub thing
  they use (so its count of users is exact), and again from the accounts those reach
  through strong edges, until the strong components of the touched accounts are whole.
  That part is projected with the kept hub calls and detected alone.
- A thing whose users, counted exactly on the part read, pass its kind's fence becomes a
  hub at once unless the whole-graph test found its users cohesive: the cohesion test needs
  the whole graph's degrees, so a thing never tested is called a hub on its use alone until
  the next full run judges it. A new thing is judged by the same rule. Accounts keep their
  call (a seller's counterparties are not recounted locally): the next full run makes one a
  hub.
- The households' sharing surprise that scores are judged against
  (:func:`algorithms.scoring.household_reference`) is a whole-graph statistic: it is kept
  from the stored rings (the last full run) rather than judged again on one component.
- Account risk (propagation from known-bad accounts) is left as the last full run stored it.

References
----------
Jiayu Jiang, Yuxiang Li, Bingsheng He, Bryan Hooi, Jia Chen, Johan Kok Zhi Kang. "Spade: A
Real-Time Fraud Detection Framework on Evolving Graphs". PVLDB 16(3), 2022 (VLDB 2023).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import uuid4

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from algorithms.components import strong_edges
from algorithms.pipeline import (
    account_facts,
    candidate_groups,
    describer,
    explain_rings,
    named_rings,
    score_candidates,
    span,
    stored_memberships,
)
from algorithms.projection import Projection, project_accounts, restrict
from graphfraud import __version__
from graphfraud.model import DetectionRun, EntityKind, EntityRef, Ring
from graphfraud.settings import DetectionSettings
from graphfraud.store.base import GraphStore

#: The engine an incremental run is recorded under.
ENGINE = "incremental"
#: Columns of the hub test kept in a :class:`Baseline` (and returned by its judge).
_TEST = ["group_accounts", "fence", "cohesion", "hub"]


@dataclass(frozen=True)
class Baseline:
    """What is global about the graph, kept from one whole-graph projection.

    Attributes
    ----------
    run_id
        The full detection run it belongs with (the latest when it was made).
    things
        The hub test per identifier (``_TEST`` columns), indexed by ``"kind:key"``.
    accounts
        The hub test per account (its direct counterparties), indexed by account key.
    fences
        Each identifier kind's fence.
    kind_users
        :attr:`Projection.kind_users` of the whole graph (the scoring null model).
    reference
        The household reference the stored rings were scored against.
    """

    run_id: str | None
    things: pd.DataFrame
    accounts: pd.DataFrame
    fences: dict[str, float]
    kind_users: pd.DataFrame
    reference: float

    @property
    def hubs(self) -> pd.Index:
        """The identifiers called hubs (``"kind:key"``)."""
        return self.things.index[self.things["hub"].to_numpy(bool)]

    def judge(
        self, identifiers: pd.DataFrame, accounts: pd.Index, *, hub_cohesion: float
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The kept hub calls for ``identifiers`` and ``accounts`` of a part of the graph
        (a :data:`algorithms.projection.HubJudge`), with the local rule for new hubs."""
        keys = identifiers["kind"].astype(str) + ":" + identifiers["key"].astype(str)
        test = self.things.reindex(pd.Index(keys))
        kinds = identifiers["kind"].astype(str).to_numpy()
        judged = identifiers.copy()
        for column, values in _judged(
            test, identifiers["accounts"].to_numpy(), kinds, self.fences, hub_cohesion
        ).items():
            judged[column] = values
        own = self.accounts.reindex(accounts)
        kind = np.full(len(accounts), EntityKind.ACCOUNT.value, dtype=object)
        counterparties = own["group_accounts"].fillna(0).to_numpy()
        return judged, pd.DataFrame(_judged(own, counterparties, kind, self.fences, hub_cohesion))


def _judged(
    test: pd.DataFrame,
    users: np.ndarray,
    kinds: np.ndarray,
    fences: dict[str, float],
    hub_cohesion: float,
) -> dict[str, np.ndarray]:
    """The kept test where there is one; past its kind's fence, a hub unless found cohesive."""
    known = test["hub"].notna().to_numpy()
    fence = np.where(
        known, test["fence"].to_numpy("float64"), [fences.get(kind, np.inf) for kind in kinds]
    )
    group = np.maximum(np.nan_to_num(test["group_accounts"].to_numpy("float64")), users)
    cohesion = test["cohesion"].to_numpy("float64")
    cohesive = cohesion >= hub_cohesion
    hub = np.where(known, test["hub"].fillna(False).to_numpy(bool), False) | (
        (group > fence) & ~cohesive
    )
    return {
        "group_accounts": group.astype(np.int64),
        "fence": fence,
        "cohesion": cohesion,
        "hub": hub,
    }


def baseline(store: GraphStore, *, settings: DetectionSettings) -> Baseline | None:
    """Project the whole graph once and keep what is global (None: no stored rings yet)."""
    previous = stored_memberships(store)
    reference = _stored_reference(store, previous)
    if reference is None:
        return None
    accounts = store.entities(kind=EntityKind.ACCOUNT).drop_duplicates("key")
    projection = project_accounts(
        store.links(), accounts=pd.Index(accounts["key"].astype(str)), settings=settings,
        engine="igraph",
    )  # fmt: skip
    identifiers = projection.identifiers
    things = identifiers[_TEST].set_axis(
        pd.Index(identifiers["kind"].astype(str) + ":" + identifiers["key"].astype(str))
    )
    hubs = projection.account_hubs
    account_test = pd.DataFrame(
        {"group_accounts": hubs["counterparties"].to_numpy(), "fence": hubs["fence"].to_numpy(),
         "cohesion": hubs["cohesion"].to_numpy(), "hub": True},
        index=pd.Index(hubs["key"].astype(str)),
    )  # fmt: skip
    by_kind = identifiers.groupby(identifiers["kind"].astype(str))["fence"].min()
    fences = {str(kind): float(fence) for kind, fence in by_kind.items()}
    return Baseline(
        run_id=latest_full_run(store), things=things, accounts=account_test,
        fences=fences, kind_users=projection.kind_users, reference=reference,
    )  # fmt: skip


@dataclass
class IncrementalResult:
    """What an incremental re-detection did.

    Attributes
    ----------
    run
        The run as the store recorded it (``engine`` :data:`ENGINE`); ``None`` when nothing
        was touched and nothing written.
    accounts
        Accounts in the components detected again.
    rings_found
        Rings found in those components (ids kept where they match a stored ring).
    rings_kept
        Stored rings outside them, kept as they were.
    timings
        Seconds per step: ``baseline`` (only when one was made), ``reading`` (the
        neighbourhood, round by round), ``projection``, ``detection``, ``writing``.
    """

    run: DetectionRun | None
    accounts: int = 0
    rings_found: list[Ring] = field(default_factory=list)
    rings_kept: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def latest_full_run(store: GraphStore) -> str | None:
    """The id of the newest detection run that was not incremental (None: none)."""
    return next((run.run_id for run in store.runs() if run.engine != ENGINE), None)


def redetect_touched(
    store: GraphStore,
    touched: Sequence[str],
    *,
    settings: DetectionSettings,
    seed: int = 0,
    run_id: str | None = None,
    kept: Baseline | None = None,
) -> IncrementalResult:
    """Detect rings again in the components of the accounts ``touched``; keep the rest.

    Parameters
    ----------
    store
        The store the new rows were written to; the rings are written back to it.
    touched
        Accounts the new rows involve (their own account and any account they link to).
    settings
        Detection settings (those of the last full run, for the rings to compare).
    seed
        Seed of the randomised steps, as for a full run.
    run_id
        Id to record the run under; default: a fresh one.
    kept
        The graph's global facts (:func:`baseline`); default: made now, from the whole graph.

    Returns
    -------
    IncrementalResult
        The run recorded and the rings it found.

    Notes
    -----
    Without stored rings there is no household reference to score against (see the module
    docstring): run a full detection first. Then this finds no rings and writes nothing.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    started_at = datetime.now(UTC)
    if kept is None:
        kept = baseline(store, settings=settings)
        step("baseline")
    if kept is None or not touched:
        return IncrementalResult(run=None, timings=timings)
    previous = stored_memberships(store)

    def judge(identifiers: pd.DataFrame, accounts: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
        assert kept is not None
        return kept.judge(identifiers, accounts, hub_cohesion=settings.hub_cohesion)

    def project(links: pd.DataFrame) -> Projection:
        assert kept is not None
        local = project_accounts(
            links, accounts=None, settings=settings, engine="igraph", judge=judge
        )
        return replace(local, kind_users=kept.kind_users)

    links, projection, nodes, hit = _neighbourhood(
        store, touched, previous, project, hubs=kept.hubs, settings=settings
    )
    data_from, data_to = span(links)
    step("reading")
    accounts = store.entities(kind=EntityKind.ACCOUNT, keys=projection.accounts[nodes].tolist())
    created_at, labelled = account_facts(projection, accounts.drop_duplicates("key"))
    part = restrict(projection, nodes)
    step("projection")
    _, candidates = candidate_groups(part, settings=settings, seed=seed, engine="igraph")
    scored = score_candidates(
        part, candidates, created_at=created_at[nodes], labelled=labelled[nodes],
        reference=kept.reference, settings=settings, seed=seed, engine="igraph",
    )  # fmt: skip
    evidence = explain_rings(
        part, scored.rings, scored.signals, scored.scores, created_at=created_at[nodes],
        labelled=labelled[nodes], reference=kept.reference, describe=describer(store),
        settings=settings, seed=seed, engine="igraph",
    )  # fmt: skip
    replaced = {ring_id: previous[ring_id] for ring_id in hit}
    found = named_rings(evidence, replaced, settings=settings)
    step("detection")

    ids = {ring.ring_id for ring in found}
    others = store.rings_by_id(sorted(set(previous) - set(hit) - ids))
    run = DetectionRun(
        run_id=run_id or uuid4().hex[:12],
        started_at=started_at,
        settings=settings.model_dump(mode="json"),
        data_from=data_from,
        data_to=data_to,
        engine=ENGINE,
        version=__version__,
        accounts=len(nodes),
        candidates=int(candidates.max(initial=-1)) + 1,
    )
    rings = sorted([*found, *others], key=lambda ring: -ring.score)
    recorded = store.write_rings(rings, run=run)
    step("writing")
    return IncrementalResult(
        run=recorded, accounts=len(nodes), rings_found=found, rings_kept=len(others),
        timings=timings,
    )  # fmt: skip


def _stored_reference(store: GraphStore, previous: dict[str, list[str]]) -> float | None:
    """The household reference the stored rings were scored against (None: no rings)."""
    for ring in store.rings_by_id(sorted(previous)[:1]):
        if ring.evidence is not None and ring.evidence.score.reference is not None:
            return ring.evidence.score.reference
    return None


def _neighbourhood(
    store: GraphStore,
    touched: Sequence[str],
    previous: dict[str, list[str]],
    project: Callable[[pd.DataFrame], Projection],
    *,
    hubs: pd.Index,
    settings: DetectionSettings,
) -> tuple[pd.DataFrame, Projection, np.ndarray, list[str]]:
    """Read the links around ``touched`` until their strong components are whole.

    Each round reads every link of the accounts not read yet, then every link of the things
    they use that are not ``hubs`` (``"kind:key"``), projects what was read, and takes the
    strong-edge components of the touched accounts, grown by the components of every stored
    ring with a member in them (a ring a hub decision cut in two is replaced whole). It stops
    when every account of those components was read: then their edges are what the whole
    graph gives them.

    Returns
    -------
    tuple
        The links read, their projection, the nodes to detect again (sorted) and the stored
        rings they replace.
    """
    ring_of: dict[str, list[str]] = {}
    for ring_id, keys in previous.items():
        for key in keys:
            ring_of.setdefault(key, []).append(ring_id)
    read_accounts: set[str] = set()
    read_things: set[tuple[str, str]] = set()
    frames: list[pd.DataFrame] = []
    wanted = set(touched)
    while True:
        fresh = sorted(wanted - read_accounts)
        read_accounts.update(fresh)
        if fresh:
            around = store.links_touching(
                [EntityRef(EntityKind.ACCOUNT.value, key) for key in fresh]
            )
            frames.append(around)
            things = _things_used(around, hubs) - read_things
            read_things.update(things)
            if things:
                frames.append(store.links_touching([EntityRef(*thing) for thing in sorted(things)]))
        links = pd.concat(frames, ignore_index=True).drop_duplicates(
            ["src_kind", "src_key", "kind", "dst_kind", "dst_key"]
        )
        projection = project(links)
        nodes, hit = _touched_part(projection, previous, sorted(wanted), settings=settings)
        reached = set(projection.accounts[nodes].tolist())
        grown = reached | {key for ring_id in hit for key in previous[ring_id]}
        if grown <= read_accounts:
            return links, projection, nodes, hit
        wanted |= grown


def _things_used(links: pd.DataFrame, hubs: pd.Index) -> set[tuple[str, str]]:
    """The things (not accounts) accounts use in ``links``, bar the ``hubs``."""
    used = (links["src_kind"].to_numpy() == EntityKind.ACCOUNT) & (
        links["dst_kind"].to_numpy() != EntityKind.ACCOUNT
    )
    kinds = links["dst_kind"].to_numpy()[used].astype(str)
    keys = links["dst_key"].to_numpy()[used].astype(str)
    known = hubs.get_indexer(pd.Index(np.char.add(np.char.add(kinds, ":"), keys), dtype=object))
    return set(zip(kinds[known < 0].tolist(), keys[known < 0].tolist(), strict=True))


def _touched_part(
    projection: Projection,
    previous: dict[str, list[str]],
    touched: Sequence[str],
    *,
    settings: DetectionSettings,
) -> tuple[np.ndarray, list[str]]:
    """The nodes to detect again (sorted) and the stored rings they replace.

    The strong-edge components of the touched accounts, grown by the components of every
    stored ring with a member in them: a ring that a hub decision cut in two is replaced
    whole, not kept beside its own parts.
    """
    pairs = strong_edges(projection.edges, min_weight=settings.min_edge_weight)
    accounts = projection.accounts
    n = len(accounts)
    graph = sparse.coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs["a"].to_numpy(), pairs["b"].to_numpy())),
        shape=(n, n),
    )
    _, labels = connected_components(graph, directed=False)
    members = {ring_id: accounts.get_indexer(pd.Index(keys)) for ring_id, keys in previous.items()}
    wanted = accounts.get_indexer(pd.Index(touched))
    components = set(labels[wanted[wanted >= 0]].tolist())
    while True:
        hit = [
            ring_id
            for ring_id, at in members.items()
            if components.intersection(labels[at[at >= 0]].tolist())
        ]
        grown = components.union(*(labels[members[r][members[r] >= 0]].tolist() for r in hit))
        if grown == components:
            break
        components = grown
    nodes = np.flatnonzero(np.isin(labels, sorted(components)))
    return nodes, hit
