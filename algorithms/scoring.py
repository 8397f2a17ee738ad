"""Ring scores: named additive contributions, each traceable to measured signals.

Every candidate ring gets a row of *signals* (plain counts and times: how many members share a
device, how many were created in one week, how many are labelled bad) and each *contribution*
is a simple function of a few signals, scaled to ``[0, 1]`` and multiplied by its weight from
``DetectionSettings.score_weights``. The score is their sum, so an investigator can see why a
ring ranks where it does and check each number against the evidence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.engines import Engine, strong_components
from algorithms.projection import Projection
from graphfraud.model import LinkKind
from graphfraud.settings import DetectionSettings

#: Named contributions, in the order they are shown.
CONTRIBUTIONS: tuple[str, ...] = (
    "shared_identifiers",
    "density",
    "rarity",
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
    settings: DetectionSettings | None = None,
    engine: Engine = "igraph",
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
        ``exclusivity``, ``burst_members``, ``seeds``, ``seed_neighbours``, ``direct_links``,
        ``direct_members``, ``direct_amount``, ``cycle_members``, ``lockstep_members``.
    """
    settings = settings or DetectionSettings()
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
    flows = internal & (direct["kind"].to_numpy() == LinkKind.TRANSACTS_WITH)
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


def score_rings(
    signals: pd.DataFrame, *, settings: DetectionSettings | None = None
) -> pd.DataFrame:
    """Turn ring signals into weighted contributions and a total ``score``.

    Parameters
    ----------
    signals
        As :func:`ring_signals` returns.
    settings
        ``score_weights`` gives each contribution's maximum.

    Returns
    -------
    pandas.DataFrame
        One column per name in :data:`CONTRIBUTIONS` and ``score`` (their sum), per ring.

    Examples
    --------
    >>> signals = pd.DataFrame({"size": [4], "strength": [0.0], "density": [1.0],
    ...     "exclusivity": [1.0], "burst_members": [4], "seeds": [0], "seed_neighbours": [0],
    ...     "direct_links": [0], "cycle_members": [0], "lockstep_members": [1]})
    >>> score_rings(signals).round(2).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'shared_identifiers': 0.0, 'density': 0.1, 'rarity': 0.25, 'burstiness': 0.78,
     'known_bad': 0.0, 'money_flow': 0.0, 'lockstep': 0.0, 'score': 1.13}
    """
    settings = settings or DetectionSettings()
    size = signals["size"].to_numpy("float64")
    spread = np.maximum(size - 1, 1)
    values = {
        "shared_identifiers": 1 - np.exp(-signals["strength"].to_numpy("float64")),
        "density": signals["density"].to_numpy("float64"),
        "rarity": signals["exclusivity"].to_numpy("float64"),
        "burstiness": _together(signals["burst_members"].to_numpy(), size),
        "known_bad": 1
        - 0.5 ** (signals["seeds"].to_numpy() + 0.5 * signals["seed_neighbours"].to_numpy()),
        # Money sent round a cycle, or more direct links than a family's single referral.
        "money_flow": np.maximum(
            signals["cycle_members"].to_numpy() / np.maximum(size, 1),
            np.clip((signals["direct_links"].to_numpy() - 1) / spread, 0, 1),
        ),
        "lockstep": _together(signals["lockstep_members"].to_numpy(), size),
    }
    out = pd.DataFrame(
        {name: settings.score_weights.get(name, 0.0) * values[name] for name in CONTRIBUTIONS},
        index=signals.index,
    )
    out["score"] = out[list(CONTRIBUTIONS)].sum(axis=1)
    return out


def _together(count: np.ndarray, size: np.ndarray) -> np.ndarray:
    """How much of a ring acts together, from the most members inside one time window.

    The share of the other members who fall in the window, times a confidence that grows with
    how many they are: two accounts created in the same month happens by chance every day (a
    friend referred the day after signing up), thirty does not.
    """
    others = np.maximum(count - 1, 0).astype("float64")
    share = others / np.maximum(size - 1, 1)
    return np.clip(share * (1.0 - np.exp(-others / 2.0)), 0.0, 1.0)


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
