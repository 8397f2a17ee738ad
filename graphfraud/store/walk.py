"""Graph walks, written once for every engine over one hook: the links touching some entities.

An engine answers one question here, "which links touch these entities?" (:data:`Touching`),
and looks entities up by key (:data:`Lookup`); the walks themselves — a neighbourhood level by
level, a ring's surroundings, a shortest path, the accounts sharing an identifier — are these
functions, so every engine (and the caching store) truncates at the same nodes and finds the
same path. Nodes are ``(kind, key)`` pairs; wherever a walk must choose, it takes them in
``(kind, key)`` order, and links in ``LINK_KEY`` order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol

import pandas as pd

from graphfraud.model import ENTITY_COLUMNS, LINK_COLUMNS, EntityKind, EntityRef, Subgraph


class Touching(Protocol):
    """The engine hook every walk stands on."""

    def __call__(self, refs: list[EntityRef], *, outgoing: bool) -> pd.DataFrame:
        """Every link with an end among ``refs`` (with its source among them when
        ``outgoing``), each once, as a ``LINK_COLUMNS`` frame."""
        ...


#: ``lookup(kind, keys)``: the entities of one kind with those keys, ``ENTITY_COLUMNS``.
Lookup = Callable[[str, list[str]], pd.DataFrame]

LINK_KEY: list[str] = ["src_kind", "src_key", "kind", "dst_kind", "dst_key"]
Node = tuple[str, str]


def neighbourhood(
    touching: Touching, lookup: Lookup, ref: EntityRef, *, hops: int, limit: int
) -> Subgraph:
    """The entities within ``hops`` links of ``ref``, at most ``limit`` of them.

    Level by level: the nodes a level reaches are taken in ``(kind, key)`` order until the
    limit (``truncated`` then says so). The links returned are those among the nodes kept,
    found from their sources alone, so a widely used identifier at the edge is never fanned
    out of.
    """
    seen: dict[Node, None] = {(ref.kind, ref.key): None}
    frontier: list[Node] = [(ref.kind, ref.key)]
    truncated = False
    for _ in range(hops):
        edges = touching(_refs(frontier), outgoing=False)
        reached = sorted(set(_ends(edges)) - seen.keys())
        room = limit - len(seen)
        if len(reached) > room:
            reached, truncated = reached[:room], True
        seen.update(dict.fromkeys(reached))
        frontier = reached
        if truncated or not frontier:
            break
    kept = set(seen)
    edges = touching(_refs(kept), outgoing=True)
    return Subgraph(nodes(lookup, kept), _sorted(edges[_within(edges, kept)]), truncated)


def surroundings(touching: Touching, lookup: Lookup, refs: list[EntityRef], limit: int) -> Subgraph:
    """Every link touching one of ``refs`` with the entities at both ends, at most ``limit``
    nodes: ``refs`` first, then the others in ``(kind, key)`` order."""
    edges = touching(refs, outgoing=False)
    ends = set(_ends(edges)) | {(ref.kind, ref.key) for ref in refs}
    return cap_subgraph(nodes(lookup, ends), _sorted(edges), first=refs, limit=limit)


def path(
    touching: Touching, lookup: Lookup, a: EntityRef, b: EntityRef, *, max_hops: int
) -> Subgraph | None:
    """A shortest chain of links from ``a`` to ``b`` within ``max_hops``, or None.

    Bidirectional breadth-first search: the smaller side expands one level at a time; of
    several shortest paths, the one through the first meeting node in ``(kind, key)`` order,
    each node reached through the first link (in ``LINK_KEY`` order) that reaches it.
    """
    parents: list[dict[Node, tuple[Node, dict[Hashable, Any]] | None]] = [
        {(a.kind, a.key): None},
        {(b.kind, b.key): None},
    ]
    frontiers: list[list[Node]] = [[(a.kind, a.key)], [(b.kind, b.key)]]
    for _ in range(max_hops):
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        edges = _sorted(touching(_refs(frontiers[side]), outgoing=False))
        level: list[Node] = []
        for edge in edges.to_dict("records"):
            src, dst = (edge["src_kind"], edge["src_key"]), (edge["dst_kind"], edge["dst_key"])
            for here, there in ((src, dst), (dst, src)):
                if here in parents[side] and there not in parents[side]:
                    parents[side][there] = (here, edge)
                    level.append(there)
        meeting = sorted(set(level) & parents[1 - side].keys())
        if meeting:
            return _trace(lookup, parents, meeting[0])
        if not level:
            return None
        frontiers[side] = level
    return None


def accounts_sharing(touching: Touching, lookup: Lookup, ref: EntityRef) -> pd.DataFrame:
    """Accounts linked to ``ref``: ``account``, ``link``, ``count``, ``first_seen``,
    ``last_seen``, ``created_at``, ``label``; one row per account and link kind."""
    # In LINK_KEY order first, so that an account linked both ways by one kind of link
    # comes in the same order from every engine.
    links = _sorted(touching([ref], outgoing=False))
    to_it = (links["dst_kind"] == ref.kind) & (links["dst_key"] == ref.key)
    other_kind = links["src_kind"].where(to_it, links["dst_kind"])
    sharing = pd.DataFrame(
        {
            "account": links["src_key"].where(to_it, links["dst_key"]),
            "link": links["kind"],
            "count": links["count"],
            "first_seen": links["first_seen"],
            "last_seen": links["last_seen"],
        }
    )[(other_kind == EntityKind.ACCOUNT).to_numpy()]
    facts = lookup(EntityKind.ACCOUNT, sharing["account"].unique().tolist())
    facts = facts[["key", "created_at", "label"]].rename(columns={"key": "account"})
    sharing = sharing.merge(facts, on="account", how="left")
    return sharing.sort_values(["account", "link"], kind="stable", ignore_index=True)


def nodes(lookup: Lookup, refs: Iterable[Node]) -> pd.DataFrame:
    """The entities ``refs`` (those that exist), looked up kind by kind, in (kind, key) order."""
    by_kind: dict[str, list[str]] = {}
    for kind, key in refs:
        by_kind.setdefault(kind, []).append(key)
    found = [lookup(kind, keys) for kind, keys in sorted(by_kind.items())]
    found = [frame for frame in found if not frame.empty]
    if not found:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in ENTITY_COLUMNS})
    return pd.concat(found, ignore_index=True).sort_values(["kind", "key"], ignore_index=True)


def cap_subgraph(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    first: list[EntityRef],
    limit: int,
    truncated: bool = False,
) -> Subgraph:
    """A subgraph of at most ``limit`` nodes: those in ``first``, then the rest in (kind, key)
    order; edges whose ends were both kept."""
    wanted = {(ref.kind, ref.key) for ref in first}
    rank = pd.Series(
        [(kind, key) not in wanted for kind, key in zip(nodes["kind"], nodes["key"], strict=True)],
        index=nodes.index,
        dtype=bool,
    )
    nodes = nodes.assign(_later=rank).sort_values(["_later", "kind", "key"], kind="stable")
    nodes = nodes.drop(columns="_later").reset_index(drop=True)
    if len(nodes) > limit:
        nodes, truncated = nodes.head(limit), True
        kept = set(zip(nodes["kind"], nodes["key"], strict=True))
        edges = edges[_within(edges, kept)]
    return Subgraph(nodes, edges.reset_index(drop=True), truncated=truncated)


def touching_mask(edges: pd.DataFrame, refs: Iterable[Node], *, outgoing: bool) -> pd.Series:
    """Which of ``edges`` have their source among ``refs`` (or either end, unless
    ``outgoing``): what an engine that looks links up by key alone keeps of what it found."""
    wanted = set(refs)
    src = _member(edges["src_kind"], edges["src_key"], wanted)
    return src if outgoing else src | _member(edges["dst_kind"], edges["dst_key"], wanted)


def _trace(
    lookup: Lookup,
    parents: list[dict[Node, tuple[Node, dict[Hashable, Any]] | None]],
    middle: Node,
) -> Subgraph:
    """The path through ``middle``, nodes and edges in order from ``a`` to ``b``."""
    halves: list[tuple[list[Node], list[dict[Hashable, Any]]]] = []
    for side in parents:
        chain: list[Node] = []
        links: list[dict[Hashable, Any]] = []
        step = side[middle]
        while step is not None:
            previous, edge = step
            chain.append(previous)
            links.append(edge)
            step = side[previous]
        halves.append((chain, links))
    order = [*reversed(halves[0][0]), middle, *halves[1][0]]
    edge_frame = pd.DataFrame([*reversed(halves[0][1]), *halves[1][1]], columns=list(LINK_COLUMNS))
    found = nodes(lookup, order).set_index(["kind", "key"]).loc[order].reset_index()
    return Subgraph(found, edge_frame.reset_index(drop=True))


def _refs(nodes: Iterable[Node]) -> list[EntityRef]:
    return [EntityRef(kind, key) for kind, key in nodes]


def _ends(edges: pd.DataFrame) -> list[Node]:
    return list(zip(edges["src_kind"], edges["src_key"], strict=True)) + list(
        zip(edges["dst_kind"], edges["dst_key"], strict=True)
    )


def _member(kinds: pd.Series, keys: pd.Series, nodes: set[Node]) -> pd.Series:
    found = [(kind, key) in nodes for kind, key in zip(kinds, keys, strict=True)]
    return pd.Series(found, index=kinds.index, dtype=bool)


def _within(edges: pd.DataFrame, nodes: set[Node]) -> pd.Series:
    """Edges with both ends in ``nodes``."""
    src = _member(edges["src_kind"], edges["src_key"], nodes)
    return src & _member(edges["dst_kind"], edges["dst_key"], nodes)


def _sorted(edges: pd.DataFrame) -> pd.DataFrame:
    return edges.sort_values(LINK_KEY, ignore_index=True)
