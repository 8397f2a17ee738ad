"""Candidate rings: connected components of the account projection above a minimum weight."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from algorithms.engines import Engine, check_engine, dense_labels, igraph_graph, networkx_graph


def strong_edges(edges: pd.DataFrame, *, min_weight: float) -> pd.DataFrame:
    """The projected edges whose weight reaches ``min_weight``."""
    return edges[edges["weight"].to_numpy() >= min_weight].reset_index(drop=True)


def peel_pendants(n_nodes: int, edges: pd.DataFrame) -> pd.DataFrame:
    """Drop, again and again, edges that hang a single-tie account onto a well-tied one.

    An account tied to a ring by one edge (someone who once shipped a gift to a member's
    address) is not part of it; ring members are tied to several others. A pendant is peeled
    only where its anchor has three or more ties, so a pair or a chain of three stays whole.

    Examples
    --------
    >>> edges = pd.DataFrame({"a": [0, 1, 0, 2, 5], "b": [1, 2, 2, 3, 6], "weight": 1.0})
    >>> peel_pendants(7, edges)[["a", "b"]].values.tolist()
    [[0, 1], [1, 2], [0, 2], [5, 6]]
    """
    a = edges["a"].to_numpy(np.int64)
    b = edges["b"].to_numpy(np.int64)
    keep = np.ones(len(a), dtype=bool)
    while True:
        degree = np.bincount(a[keep], minlength=n_nodes) + np.bincount(b[keep], minlength=n_nodes)
        pendant = keep & (
            ((degree[a] == 1) & (degree[b] >= 3)) | ((degree[b] == 1) & (degree[a] >= 3))
        )
        if not pendant.any():
            return edges[keep].reset_index(drop=True)
        keep &= ~pendant


def connected_components(
    n_nodes: int, edges: pd.DataFrame, *, engine: Engine = "igraph"
) -> np.ndarray:
    """Label every node with its connected component.

    Parameters
    ----------
    n_nodes
        Number of nodes; node ids are ``0..n_nodes-1``.
    edges
        Edge frame with node-id columns ``a`` and ``b`` (and ``weight``, unused here).
    engine
        ``"igraph"`` (default) or ``"networkx"`` (the reference).

    Returns
    -------
    numpy.ndarray
        One label per node, ``0..k-1`` in order of each component's first node; an isolated
        node is a component of its own.

    Examples
    --------
    >>> edges = pd.DataFrame({"a": [0, 2], "b": [1, 3], "weight": [1.0, 1.0]})
    >>> connected_components(5, edges).tolist()
    [0, 0, 1, 1, 2]
    """
    a = edges["a"].to_numpy(np.int64)
    b = edges["b"].to_numpy(np.int64)
    weight = edges["weight"].to_numpy("float64")
    if check_engine(engine) == "igraph":
        labels = np.asarray(
            igraph_graph(n_nodes, a, b, weight).connected_components().membership, dtype=np.int64
        )
    else:
        labels = np.empty(n_nodes, dtype=np.int64)
        graph = networkx_graph(n_nodes, a, b, weight)
        for label, nodes in enumerate(nx.connected_components(graph)):
            labels[list(nodes)] = label
    return dense_labels(labels)
