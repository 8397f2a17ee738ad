"""Graph engines the algorithms run on: igraph (the fast default) and networkx (the reference).

Both are built from the same columnar edge list so every stage can run on either and the two
can be compared on small graphs.
"""

from __future__ import annotations

from typing import Any, Literal

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd

from graphfraud.errors import ConfigError

Engine = Literal["igraph", "networkx"]
ENGINES: tuple[str, ...] = ("igraph", "networkx")


def check_engine(engine: str) -> Engine:
    """Return ``engine`` if it is one of :data:`ENGINES`; raise ConfigError otherwise."""
    if engine == "igraph":
        return "igraph"
    if engine == "networkx":
        return "networkx"
    raise ConfigError(f"unknown graph engine {engine!r}; use one of {', '.join(ENGINES)}")


def igraph_graph(n_nodes: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> ig.Graph:
    """An undirected igraph graph on nodes ``0..n_nodes-1`` with a ``weight`` edge attribute."""
    graph = ig.Graph(n=n_nodes, directed=False)
    graph.add_edges(np.column_stack([a, b]).astype(np.int64))
    graph.es["weight"] = np.asarray(weight, dtype="float64")
    return graph


def networkx_graph(n_nodes: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> Any:
    """The same graph as :func:`igraph_graph`, as a ``networkx.Graph``."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n_nodes))
    graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), weight.tolist(), strict=True))
    return graph


def dense_labels(labels: np.ndarray) -> np.ndarray:
    """Relabel group labels to ``0..k-1`` in order of first appearance; ``-1`` stays ``-1``."""
    codes, _ = pd.factorize(np.where(labels >= 0, labels, np.nan) if len(labels) else labels)
    return codes.astype(np.int64)


def strong_components(
    n_nodes: int, src: np.ndarray, dst: np.ndarray, *, engine: Engine = "igraph"
) -> np.ndarray:
    """Strongly connected component label per node of the directed graph ``src → dst``."""
    if check_engine(engine) == "igraph":
        graph = ig.Graph(n=n_nodes, directed=True)
        graph.add_edges(np.column_stack([src, dst]).astype(np.int64))
        return np.asarray(graph.connected_components(mode="strong").membership, dtype=np.int64)
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(n_nodes))
    digraph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    labels = np.empty(n_nodes, dtype=np.int64)
    for label, nodes in enumerate(nx.strongly_connected_components(digraph)):
        labels[list(nodes)] = label
    return labels


def scrambled(nodes: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random 64-bit number per node id (SplitMix64's finaliser, a bijection):
    a reproducible "random" order or fingerprint that no seed or row order changes.

    Examples
    --------
    >>> a, b = scrambled(np.array([1, 2]))
    >>> bool(a != b), scrambled(np.array([1]))[0] == a
    (True, np.True_)
    """
    z = nodes.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
