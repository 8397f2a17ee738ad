"""Centrality of accounts inside their ring: PageRank, degree and (sampled) betweenness.

The organisers of a ring tend to sit at its centre: they share the most identifiers, refer the
others, receive the money. PageRank and degree are computed for all rings in one call on the
union of their internal edges (rings are disjoint, so each ring's share of PageRank is its own
PageRank); betweenness is exact on small rings and estimated from sampled sources on big ones.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from algorithms.engines import Engine, check_engine, igraph_graph, networkx_graph

#: Columns of the frame :func:`ring_centrality` returns.
CENTRALITY_COLUMNS: tuple[str, ...] = (
    "node",
    "ring",
    "pagerank",
    "degree",
    "strength",
    "betweenness",
)


def ring_centrality(
    edges: pd.DataFrame,
    rings: np.ndarray,
    *,
    exact_max: int = 300,
    samples: int = 64,
    seed: int = 0,
    engine: Engine = "igraph",
) -> pd.DataFrame:
    """Centrality of every ring member, computed on the edges inside its ring.

    Parameters
    ----------
    edges
        Projected edges (node-id columns ``a``, ``b``, ``weight``).
    rings
        Ring label per node, ``-1`` for nodes in no ring.
    exact_max
        Rings up to this size get exact betweenness.
    samples
        Source nodes sampled for the betweenness of bigger rings.
    seed
        Seed of the betweenness sample.
    engine
        ``"igraph"`` (default) or ``"networkx"``.

    Returns
    -------
    pandas.DataFrame
        :data:`CENTRALITY_COLUMNS`, one row per ring member sorted by ring and node:
        ``pagerank`` sums to 1 within each ring, ``degree`` counts fellow members joined,
        ``strength`` sums their edge weights, ``betweenness`` is normalised to ``[0, 1]``.

    Examples
    --------
    >>> star = pd.DataFrame({"a": [0, 0, 0], "b": [1, 2, 3], "weight": 1.0})
    >>> ring_centrality(star, np.zeros(4, dtype=int))[["node", "degree", "betweenness"]].values
    array([[0., 3., 1.],
           [1., 1., 0.],
           [2., 1., 0.],
           [3., 1., 0.]])
    """
    engine = check_engine(engine)
    members = np.flatnonzero(rings >= 0)
    members = members[np.argsort(rings[members], kind="stable")]
    ring = rings[members]
    local = np.full(len(rings), -1, dtype=np.int64)
    local[members] = np.arange(len(members))

    a = edges["a"].to_numpy(np.int64)
    b = edges["b"].to_numpy(np.int64)
    inside = (rings[a] >= 0) & (rings[a] == rings[b])
    a, b = local[a[inside]], local[b[inside]]
    weight = edges["weight"].to_numpy("float64")[inside]

    n = len(members)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    strength = np.bincount(a, weight, minlength=n) + np.bincount(b, weight, minlength=n)
    if engine == "igraph":
        raw = np.asarray(igraph_graph(n, a, b, weight).pagerank(weights="weight"))
    else:
        ranks = nx.pagerank(networkx_graph(n, a, b, weight), weight="weight")
        raw = np.array([ranks[i] for i in range(n)])
    ring_code, _ = pd.factorize(ring)
    pagerank = raw / np.bincount(ring_code, raw)[ring_code] if n else raw

    betweenness = _betweenness(n, a, b, ring_code, exact_max, samples, seed, engine)
    return pd.DataFrame(
        {
            "node": members,
            "ring": ring,
            "pagerank": pagerank,
            "degree": degree.astype(np.int64),
            "strength": strength,
            "betweenness": betweenness,
        }
    )


def _betweenness(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    ring_code: np.ndarray,
    exact_max: int,
    samples: int,
    seed: int,
    engine: Engine,
) -> np.ndarray:
    """Hop-count betweenness per ring, normalised by the ring's number of node pairs."""
    sizes = np.bincount(ring_code, minlength=int(ring_code.max(initial=-1)) + 1)
    size = sizes[ring_code] if n else np.zeros(0, dtype=np.int64)
    out = np.zeros(n)
    rng = np.random.default_rng(seed)
    small = size[a] <= exact_max if n else np.zeros(0, dtype=bool)
    # Small rings all at once: shortest paths never leave a ring, so one call suffices.
    if engine == "igraph":
        graph = igraph_graph(n, a[small], b[small], np.ones(int(small.sum())))
        exact = np.asarray(graph.betweenness(directed=False))
    else:
        graph = networkx_graph(n, a[small], b[small], np.ones(int(small.sum())))
        scores = nx.betweenness_centrality(graph, normalized=False)
        exact = np.array([scores[i] for i in range(n)])
    out[size <= exact_max] = exact[size <= exact_max]

    for code in np.flatnonzero(sizes > exact_max):
        nodes = np.flatnonzero(ring_code == code)
        keep = ring_code[a] == code
        local_a, local_b = a[keep] - nodes[0], b[keep] - nodes[0]
        sources = np.sort(rng.choice(len(nodes), size=min(samples, len(nodes)), replace=False))
        scale = len(nodes) / len(sources)
        if engine == "igraph":
            ring_graph = igraph_graph(len(nodes), local_a, local_b, np.ones(int(keep.sum())))
            raw = ring_graph.betweenness(directed=False, sources=sources.tolist())
            out[nodes] = np.asarray(raw) * scale
        else:
            ring_graph = networkx_graph(len(nodes), local_a, local_b, np.ones(int(keep.sum())))
            scores = nx.betweenness_centrality_subset(
                ring_graph, sources=sources.tolist(), targets=list(range(len(nodes)))
            )
            out[nodes] = np.array([scores[i] for i in range(len(nodes))]) * scale
    pairs = (size - 1) * (size - 2) / 2
    return np.divide(out, pairs, out=np.zeros(n), where=pairs > 0)
