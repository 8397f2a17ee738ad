"""Candidates and communities: components, pendant peeling, Leiden vs Louvain, merges."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from algorithms.communities import (
    attach_dominated,
    capped_merge,
    merge_dominating,
    merge_entangled,
    split_communities,
)
from algorithms.components import connected_components, peel_pendants, strong_edges
from algorithms.engines import Engine
from graphfraud.errors import ConfigError


def _cliques(
    *sizes: int, bridges: list[tuple[int, int]] = (), bridge_weight: float = 0.2
) -> pd.DataFrame:
    """Disjoint cliques (nodes numbered consecutively) plus bridge edges."""
    rows, start = [], 0
    for size in sizes:
        rows += [(start + i, start + j, 1.0) for i, j in itertools.combinations(range(size), 2)]
        start += size
    rows += [(a, b, bridge_weight) for a, b in bridges]
    return pd.DataFrame(rows, columns=["a", "b", "weight"])


def _split(
    edges: pd.DataFrame,
    components: np.ndarray,
    *,
    split_above: int = 4,
    seed: int = 0,
    engine: Engine = "igraph",
) -> np.ndarray:
    """Split the components larger than ``split_above`` at modularity resolution 1."""
    which = np.bincount(components) > split_above
    return split_communities(
        edges, components, which=which, resolution=1.0, seed=seed, engine=engine
    )


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == label).tolist()) for label in np.unique(labels)}


def test_strong_edges_keep_only_edges_at_the_minimum_weight() -> None:
    edges = pd.DataFrame({"a": [0, 1], "b": [1, 2], "weight": [0.3, 0.29]})
    assert strong_edges(edges, min_weight=0.3)[["a", "b"]].values.tolist() == [[0, 1]]


def test_components_label_every_node() -> None:
    labels = connected_components(7, _cliques(3, 2))
    assert _partition(labels) == {frozenset({0, 1, 2}), frozenset({3, 4}), frozenset({5}),
                                  frozenset({6})}  # fmt: skip


def test_networkx_components_agree_with_igraph() -> None:
    edges = _cliques(4, 3, 5, bridges=[(0, 4)])
    assert _partition(connected_components(14, edges)) == _partition(
        connected_components(14, edges, engine="networkx")
    )


def test_an_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown graph engine"):
        connected_components(3, _cliques(3), engine="graphx")  # type: ignore[arg-type]


def test_a_pendant_hanging_on_a_well_tied_account_is_peeled() -> None:
    edges = _cliques(4)
    edges.loc[len(edges)] = (3, 4, 1.0)
    kept = peel_pendants(5, edges)
    assert 4 not in set(kept["a"]) | set(kept["b"])


def test_a_pair_and_a_chain_of_three_stay_whole() -> None:
    edges = pd.DataFrame({"a": [0, 2, 3], "b": [1, 3, 4], "weight": 1.0})
    assert len(peel_pendants(5, edges)) == 3


def test_leiden_splits_two_cliques_joined_by_a_weak_bridge() -> None:
    edges = _cliques(6, 6, bridges=[(0, 6)])
    labels = _split(edges, np.zeros(12, dtype=np.int64))
    assert _partition(labels) == {frozenset(range(6)), frozenset(range(6, 12))}


def test_leiden_agrees_with_networkx_louvain_on_clear_communities() -> None:
    edges = _cliques(5, 7, 6, bridges=[(0, 5), (6, 12)])
    components = np.zeros(18, dtype=np.int64)
    leiden = _split(edges, components, seed=3)
    louvain = _split(edges, components, seed=3, engine="networkx")
    assert _partition(leiden) == _partition(louvain)


def test_the_same_seed_gives_the_same_communities() -> None:
    rng = np.random.default_rng(0)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 60, size=(200, 2)) if p[0] != p[1]}
    edges = pd.DataFrame(sorted(pairs), columns=["a", "b"]).assign(weight=1.0)
    components = connected_components(60, edges)
    first = _split(edges, components, seed=7)
    again = _split(edges, components, seed=7)
    assert np.array_equal(first, again)


def test_small_components_are_not_split() -> None:
    edges = _cliques(3, 3, bridges=[(0, 3)])
    labels = _split(edges, np.zeros(6, dtype=np.int64), split_above=10)
    assert len(np.unique(labels)) == 1


def test_pieces_mostly_tied_to_each_other_merge_back() -> None:
    bridges = [(a, b) for a in range(4) for b in range(4, 8)]
    edges = _cliques(4, 4, bridges=bridges, bridge_weight=0.5)
    labels = merge_entangled(edges, np.repeat([0, 1], 4), share=0.3, max_size=300, engine="igraph")
    assert len(np.unique(labels)) == 1


def test_a_merge_never_rebuilds_a_group_past_the_largest_ring_size() -> None:
    bridges = [(a, b) for a in range(4) for b in range(4, 8)]
    edges = _cliques(4, 4, bridges=bridges, bridge_weight=0.5)
    labels = merge_entangled(edges, np.repeat([0, 1], 4), share=0.3, max_size=6, engine="igraph")
    assert _partition(labels) == {frozenset(range(4)), frozenset(range(4, 8))}


def test_a_capped_merge_keeps_merged_groups_within_the_cap() -> None:
    merged = capped_merge(np.array([0, 0, 1, 1, 2, 3]), np.array([0, 0, 0, 0, 1, 1]), max_size=3)
    assert _partition(merged) == {frozenset({0, 1}), frozenset({2, 3}), frozenset({4, 5})}


def test_a_group_hanging_on_another_by_one_tie_stays_apart() -> None:
    edges = _cliques(6, 4, bridges=[(0, 6)])
    labels = merge_entangled(
        edges, np.repeat([0, 1], [6, 4]), share=0.3, max_size=300, engine="igraph"
    )
    assert len(np.unique(labels)) == 2


def test_groups_holding_most_users_of_a_shared_identifier_merge() -> None:
    usage = pd.DataFrame({"node": range(6), "identifier": 0})
    identifiers = pd.DataFrame({"accounts": [6], "hub": [True]})
    labels = merge_dominating(
        np.array([0, 0, 0, 1, 1, 2]),
        usage,
        identifiers,
        share=0.66,
        max_size=300,
        engine="networkx",
    )
    assert _partition(labels) == {frozenset(range(5)), frozenset({5})}


def test_groups_holding_a_small_part_of_a_popular_identifier_stay_apart() -> None:
    usage = pd.DataFrame({"node": range(30), "identifier": 0})
    identifiers = pd.DataFrame({"accounts": [30], "hub": [True]})
    labels = np.r_[[0, 0, 1, 1], np.arange(2, 28)]
    merged = merge_dominating(labels, usage, identifiers, share=0.66, max_size=300, engine="igraph")
    assert len(np.unique(merged)) == 28


def test_the_owner_of_a_storefront_its_group_buys_through_joins_the_group() -> None:
    usage = pd.DataFrame({"node": [0, 1, 2, 3], "identifier": [0, 0, 0, 0]})
    identifiers = pd.DataFrame({"accounts": [4], "hub": [False]})
    labels = attach_dominated(np.array([0, 0, 0, 1]), usage, identifiers, share=0.66)
    assert labels.tolist() == [0, 0, 0, 0]


def test_a_lone_user_of_a_widely_shared_identifier_joins_no_group() -> None:
    usage = pd.DataFrame({"node": range(10), "identifier": 0})
    identifiers = pd.DataFrame({"accounts": [10], "hub": [False]})
    labels = np.r_[[0, 0], np.arange(1, 9)]
    assert attach_dominated(labels, usage, identifiers, share=0.66).tolist() == labels.tolist()
