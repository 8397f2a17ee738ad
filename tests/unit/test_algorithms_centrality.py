"""Centrality inside rings: PageRank, degree, betweenness; igraph checked against networkx."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from algorithms.centrality import ring_centrality


def _star_and_clique() -> tuple[pd.DataFrame, np.ndarray]:
    """Ring 0: a star centred on node 0 (nodes 0-4); ring 1: a 4-clique (nodes 5-8);
    node 9 belongs to no ring but is tied to the star's centre."""
    star = [(0, leaf, 1.0) for leaf in range(1, 5)]
    clique = [(5 + i, 5 + j, 1.0) for i, j in itertools.combinations(range(4), 2)]
    edges = pd.DataFrame([*star, *clique, (0, 9, 1.0)], columns=["a", "b", "weight"])
    rings = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, -1])
    return edges, rings


def test_pagerank_sums_to_one_within_each_ring() -> None:
    edges, rings = _star_and_clique()
    sums = ring_centrality(edges, rings).groupby("ring")["pagerank"].sum()
    assert sums.round(9).tolist() == [1.0, 1.0]


def test_the_centre_of_a_star_ranks_first() -> None:
    edges, rings = _star_and_clique()
    star = ring_centrality(edges, rings).query("ring == 0")
    assert star.sort_values("pagerank").iloc[-1]["node"] == 0


def test_degree_counts_ties_inside_the_ring_only() -> None:
    edges, rings = _star_and_clique()
    frame = ring_centrality(edges, rings).set_index("node")
    assert frame.loc[0, "degree"] == 4
    assert 9 not in frame.index


def test_betweenness_is_one_for_a_star_centre_and_zero_in_a_clique() -> None:
    edges, rings = _star_and_clique()
    frame = ring_centrality(edges, rings).set_index("node")
    assert frame.loc[0, "betweenness"] == pytest.approx(1.0)
    assert frame.loc[5:8, "betweenness"].eq(0).all()


def test_networkx_centrality_agrees_with_igraph() -> None:
    rng = np.random.default_rng(1)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 30, size=(80, 2)) if p[0] != p[1]}
    edges = pd.DataFrame(sorted(pairs), columns=["a", "b"]).assign(weight=rng.random(len(pairs)))
    rings = np.where(np.arange(30) < 15, 0, 1)
    fast = ring_centrality(edges, rings)
    reference = ring_centrality(edges, rings, engine="networkx")
    for column in ("pagerank", "degree", "strength", "betweenness"):
        assert np.allclose(fast[column], reference[column], atol=1e-4), column


def test_sampled_betweenness_of_a_big_ring_matches_the_exact_one_when_every_source_is_used() -> (
    None
):
    edges, rings = _star_and_clique()
    exact = ring_centrality(edges, rings)
    sampled = ring_centrality(edges, rings, exact_max=2, samples=10)
    assert np.allclose(exact["betweenness"], sampled["betweenness"])


def test_sampled_betweenness_agrees_across_engines() -> None:
    edges, rings = _star_and_clique()
    fast = ring_centrality(edges, rings, exact_max=2, samples=3, seed=5)
    reference = ring_centrality(edges, rings, exact_max=2, samples=3, seed=5, engine="networkx")
    assert np.allclose(fast["betweenness"], reference["betweenness"])
