"""Split large candidates into communities: Leiden (leidenalg) by default, Louvain as reference.

A candidate component can hold a ring plus the households and acquaintances weakly tied to it,
or two rings joined by one shared thing. Communities of the weighted projection inside each
large component separate them; small components are already tight and stay whole.
"""

from __future__ import annotations

import leidenalg
import networkx as nx
import numpy as np
import pandas as pd

from algorithms.components import connected_components
from algorithms.engines import Engine, check_engine, dense_labels, igraph_graph, networkx_graph


def split_communities(
    edges: pd.DataFrame,
    components: np.ndarray,
    *,
    which: np.ndarray,
    resolution: float,
    seed: int,
    engine: Engine,
) -> np.ndarray:
    """Split the chosen components into weighted communities.

    Parameters
    ----------
    edges
        Weighted edges (node-id columns ``a``, ``b``, ``weight``); those joining two nodes of
        one component are used, weak ones included: a ring tied together by many weak ties
        (a proxy IP all members share) is not cut along its strong sub-cliques.
    components
        Group label per node (``-1``: in no group), as
        :func:`algorithms.components.connected_components` gives.
    which
        Per group label, whether to split it; the others are kept whole.
    resolution
        Modularity resolution; above 1 favours smaller communities.
    seed
        Seed of the community search; the same seed gives the same communities.
    engine
        ``"igraph"``: Leiden (leidenalg, RB configuration model); ``"networkx"``: Louvain.

    Returns
    -------
    numpy.ndarray
        Community label per node (``0..k-1``, ``-1`` stays); every community lies inside one
        component.

    Notes
    -----
    Leiden guarantees connected communities, which Louvain does not; the two agree on graphs
    with clear community structure, which the tests check.

    References
    ----------
    V. A. Traag, L. Waltman, N. J. van Eck, "From Louvain to Leiden: guaranteeing
    well-connected communities", Scientific Reports 9, 5233 (2019).

    Examples
    --------
    >>> clique = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    >>> pairs = clique + [(i + 4, j + 4) for i, j in clique] + [(3, 4)]
    >>> edges = pd.DataFrame(pairs, columns=["a", "b"]).assign(weight=1.0)
    >>> split_communities(edges, np.zeros(8, dtype=int), which=np.array([True]),
    ...                   resolution=1.0, seed=0, engine="igraph").tolist()
    [0, 0, 0, 0, 1, 1, 1, 1]
    """
    engine = check_engine(engine)
    grouped = components >= 0
    sizes = np.bincount(components[grouped], minlength=len(which))
    a = edges["a"].to_numpy(np.int64)
    b = edges["b"].to_numpy(np.int64)
    weight = edges["weight"].to_numpy("float64")
    edge_component = components[a]
    inside = (edge_component == components[b]) & (edge_component >= 0)
    # A component whose members are all tied to each other has nothing to split.
    pairs = np.bincount(edge_component[inside], minlength=len(sizes))
    big = np.flatnonzero(which & (pairs < sizes * (sizes - 1) // 2))
    labels = components.astype(np.int64).copy()
    if len(big) == 0:
        return dense_labels(labels)
    in_big = np.isin(edge_component, big) & inside
    order = np.argsort(edge_component[in_big], kind="stable")
    a, b, weight, edge_component = (x[in_big][order] for x in (a, b, weight, edge_component))
    bounds = np.asarray(np.searchsorted(edge_component, np.r_[big, big[-1] + 1]))
    by_component = np.flatnonzero(grouped)[np.argsort(components[grouped], kind="stable")]
    node_start: np.ndarray = np.concatenate([[0], np.cumsum(sizes)])

    next_label = len(sizes)
    for i, component in enumerate(big.tolist()):
        nodes = by_component[node_start[component] : node_start[component + 1]]
        span = slice(int(bounds[i]), int(bounds[i + 1]))
        local_a = np.searchsorted(nodes, a[span])
        local_b = np.searchsorted(nodes, b[span])
        if engine == "igraph":
            membership = _leiden(len(nodes), local_a, local_b, weight[span], resolution, seed)
        else:
            membership = _louvain(len(nodes), local_a, local_b, weight[span], resolution, seed)
        labels[nodes] = next_label + membership
        next_label += int(membership.max(initial=-1)) + 1
    return dense_labels(labels)


def _leiden(
    n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray, resolution: float, seed: int
) -> np.ndarray:
    partition = leidenalg.find_partition(
        igraph_graph(n, a, b, weight),
        leidenalg.RBConfigurationVertexPartition,
        weights="weight",
        resolution_parameter=resolution,
        seed=seed,
    )
    return np.asarray(partition.membership, dtype=np.int64)


def _louvain(
    n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray, resolution: float, seed: int
) -> np.ndarray:
    communities = nx.community.louvain_communities(
        networkx_graph(n, a, b, weight), weight="weight", resolution=resolution, seed=seed
    )
    membership = np.empty(n, dtype=np.int64)
    for label, nodes in enumerate(communities):
        membership[list(nodes)] = label
    return membership


def attach_dominated(
    labels: np.ndarray,
    usage: pd.DataFrame,
    identifiers: pd.DataFrame,
    *,
    share: float,
) -> np.ndarray:
    """Add lone accounts to the group that dominates an identifier they use.

    A creator whose buyers are nearly all members of one group belongs to that group's story,
    and so does the creator's owner, although the owner shares nothing else with the buyers
    (weak ties never make it into a candidate). Any account in no group of two or more that
    uses an identifier of which at least ``share`` of the users (and two or more) are members
    of one group joins that group. Hubs count too: a storefront with a thousand buyers, nearly
    all of them one group, is that group's storefront.

    Parameters
    ----------
    labels
        Group label per node (every node has one; groups of one are "lone").
    usage, identifiers
        ``Projection.usage`` and ``Projection.identifiers``.
    share
        Share of an identifier's users a group must hold to pull the rest in.

    Returns
    -------
    numpy.ndarray
        Labels with lone accounts relabelled to the group they joined.

    Examples
    --------
    >>> usage = pd.DataFrame({"node": [0, 1, 2, 3, 0, 1], "identifier": [0, 0, 0, 0, 1, 1]})
    >>> identifiers = pd.DataFrame({"accounts": [4, 2], "hub": [False, False]})
    >>> attach_dominated(np.array([0, 0, 0, 1]), usage, identifiers, share=0.7).tolist()
    [0, 0, 0, 0]
    """
    sizes = np.bincount(labels)
    node = usage["node"].to_numpy()
    ident = usage["identifier"].to_numpy()
    group = labels[node]
    in_group = sizes[group] >= 2
    members = pd.DataFrame({"identifier": ident[in_group], "group": group[in_group]})
    held = members.groupby(["identifier", "group"]).size().reset_index(name="held")
    held["users"] = identifiers["accounts"].to_numpy()[held["identifier"]]
    dominant = held[
        (held["held"] >= 2)
        & (held["held"] < held["users"])
        & (held["held"] >= share * held["users"])
    ]
    lone_use = ~in_group & np.isin(ident, dominant["identifier"].to_numpy())
    lone = pd.DataFrame({"node": node[lone_use], "identifier": ident[lone_use]})
    joins = lone.merge(dominant, on="identifier").sort_values("held", ascending=False)
    joins = joins.drop_duplicates("node")
    out = labels.copy()
    out[joins["node"].to_numpy()] = joins["group"].to_numpy()
    return out


def merge_entangled(
    edges: pd.DataFrame, labels: np.ndarray, *, share: float, max_size: int, engine: Engine
) -> np.ndarray:
    """Merge back communities that are mostly tied to each other.

    A ring built of sub-cliques (one per shared device) can fall apart into pieces: strong
    components held together only by weak ties (a proxy IP every member uses), or pieces
    modularity cut along its sub-cliques. A piece whose ties to another piece, weak ones
    included, carry at least ``share`` of its total tie weight is part of it, not a ring of its
    own; a household hanging on a ring by one shipping address is not.

    Parameters
    ----------
    edges
        Weighted edges (node-id columns ``a``, ``b``, ``weight``).
    labels
        Community label per node; only communities of two or more nodes merge.
    share
        Share of the smaller community's tie weight that must go to the other.
    max_size
        A merge that would make a group larger than this is not made: merging may not
        rebuild the giant that splitting took apart.
    engine
        Graph engine that joins the entangled pairs into groups.

    Returns
    -------
    numpy.ndarray
        Labels (``0..k-1``) with entangled communities merged.

    Examples
    --------
    >>> edges = pd.DataFrame({"a": [0, 1, 0, 3], "b": [1, 2, 2, 4], "weight": 1.0})
    >>> merge_entangled(edges, np.array([0, 0, 1, 1, 1]), share=0.3, max_size=300,
    ...                 engine="igraph").tolist()
    [0, 0, 0, 0, 0]
    """
    a = edges["a"].to_numpy(np.int64)
    b = edges["b"].to_numpy(np.int64)
    weight = edges["weight"].to_numpy("float64")
    n_labels = int(labels.max(initial=-1)) + 1
    volume = np.bincount(labels[a], weight, minlength=n_labels) + np.bincount(
        labels[b], weight, minlength=n_labels
    )
    la, lb = labels[a], labels[b]
    groups = np.bincount(labels, minlength=n_labels) >= 2
    across = (la != lb) & groups[la] & groups[lb]
    low, high = np.minimum(la, lb)[across], np.maximum(la, lb)[across]
    pair, inverse = np.unique(low * n_labels + high, return_inverse=True)
    tie = np.bincount(inverse, weight[across], minlength=len(pair))
    first, second = pair // max(n_labels, 1), pair % max(n_labels, 1)
    entangled = tie >= share * np.minimum(volume[first], volume[second])
    pairs = pd.DataFrame({"a": first[entangled], "b": second[entangled], "weight": tie[entangled]})
    merged = connected_components(n_labels, pairs, engine=engine)
    return capped_merge(labels, merged[labels], max_size=max_size)


def capped_merge(before: np.ndarray, after: np.ndarray, *, max_size: int) -> np.ndarray:
    """``after`` (groups merged from ``before``), except merged groups past ``max_size``
    fall back to their parts.

    Examples
    --------
    >>> capped_merge(np.array([0, 0, 1, 1, 2]), np.array([0, 0, 0, 0, 1]), max_size=3).tolist()
    [0, 0, 1, 1, 2]
    """
    sizes = np.bincount(after)
    too_big = sizes[after] > max_size
    # Parts keep their own labels, offset past every merged label so none collide.
    return dense_labels(np.where(too_big, before + len(sizes), after))


def merge_dominating(
    labels: np.ndarray,
    usage: pd.DataFrame,
    identifiers: pd.DataFrame,
    *,
    share: float,
    max_size: int,
    engine: Engine,
) -> np.ndarray:
    """Merge groups that between them hold most users of an identifier they share.

    A device farm's members all log in through a handful of proxy IPs used by no one else;
    when its devices fall into separate groups, the proxies (hubs, if the farm is big) still
    say it is one farm. Groups of two or more accounts that each use an identifier, and
    together hold at least ``share`` of its users, become one group. A café IP's users belong
    to hundreds of households, none of which holds a real part of it. A merge past
    ``max_size`` is not made. ``engine`` joins the chained groups.

    Examples
    --------
    >>> usage = pd.DataFrame({"node": [0, 1, 2, 3, 4], "identifier": [0, 0, 0, 0, 0]})
    >>> identifiers = pd.DataFrame({"accounts": [5], "hub": [True]})
    >>> merge_dominating(np.array([0, 0, 1, 1, 2]), usage, identifiers,
    ...                  share=0.66, max_size=300, engine="igraph").tolist()
    [0, 0, 0, 0, 1]
    """
    sizes = np.bincount(labels)
    group = labels[usage["node"].to_numpy()]
    in_group = sizes[group] >= 2
    uses = pd.DataFrame(
        {"identifier": usage["identifier"].to_numpy()[in_group], "group": group[in_group]}
    )
    held = uses.groupby(["identifier", "group"]).size().reset_index(name="held")
    held = held[held["held"] >= 2]
    per_identifier = held.groupby("identifier")["held"].agg(["sum", "size"])
    users = identifiers["accounts"].to_numpy()[per_identifier.index.to_numpy()]
    joint = per_identifier[
        (per_identifier["size"] >= 2) & (per_identifier["sum"] >= share * users)
    ].index
    chained = held[held["identifier"].isin(joint)].sort_values(["identifier", "group"])
    ident = chained["identifier"].to_numpy()
    groups = chained["group"].to_numpy()
    same = ident[1:] == ident[:-1]
    n_labels = len(sizes)
    chain = pd.DataFrame({"a": groups[:-1][same], "b": groups[1:][same], "weight": 1.0})
    merged = connected_components(n_labels, chain, engine=engine)
    return capped_merge(labels, merged[labels], max_size=max_size)
