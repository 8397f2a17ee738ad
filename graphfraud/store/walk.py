"""Graph walks, written once for every engine over one hook: the links touching some entities.

An engine answers one question here, "which links touch these entities?" (:class:`Touching`),
and looks entities up by kind and key (:data:`Lookup`); the walks themselves — a neighbourhood
level by level, a ring's surroundings, a shortest path, the accounts sharing an identifier —
are these functions, so every engine (and the caching store) truncates at the same nodes and
finds the same path. Nodes are ``(kind, key)`` pairs; wherever a walk must choose, it takes
them in ``(kind, key)`` order, and links in ``LINK_KEY`` order.

The hooks return columns by name (a frame, or a mapping of arrays); the walks work on the
columns as arrays and build the frames of their answer once, at the end. A walk's pieces are
small, and a pandas frame costs a fraction of a millisecond to build whatever its size: built
at every step, frames made a one-hop walk thirty times slower than the walk itself.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Hashable, Iterable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from graphfraud.model import (
    ENTITY_COLUMNS,
    LINK_COLUMNS,
    Columns,
    EntityKind,
    EntityRef,
    Subgraph,
    typed_frame,
)


class Touching(Protocol):
    """The engine hook every walk stands on."""

    def __call__(self, refs: list[EntityRef], *, outgoing: bool) -> Columns:
        """Every link with an end among ``refs`` (with its source among them when
        ``outgoing``), each once, as ``LINK_COLUMNS``."""
        ...


#: ``lookup(refs)``: those of the entities ``refs`` that exist, in any order, as
#: ``ENTITY_COLUMNS``.
Lookup = Callable[[list[EntityRef]], Columns]

LINK_KEY: list[str] = ["src_kind", "src_key", "kind", "dst_kind", "dst_key"]
Node = tuple[str, str]
#: Columns as NumPy arrays, the form the walks work on.
Arrays = dict[str, np.ndarray]


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
        new = _ends(links_of(touching(_refs(frontier), outgoing=False))) - seen.keys()
        room = limit - len(seen)
        # Only the first nodes of a level are kept: a level reaching a widely used identifier's
        # thousands of users need not be sorted whole.
        truncated = len(new) > room
        reached = heapq.nsmallest(room, new) if truncated else sorted(new)
        seen.update(dict.fromkeys(reached))
        frontier = reached
        if truncated or not frontier:
            break
    kept = set(seen)
    edges = links_of(touching(_refs(kept), outgoing=True))
    edges = _sorted(_pick(edges, _within(edges, kept)))
    return Subgraph(_nodes(lookup, kept), edges, truncated)


def surroundings(touching: Touching, lookup: Lookup, refs: list[EntityRef], limit: int) -> Subgraph:
    """Every link touching one of ``refs`` with the entities at both ends, at most ``limit``
    nodes: ``refs`` first, then the others, each part in ``(kind, key)`` order."""
    edges = links_of(touching(refs, outgoing=False))
    found = _nodes(lookup, _ends(edges) | {(ref.kind, ref.key) for ref in refs})
    wanted = {(ref.kind, ref.key) for ref in refs}
    later = [node not in wanted for node in zip(found["kind"], found["key"], strict=True)]
    found = _pick(found, np.array(sorted(range(len(later)), key=later.__getitem__), dtype=int))
    truncated = len(later) > limit
    if truncated:
        found = _pick(found, slice(0, limit))
        kept = set(zip(found["kind"].tolist(), found["key"].tolist(), strict=True))
        edges = _pick(edges, _within(edges, kept))
    return Subgraph(found, _sorted(edges), truncated=truncated)


def path(
    touching: Touching,
    lookup: Lookup,
    a: EntityRef,
    b: EntityRef,
    *,
    max_hops: int,
    avoid: Collection[Node] = frozenset(),
) -> Subgraph | None:
    """A shortest chain of links from ``a`` to ``b`` within ``max_hops``, or None.

    Bidirectional breadth-first search: the smaller side expands one level at a time; of
    several shortest paths, the one through the first meeting node in ``(kind, key)`` order,
    each node reached through the first link (in ``LINK_KEY`` order) that reaches it. Nodes
    in ``avoid`` (hubs) are never stepped on, so never fanned out of either.
    """
    parents: list[dict[Node, tuple[Node, dict[Hashable, Any]] | None]] = [
        {(a.kind, a.key): None},
        {(b.kind, b.key): None},
    ]
    frontiers: list[list[Node]] = [[(a.kind, a.key)], [(b.kind, b.key)]]
    for _ in range(max_hops):
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        edges = _sorted(links_of(touching(_refs(frontiers[side]), outgoing=False)))
        level: list[Node] = []
        for edge in _records(edges):
            src, dst = (edge["src_kind"], edge["src_key"]), (edge["dst_kind"], edge["dst_key"])
            for here, there in ((src, dst), (dst, src)):
                if here in parents[side] and there not in parents[side] and there not in avoid:
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
    ``last_seen``, ``created_at``, ``label``; one row per account and link kind, by account
    and link (an account linked both ways by one kind of link: in ``LINK_KEY`` order)."""
    links = _sorted(links_of(touching([ref], outgoing=False)))
    to_it = (links["dst_kind"] == ref.kind) & (links["dst_key"] == ref.key)
    other_kind = np.where(to_it, links["src_kind"], links["dst_kind"])
    links = _pick(links, other_kind == EntityKind.ACCOUNT)
    to_it = (links["dst_kind"] == ref.kind) & (links["dst_key"] == ref.key)
    account = np.where(to_it, links["src_key"], links["dst_key"])
    facts = _arrays(lookup([EntityRef(EntityKind.ACCOUNT, key) for key in set(account.tolist())]))
    row = {key: i for i, key in enumerate(facts["key"].tolist())}
    at = np.array([row.get(key, -1) for key in account.tolist()], dtype=np.int64)
    sharing = {
        "account": account,
        "link": links["kind"],
        "count": links["count"],
        "first_seen": links["first_seen"],
        "last_seen": links["last_seen"],
        "created_at": _take(facts["created_at"], at),
        "label": _take(facts["label"], at),
    }
    return typed_frame(_pick(sharing, _order(sharing, ["account", "link"])))


def _nodes(lookup: Lookup, refs: Iterable[Node]) -> Arrays:
    """The entities ``refs`` (those that exist), in (kind, key) order."""
    found = _arrays(lookup(_refs(refs)))
    return _pick(found, _order(found, ["kind", "key"]))


def links_of(columns: Columns) -> Arrays:
    """Links as the walks work on them: ``LINK_COLUMNS`` arrays."""
    return _arrays(columns, LINK_COLUMNS)


def touching_mask(edges: Columns, refs: Iterable[Node], *, outgoing: bool) -> np.ndarray:
    """Which of ``edges`` have their source among ``refs`` (or either end, unless
    ``outgoing``): what an engine that looks links up by key alone keeps of what it found."""
    wanted = set(refs)
    links = links_of(edges)
    src = _member(links["src_kind"], links["src_key"], wanted)
    return src if outgoing else src | _member(links["dst_kind"], links["dst_key"], wanted)


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
    steps = [*reversed(halves[0][1]), *halves[1][1]]
    edges = {name: np.array([step[name] for step in steps], dtype=object) for name in LINK_COLUMNS}
    found = _nodes(lookup, order)
    nodes = zip(found["kind"].tolist(), found["key"].tolist(), strict=True)
    at = {node: i for i, node in enumerate(nodes)}
    return Subgraph(_pick(found, np.array([at[node] for node in order], dtype=int)), edges)


def _arrays(columns: Columns, names: Iterable[str] = ENTITY_COLUMNS) -> Arrays:
    return {name: np.asarray(columns[name]) for name in names}


def _refs(nodes: Iterable[Node]) -> list[EntityRef]:
    return [EntityRef(kind, key) for kind, key in nodes]


def _ends(edges: Arrays) -> set[Node]:
    """The nodes at either end of ``edges``."""
    columns = [edges[name].tolist() for name in ("src_kind", "src_key", "dst_kind", "dst_key")]
    ends = set(zip(columns[0], columns[1], strict=True))
    ends.update(zip(columns[2], columns[3], strict=True))
    return ends


def _member(kinds: np.ndarray, keys: np.ndarray, nodes: set[Node]) -> np.ndarray:
    found = [node in nodes for node in zip(kinds.tolist(), keys.tolist(), strict=True)]
    return np.array(found, dtype=bool)


def _within(edges: Arrays, nodes: set[Node]) -> np.ndarray:
    """Edges with both ends in ``nodes``."""
    src = _member(edges["src_kind"], edges["src_key"], nodes)
    return src & _member(edges["dst_kind"], edges["dst_key"], nodes)


def _order(columns: Arrays, names: list[str]) -> np.ndarray:
    """Row positions sorting ``columns`` by the text columns ``names``, ties kept in order."""
    keys = list(zip(*(columns[name].tolist() for name in names), strict=True))
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def _sorted(edges: Arrays) -> Arrays:
    return _pick(edges, _order(edges, LINK_KEY))


def _pick(columns: Arrays, rows: np.ndarray | slice) -> Arrays:
    """The rows ``rows`` (positions or a mask) of every column."""
    return {name: values[rows] for name, values in columns.items()}


def _take(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]``, missing (None) where a row is -1."""
    found = np.full(len(rows), None, dtype=object)
    hit = rows >= 0
    found[hit] = values[rows[hit]]
    return found


def _records(edges: Arrays) -> list[dict[Hashable, Any]]:
    names = list(edges)
    return [dict(zip(names, row, strict=True)) for row in zip(*edges.values(), strict=True)]
