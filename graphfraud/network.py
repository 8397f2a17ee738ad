"""Graphs for people and for libraries: a ring's network, and the entity graph as networkx or
igraph.

:func:`ring_network` is a ring as a graph: its members, the identifiers tying them, and the
links between them. The API's JSON graph and interactive view and the notebooks all draw from
it. The store
gives every link touching a member (one call for the whole ring); identifiers that two or more
members use are the ring's ties, direct links between members are kept, and with
``surroundings`` everything else one link from a member is added. Each node gets its part in
the ring (organiser, member, shared identifier, hub, outside) and a centrality to size it by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd

from graphfraud.model import EntityKind, EntityRef, Ring, SharedThing, Subgraph
from graphfraud.store.base import GraphStore

#: Nodes fetched around a ring at most, whatever is drawn: guards against rings touching
#: identifiers with huge fan-out.
FETCH_LIMIT = 20_000

SHARED = "shared"
HUB = "hub"
OUTSIDE = "outside"


@dataclass(frozen=True)
class RingNetwork:
    """The graph of one ring, ready to serialise or draw.

    Attributes
    ----------
    ring
        The ring drawn.
    nodes
        ``ENTITY_COLUMNS`` plus ``id`` ("Kind:key"), ``role``, ``in_ring``, ``centrality``,
        ``members`` (ring members linked to the node) and ``accounts`` (accounts in the whole
        graph using an identifier, where the evidence knows it); most important first.
    edges
        ``LINK_COLUMNS`` of the links between the nodes kept.
    total_nodes
        Nodes before the cap.
    """

    ring: Ring
    nodes: pd.DataFrame
    edges: pd.DataFrame
    total_nodes: int

    @property
    def truncated(self) -> bool:
        """Whether nodes were left out to respect the cap."""
        return len(self.nodes) < self.total_nodes


def ring_network(
    store: GraphStore, ring: Ring, *, surroundings: bool = False, max_nodes: int = 400
) -> RingNetwork:
    """Build the graph of ``ring`` from the links in ``store``.

    Parameters
    ----------
    store
        The store holding the ring's links.
    ring
        The ring to draw.
    surroundings
        Also show every entity one link from a member (identifiers only one member uses,
        accounts outside the ring linked to a member).
    max_nodes
        Cap on the nodes returned: members by PageRank first, then identifiers by how many
        members use them, then the surroundings.

    Returns
    -------
    RingNetwork
        Nodes, edges and how many nodes there were before the cap.
    """
    members = {("Account", m.account): m for m in ring.members}
    sub = store.surroundings([EntityRef(kind, key) for kind, key in members], limit=FETCH_LIMIT)
    edges = sub.edges.reset_index(drop=True)
    src = list(zip(edges["src_kind"], edges["src_key"], strict=True))
    dst = list(zip(edges["dst_kind"], edges["dst_key"], strict=True))
    # The members each node is linked to (for a member: the members it links to directly).
    users: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for s, d in zip(src, dst, strict=True):
        if s in members:
            users.setdefault(d, set()).add(s)
        if d in members:
            users.setdefault(s, set()).add(d)

    nodes = sub.nodes.copy()
    ids = list(zip(nodes["kind"], nodes["key"], strict=True))
    nodes["id"] = [f"{kind}:{key}" for kind, key in ids]
    nodes["in_ring"] = [ref in members for ref in ids]
    nodes["members"] = [len(users.get(ref, ())) for ref in ids]
    hubs = _listed(ring.evidence.hubs)
    known = {**_listed(ring.evidence.shared_identifiers), **hubs}
    nodes["accounts"] = pd.array([known.get(ref) for ref in ids], dtype="Int64")
    nodes["role"] = [
        _role(ref, members, hubs, n) for ref, n in zip(ids, nodes["members"], strict=True)
    ]
    size = max(len(members), 1)
    nodes["centrality"] = [
        members[ref].pagerank if ref in members else n / size
        for ref, n in zip(ids, nodes["members"], strict=True)
    ]
    if not surroundings:
        nodes = nodes[nodes["role"] != OUTSIDE]
    nodes = _most_important_first(nodes)
    total = len(nodes)
    nodes = nodes.head(max_nodes).reset_index(drop=True)
    kept = set(nodes["id"])
    inside = [
        f"{s[0]}:{s[1]}" in kept and f"{d[0]}:{d[1]}" in kept for s, d in zip(src, dst, strict=True)
    ]
    return RingNetwork(
        ring, nodes, edges[np.array(inside, dtype=bool)].reset_index(drop=True), total
    )


def _role(
    ref: tuple[str, str],
    members: dict[tuple[str, str], Any],
    hubs: dict[tuple[str, str], int | None],
    users: int,
) -> str:
    if ref in members:
        return str(members[ref].role)
    if users < 2 or ref[0] == EntityKind.ACCOUNT:
        return OUTSIDE
    return HUB if ref in hubs else SHARED


def _listed(records: list[SharedThing]) -> dict[tuple[str, str], int | None]:
    """Identifiers listed in the evidence → accounts in the whole graph using each."""
    return {(record.kind, record.key): record.accounts for record in records}


def _most_important_first(nodes: pd.DataFrame) -> pd.DataFrame:
    tier = np.select(
        [nodes["in_ring"].to_numpy(dtype=bool), (nodes["role"] != OUTSIDE).to_numpy()], [0, 1], 2
    )
    return (
        nodes.assign(_tier=tier)
        .sort_values(
            ["_tier", "centrality", "members", "kind", "key"],
            ascending=[True, False, False, True, True],
            kind="stable",
        )
        .drop(columns="_tier")
    )


#: What :func:`to_networkx` and :func:`to_igraph` take: a whole store, a piece of it, a ring.
GraphSource = GraphStore | Subgraph | RingNetwork


def to_networkx(source: GraphSource) -> Any:
    """The entity graph of a store, a subgraph or a ring as a ``networkx.MultiDiGraph``.

    Nodes are ``"Kind:key"`` with the entity's columns as attributes (and, for a ring, its
    ``role`` and ``centrality``); one edge per link, keyed by its link kind, with its columns.

    Examples
    --------
    >>> nodes = pd.DataFrame({"kind": ["Account", "Device"], "key": ["A1", "d1"],
    ...                       "display": None, "created_at": None, "label": None,
    ...                       "attributes": None})
    >>> edges = pd.DataFrame({"src_kind": ["Account"], "src_key": ["A1"], "kind": ["USES_DEVICE"],
    ...                       "dst_kind": ["Device"], "dst_key": ["d1"], "first_seen": None,
    ...                       "last_seen": None, "count": [3], "amount": None})
    >>> graph = to_networkx(Subgraph(nodes, edges))
    >>> list(graph.edges(keys=True, data="count"))
    [('Account:A1', 'Device:d1', 'USES_DEVICE', 3)]
    """
    nodes, edges = _frames(source)
    graph = nx.MultiDiGraph()
    ids = _ids(nodes["kind"], nodes["key"])
    graph.add_nodes_from(zip(ids, nodes.to_dict("records"), strict=True))
    src, dst = _ids(edges["src_kind"], edges["src_key"]), _ids(edges["dst_kind"], edges["dst_key"])
    records = edges.to_dict("records")
    graph.add_edges_from(
        (s, d, record["kind"], record) for s, d, record in zip(src, dst, records, strict=True)
    )
    return graph


def to_igraph(source: GraphSource) -> ig.Graph:
    """The same graph as :func:`to_networkx`, as a directed ``igraph.Graph`` (vertex ``name``
    is ``"Kind:key"``; entity and link columns are vertex and edge attributes)."""
    nodes, edges = _frames(source)
    vertices = nodes.assign(name=_ids(nodes["kind"], nodes["key"]))
    vertices = vertices[["name", *[c for c in vertices.columns if c != "name"]]]
    links = edges.assign(
        source=_ids(edges["src_kind"], edges["src_key"]),
        target=_ids(edges["dst_kind"], edges["dst_key"]),
    )
    links = links[["source", "target", *[c for c in edges.columns]]]
    return ig.Graph.DataFrame(links, directed=True, vertices=vertices, use_vids=False)


def _frames(source: GraphSource) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and edges of a source; a store's nodes are every entity at an end of a link."""
    if isinstance(source, GraphStore):
        edges = source.links()
        entities = source.entities()
        ends = pd.concat(
            [
                edges[["src_kind", "src_key"]].set_axis(["kind", "key"], axis=1),
                edges[["dst_kind", "dst_key"]].set_axis(["kind", "key"], axis=1),
            ]
        ).drop_duplicates()
        nodes = entities.merge(ends, on=["kind", "key"], how="outer")
        return nodes.reset_index(drop=True), edges.reset_index(drop=True)
    return source.nodes.reset_index(drop=True), source.edges.reset_index(drop=True)


def _ids(kinds: pd.Series, keys: pd.Series) -> list[str]:
    return [f"{kind}:{key}" for kind, key in zip(kinds.astype(str), keys.astype(str), strict=True)]
