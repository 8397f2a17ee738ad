"""Ring scores: named additive contributions, each traceable to measured signals.

Every candidate ring gets a row of *signals* (plain counts and times: how many members share a
device, how many were created in one week, how many are labelled bad) and each *contribution*
is a simple function of a few signals, scaled to ``[0, 1]`` and multiplied by its weight from
``DetectionSettings.score_weights``. The score is their sum, so an investigator can see why a
ring ranks where it does and check each number against the evidence.

The ``structure`` contribution needs no burst, label or money flow: it asks how surprising the
ring's sharing is, given how widely things of each kind are shared in this graph, compared
with what the graph's own household-sized groups show. Each thing ``i`` of kind ``K`` that
``m`` members share is evidence ``-log10 P_K(users >= m)`` (the share of the graph's non-hub
things of that kind used by ``m`` or more accounts: an empirical null per kind), weighted by
the share of its users who are members (a thing the group holds alone says more than one it
shares with outsiders). A family's home, device and card are shared by two to six people every
day; a card used by twenty-five, a device by twelve or one mailbox by five are not. The sum is
set against the same sum over groups of at most ``household_size`` accounts: the ring must
exceed what households reach (their ``household_quantile``).

References
----------
B. Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016: sharing
counts for less the more widely the shared column is used.
L. Akoglu, H. Tong, D. Koutra, "Graph based anomaly detection and description: a survey",
Data Mining and Knowledge Discovery 29 (2015): rarity of a pattern under the graph's own
distribution as the measure of its surprise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.engines import Engine, scrambled, strong_components
from algorithms.projection import Projection
from graphfraud.model import LinkKind
from graphfraud.settings import DetectionSettings

#: Named contributions, in the order they are shown.
CONTRIBUTIONS: tuple[str, ...] = (
    "structure",
    "burstiness",
    "known_bad",
    "money_flow",
    "lockstep",
)

_SECONDS_PER_DAY = 86_400


def ring_signals(
    projection: Projection,
    rings: np.ndarray,
    *,
    created_at: np.ndarray,
    labelled: np.ndarray,
    settings: DetectionSettings,
    engine: Engine,
) -> pd.DataFrame:
    """Measure every ring: size, ties, shared identifiers, creation burst, seeds, flows, timing.

    Parameters
    ----------
    projection
        The account projection the rings were found in.
    rings
        Ring label per node (``0..R-1``), ``-1`` for nodes in no ring.
    created_at
        Account creation time per node (``datetime64``; NaT when unknown).
    labelled
        Whether each node is a known-bad seed.
    settings
        Burst window, lockstep window and the edge weight that counts as a tie.
    engine
        Graph engine for finding money cycles.

    Returns
    -------
    pandas.DataFrame
        One row per ring (index ``0..R-1``) with the columns ``size``, ``edges``, ``weight``,
        ``density``, ``strength``, ``shared``, ``covered``, ``shared_uses``, ``outside_uses``,
        ``exclusivity``, ``surprise``, ``burst_members``, ``seeds``, ``seed_neighbours``,
        ``direct_links``, ``direct_members``, ``direct_amount``, ``cycle_members``,
        ``lockstep_members``.
    """
    n_rings = int(rings.max(initial=-1)) + 1
    size = np.bincount(rings[rings >= 0], minlength=n_rings)
    out = pd.DataFrame({"size": size})

    a = projection.edges["a"].to_numpy(np.int64)
    b = projection.edges["b"].to_numpy(np.int64)
    weight = projection.edges["weight"].to_numpy("float64")
    inside = (rings[a] >= 0) & (rings[a] == rings[b])
    out["edges"] = np.bincount(rings[a[inside]], minlength=n_rings)
    out["weight"] = np.bincount(rings[a[inside]], weight[inside], minlength=n_rings)
    pairs = size * (size - 1) / 2
    out["density"] = np.divide(out["edges"], pairs, out=np.zeros(n_rings), where=pairs > 0)
    out["strength"] = np.divide(out["weight"], size, out=np.zeros(n_rings), where=size > 0)

    shared = shared_identifiers(projection, rings)
    per_ring = shared.groupby("ring")
    out["shared"] = per_ring.size().reindex(out.index, fill_value=0)
    out["shared_uses"] = per_ring["members"].sum().reindex(out.index, fill_value=0)
    outside = (shared["accounts"] - shared["members"]).groupby(shared["ring"]).sum()
    out["outside_uses"] = outside.reindex(out.index, fill_value=0)
    total_uses = out["shared_uses"] + out["outside_uses"]
    out["exclusivity"] = np.divide(
        out["shared_uses"], total_uses, out=np.zeros(n_rings), where=total_uses > 0
    )
    uses = _ring_uses(projection, rings)
    evidence = distinct_evidence(shared, uses, sharing_surprise(projection, shared))
    out["surprise"] = np.bincount(shared["ring"].to_numpy(np.int64), evidence, minlength=n_rings)

    shared_use = uses.merge(shared[["ring", "identifier"]], on=["ring", "identifier"])
    covered = shared_use.drop_duplicates(["node"]).groupby("ring").size()
    out["covered"] = covered.reindex(out.index, fill_value=0)

    members = np.flatnonzero(rings >= 0)
    out["burst_members"] = densest_window(
        rings[members],
        created_at[members],
        window=np.timedelta64(int(settings.burst_days * _SECONDS_PER_DAY), "s"),
        n_groups=n_rings,
    )
    first_use = shared_use.groupby("node")["first_seen"].min()
    out["lockstep_members"] = densest_window(
        rings[first_use.index.to_numpy()],
        first_use.to_numpy("datetime64[us]"),
        window=np.timedelta64(int(settings.lockstep_hours * 3600), "s"),
        n_groups=n_rings,
    )

    out["seeds"] = np.bincount(rings[members], labelled[members], minlength=n_rings).astype(int)
    out["seed_neighbours"] = _seed_neighbours(
        a, b, weight, rings, labelled, settings.min_edge_weight, n_rings
    )

    direct = projection.direct
    src = direct["src"].to_numpy(np.int64)
    dst = direct["dst"].to_numpy(np.int64)
    internal = (rings[src] >= 0) & (rings[src] == rings[dst]) & (src != dst)
    ring_of = rings[src[internal]]
    out["direct_links"] = np.bincount(ring_of, minlength=n_rings)
    amount = direct["amount"].fillna(0.0).to_numpy("float64")[internal]
    out["direct_amount"] = np.bincount(ring_of, amount, minlength=n_rings)
    touched = np.unique(np.r_[src[internal], dst[internal]])
    out["direct_members"] = np.bincount(rings[touched], minlength=n_rings)
    repeated = direct["count"].to_numpy(np.int64) >= settings.cycle_min_transfers
    flows = internal & repeated & (direct["kind"].to_numpy() == LinkKind.TRANSACTS_WITH)
    out["cycle_members"] = _cycle_members(src[flows], dst[flows], rings, n_rings, engine)
    return out


def shared_identifiers(projection: Projection, rings: np.ndarray) -> pd.DataFrame:
    """Identifiers used by two or more members of one ring (hubs excluded).

    Returns
    -------
    pandas.DataFrame
        Columns ``ring``, ``identifier`` (row of ``projection.identifiers``), ``members`` (ring
        members using it) and ``accounts`` (accounts using it in the whole graph).
    """
    uses = _ring_uses(projection, rings)
    counts = uses.groupby(["ring", "identifier"], sort=True).size().reset_index(name="members")
    ident = counts["identifier"].to_numpy()
    counts["accounts"] = projection.identifiers["accounts"].to_numpy()[ident]
    keep = (counts["members"].to_numpy() >= 2) & ~projection.identifiers["hub"].to_numpy()[ident]
    return counts[keep].reset_index(drop=True)


def sharing_surprise(projection: Projection, shared: pd.DataFrame) -> np.ndarray:
    """Evidence of each (ring, shared thing) row: ``-log10 P_K(users >= members)`` times the
    share of the thing's users who are members.

    ``P_K`` is the share of the graph's non-hub things of the same kind used by at least that
    many accounts, so sharing a kind of thing that people rarely share (a mailbox, a phone)
    counts for more than sharing one families share (a home, a device).

    Parameters
    ----------
    projection
        The projection (its ``kind_users`` give the per-kind distributions).
    shared
        As :func:`shared_identifiers` returns.
    """
    ident = shared["identifier"].to_numpy(np.int64)
    # The kinds of the shared rows only: there are millions of identifiers, and this runs for
    # every split level's parts.
    kind = projection.identifiers["kind"].take(ident).astype(str).to_numpy()
    members = shared["members"].to_numpy(np.int64)
    tail = np.ones(len(ident))
    population = projection.kind_users
    for name in np.unique(kind).tolist():
        same = population[population["kind"].to_numpy() == name]
        users = same["accounts"].to_numpy(np.int64)  # ascending
        # Things used by at least m accounts: the count from the first size >= m on.
        beyond = np.r_[np.cumsum(same["things"].to_numpy(np.int64)[::-1])[::-1], 0]
        rows = kind == name
        at_least = beyond[np.searchsorted(users, members[rows], side="left")]
        tail[rows] = np.maximum(at_least, 1) / max(int(beyond[0]), 1)
    return -np.log10(tail) * members / np.maximum(shared["accounts"].to_numpy(), 1)


def distinct_evidence(shared: pd.DataFrame, uses: pd.DataFrame, evidence: np.ndarray) -> np.ndarray:
    """Evidence of each (ring, shared thing) row, counting things shared by exactly the same
    members once (the strongest of them).

    A family's home address and home IP tie the same people: two facts about one
    co-residence, not two pieces of evidence. Things shared by different sets of members
    (a ring's several cards, each held by its own few) each count.

    Parameters
    ----------
    shared
        As :func:`shared_identifiers` returns.
    uses
        Ring members' uses: ``ring``, ``node``, ``identifier``.
    evidence
        Per row of ``shared``.
    """
    # A member set's fingerprint: the sum of a fixed pseudo-random number per member.
    members = uses.merge(shared[["ring", "identifier"]], on=["ring", "identifier"])
    token = scrambled(members["node"].to_numpy(np.int64))
    fingerprint = (
        pd.Series(token, dtype="uint64")
        .groupby([members["ring"].to_numpy(), members["identifier"].to_numpy()])
        .sum()
    )
    index = pd.MultiIndex.from_frame(shared[["ring", "identifier"]])
    ring = shared["ring"].to_numpy(np.int64)
    member_set = fingerprint.reindex(index).to_numpy(np.uint64)
    # Strongest first within each (ring, member set); only that row keeps its evidence.
    order = np.lexsort((-evidence, member_set, ring))
    first = np.r_[True, (np.diff(ring[order]) != 0) | (np.diff(member_set[order]) != 0)]
    keep = np.zeros(len(evidence), dtype=bool)
    keep[order] = first
    return np.where(keep, evidence, 0.0)


def household_reference(signals: pd.DataFrame, *, settings: DetectionSettings) -> float:
    """The sharing surprise households reach: its ``household_quantile`` over the candidate
    groups of at most ``household_size`` accounts (they are mostly households).

    With no such group, the surprise of ``household_size`` accounts sharing a thing no one
    else uses, when one thing in a hundred of its kind is that widely shared.
    """
    small = signals.loc[signals["size"] <= settings.household_size, "surprise"]
    if len(small) == 0:
        return float(-np.log10(0.01))
    return float(max(np.quantile(small.to_numpy("float64"), settings.household_quantile), 1e-9))


def score_rings(
    signals: pd.DataFrame, *, reference: float, settings: DetectionSettings
) -> pd.DataFrame:
    """Turn ring signals into weighted contributions and a total ``score``.

    Parameters
    ----------
    signals
        As :func:`ring_signals` returns.
    reference
        The sharing surprise households reach (:func:`household_reference`): structure
        scores the surprise beyond it, in units of it (twice the reference scores fully).
    settings
        ``score_weights`` gives each contribution's maximum; ``household_size`` scales how
        many members acting together make a burst or lockstep convincing.

    Returns
    -------
    pandas.DataFrame
        One column per name in :data:`CONTRIBUTIONS` and ``score`` (their sum), per ring.

    Examples
    --------
    >>> signals = pd.DataFrame({"size": [4], "strength": [0.0], "density": [1.0],
    ...     "exclusivity": [1.0], "surprise": [15.0], "burst_members": [4], "seeds": [0],
    ...     "seed_neighbours": [0], "direct_links": [0], "direct_members": [0],
    ...     "cycle_members": [0], "lockstep_members": [1]})
    >>> scores = score_rings(signals, reference=10.0, settings=DetectionSettings())
    >>> scores.round(2).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'structure': 0.75, 'burstiness': 0.47, 'known_bad': 0.0, 'money_flow': 0.0,
     'lockstep': 0.0, 'score': 1.22}
    """
    size = signals["size"].to_numpy("float64")
    scale = settings.household_size / 2
    beyond = (signals["surprise"].to_numpy("float64") - reference) / reference
    values = {
        "structure": np.clip(beyond, 0.0, 1.0),
        "burstiness": _together(signals["burst_members"].to_numpy(), size, scale),
        "known_bad": 1
        - 0.5
        ** (
            signals["seeds"].to_numpy()
            + settings.seed_neighbour_share * signals["seed_neighbours"].to_numpy()
        ),
        # Money sent round a cycle again and again, or direct links (referrals, payments)
        # joining more members than a household holds: families refer and pay each other.
        "money_flow": np.maximum(
            signals["cycle_members"].to_numpy() / np.maximum(size, 1),
            np.clip(
                (signals["direct_members"].to_numpy() - settings.household_size)
                / settings.household_size,
                0,
                1,
            ),
        ),
        "lockstep": _together(signals["lockstep_members"].to_numpy(), size, scale),
    }
    out = pd.DataFrame(
        {name: settings.score_weights.get(name, 0.0) * values[name] for name in CONTRIBUTIONS},
        index=signals.index,
    )
    out["score"] = out[list(CONTRIBUTIONS)].sum(axis=1)
    return out


def _together(count: np.ndarray, size: np.ndarray, scale: float) -> np.ndarray:
    """How much of a ring acts together, from the most members inside one time window.

    The share of the other members who fall in the window, times a confidence that grows with
    how many they are, on the scale of a household (half its size): two accounts created in
    the same month happens by chance every day (a friend referred the day after signing up),
    a family of four joining within a month now and then, thirty accounts never.
    """
    others = np.maximum(count - 1, 0).astype("float64")
    share = others / np.maximum(size - 1, 1)
    return np.clip(share * (1.0 - np.exp(-others / scale)), 0.0, 1.0)


def densest_window(
    groups: np.ndarray, times: np.ndarray, *, window: np.timedelta64, n_groups: int
) -> np.ndarray:
    """Per group, the most events falling within one ``window`` (missing times ignored).

    Examples
    --------
    >>> times = np.array(["2024-01-01", "2024-01-03", "2024-03-01"], dtype="datetime64[s]")
    >>> densest_window(np.array([0, 0, 0]), times, window=np.timedelta64(7, "D"), n_groups=2)
    array([2, 0])
    """
    seconds = np.asarray(times, dtype="datetime64[s]")
    known = ~np.isnat(seconds)
    groups = np.asarray(groups, dtype=np.int64)[known]
    stamp = seconds[known].astype(np.int64)
    best = np.zeros(n_groups, dtype=np.int64)
    if len(stamp) == 0:
        return best
    stamp = stamp - stamp.min()
    width = int(window / np.timedelta64(1, "s"))
    # Offsetting each group by more than the whole time range keeps windows inside a group.
    span = int(stamp.max()) + width + 1
    key = np.sort(groups * span + stamp)
    counts = np.searchsorted(key, key + width, side="right") - np.arange(len(key))
    np.maximum.at(best, key // span, counts)
    return best


def _ring_uses(projection: Projection, rings: np.ndarray) -> pd.DataFrame:
    usage = projection.usage
    ring = rings[usage["node"].to_numpy()]
    keep = ring >= 0
    return pd.DataFrame(
        {
            "ring": ring[keep],
            "node": usage["node"].to_numpy()[keep],
            "identifier": usage["identifier"].to_numpy()[keep],
            "first_seen": usage["first_seen"].to_numpy()[keep],
        }
    )


def _seed_neighbours(
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    rings: np.ndarray,
    labelled: np.ndarray,
    min_weight: float,
    n_rings: int,
) -> np.ndarray:
    """Per ring, the members tied (strongly) to a labelled account outside the ring."""
    strong = weight >= min_weight
    a, b = a[strong], b[strong]
    member = np.r_[a, b]
    other = np.r_[b, a]
    hit = (rings[member] >= 0) & labelled[other] & (rings[other] != rings[member])
    touched = np.unique(member[hit])
    return np.bincount(rings[touched], minlength=n_rings)


def _cycle_members(
    src: np.ndarray, dst: np.ndarray, rings: np.ndarray, n_rings: int, engine: Engine
) -> np.ndarray:
    """Per ring, members on a directed money/order cycle of three or more inside the ring."""
    nodes, local = np.unique(np.r_[src, dst], return_inverse=True)
    ends = local.reshape(2, -1)
    scc = strong_components(len(nodes), ends[0], ends[1], engine=engine)
    on_cycle = np.bincount(scc, minlength=len(nodes))[scc] >= 3
    return np.bincount(rings[nodes[on_cycle]], minlength=n_rings)
