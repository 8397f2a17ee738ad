"""The walks of a risk check, answered from the link graph's integer arrays.

A risk check looks two hops around what it is given: the accounts using a checked identifier
(hop 1), then the accounts sharing a non-hub identifier or a direct link with those (hop 2).
Walked through the store's graph walks, which return every link and entity as text and sort
them, hop 2 alone cost 25 ms a check at 100k accounts (hundreds of identifiers, thousands of
links, for an answer of a few dozen accounts). Here the same questions are array operations
on node and link ids (:class:`~graphfraud.store.cached.LinkIndex`), and only the accounts of
the answer become text: about a millisecond a check.

The answers are those of the walks, in the same order where order decides (of several link
kinds between one account and one identifier, the last in link-kind order; an account reached
at hop 2 in several ways, the first in (kind, key) order), so checks answer as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from graphfraud.model import ACCOUNT_LINKS, ENTITY_COLUMNS, LINK_COLUMNS, EntityKind, EntityRef
from graphfraud.store import GraphStore
from graphfraud.store.cached import LinkIndex

#: Per identifier, the accounts using it and how (link kind).
Uses = dict[EntityRef, dict[str, str]]


class TieSource(Protocol):
    """Where a risk check's walks read the links: the whole graph in memory, or the store."""

    def around(self, refs: list[EntityRef]) -> TieGraph:
        """A graph holding every link touching ``refs``, and every link touching the non-hub
        things the accounts among them use: enough for :meth:`TieGraph.own`,
        :meth:`TieGraph.users` and :meth:`TieGraph.second_hop` about them."""
        ...


@dataclass(frozen=True)
class TieGraph:
    """The link graph with the latest run's hubs marked, for the walks of risk checks.

    Attributes
    ----------
    links
        The adjacency arrays.
    hub
        Per node id, whether the run found it a hub.
    direct
        Per link kind code, whether the kind ties two accounts directly (``ACCOUNT_LINKS``).
    run_id
        The detection run whose hubs are marked.
    """

    links: LinkIndex
    hub: np.ndarray
    direct: np.ndarray
    run_id: str

    @classmethod
    def of(cls, links: LinkIndex, hubs: dict[tuple[str, str], int], *, run_id: str) -> TieGraph:
        """The graph of ``links`` with the hubs of run ``run_id`` (``(kind, key)`` → users)
        marked."""
        hub = np.zeros(len(links), dtype=bool)
        found = links.node_ids([EntityRef(kind, key) for kind, key in hubs])
        hub[found[found >= 0]] = True
        direct = np.isin(links.link_kinds, list(ACCOUNT_LINKS))
        return cls(links, hub, direct, run_id)

    def around(self, refs: list[EntityRef]) -> TieGraph:
        """The whole graph: it holds every link (a :class:`TieSource`)."""
        return self

    def holds(self, account: str) -> bool:
        """Whether ``account`` is in the graph."""
        return bool(self.links.node_ids([EntityRef(EntityKind.ACCOUNT, account)])[0] >= 0)

    def own(self, account: str) -> tuple[dict[EntityRef, str], dict[str, str]]:
        """What ``account`` uses (thing → link kind) and the accounts it is linked to directly,
        either way (other account → link kind)."""
        (me,) = self.links.node_ids([EntityRef(EntityKind.ACCOUNT, account)])
        src, kind, dst = self.links.links_at(np.array([me]), outgoing=False)
        names = self.links.link_kinds
        order = np.lexsort((dst, kind, src)).tolist()
        used = (src == me) & ~self.direct[kind]
        ends = self.links.refs_of(dst)
        things: dict[EntityRef, str] = {}
        for at in order:  # in link order, so of several kinds the last wins
            if used[at]:
                things[ends[at]] = str(names[kind[at]])
        tied = self.direct[kind] & (src != dst) & self.links.of_kind(src, EntityKind.ACCOUNT)
        direct: dict[str, str] = {}
        keys_src, keys_dst = self.links.keys_of(src), self.links.keys_of(dst)
        for at in order:
            if tied[at]:
                other = keys_dst[at] if src[at] == me else keys_src[at]
                direct[str(other)] = str(names[kind[at]])
        return things, direct

    def users(self, refs: list[EntityRef]) -> Uses:
        """Per identifier in ``refs`` that someone uses, the accounts using it and how (of
        several link kinds, the last in link-kind order)."""
        ids = self.links.node_ids(refs)
        found: Uses = {}
        names = self.links.link_kinds
        for ref, node in zip(refs, ids.tolist(), strict=True):
            if node < 0:
                continue
            src, kind, dst = self.links.links_at(np.array([node]), outgoing=False)
            keep = (dst == node) & self.links.of_kind(src, EntityKind.ACCOUNT)
            src, kind = src[keep], kind[keep]
            if not len(src):
                continue
            order = np.lexsort((kind, src))
            sharers: dict[str, str] = {}
            for key, code in zip(
                self.links.keys_of(src[order]).tolist(), kind[order].tolist(), strict=True
            ):
                sharers[key] = str(names[code])
            found[ref] = sharers
        return found

    def second_hop(
        self, hop1: list[str], *, exclude: set[str | None], most: int
    ) -> tuple[dict[str, tuple[str, list[str]]], bool]:
        """Accounts sharing a non-hub identifier (or a direct link) with a hop-1 account: each
        with the hop-1 account on the way and what they share, the first ``most`` in key
        order; and whether there were more.

        An account reached both ways is reached by its direct link; through identifiers, by
        the first identifier in (kind, key) order, held by its first hop-1 account.
        """
        if not hop1:
            return {}, False
        links = self.links
        first = links.node_ids([EntityRef(EntityKind.ACCOUNT, a) for a in hop1])
        first = np.unique(first[first >= 0])
        src, kind, dst = links.links_at(first, outgoing=False)
        is_first = np.isin(src, first), np.isin(dst, first)

        # Direct links, either way: (hop-1 account, other).
        tied = self.direct[kind] & (src != dst) & links.of_kind(src, EntityKind.ACCOUNT)
        pairs = [
            np.stack([src[tied & is_first[0]], dst[tied & is_first[0]]]),
            np.stack([dst[tied & is_first[1]], src[tied & is_first[1]]]),
        ]
        direct_one, direct_other = np.concatenate(pairs, axis=1)

        # Identifiers they use (hubs left out), each with its first holder, and their users.
        used = is_first[0] & ~self.direct[kind] & ~self.hub[dst]
        things, holders = _first_per(dst[used], src[used])
        user, _, thing = links.links_at(things, outgoing=False)
        keep = np.isin(thing, things) & links.of_kind(user, EntityKind.ACCOUNT)
        user, thing = user[keep], thing[keep]
        order = np.lexsort((user, thing))
        user, thing = user[order], thing[order]

        # In that order: direct links first (by hop-1 account, then other), then identifiers;
        # each account as first reached, with the hop-1 account on the way and what it shares.
        direct_order = np.lexsort((direct_other, direct_one))
        others = np.concatenate([direct_other[direct_order], user])
        ones = np.concatenate([direct_one[direct_order], holders[np.searchsorted(things, thing)]])
        shared = np.concatenate([np.full(len(direct_order), -1), thing])
        kept = np.unique(others, return_index=True)[1]
        gone = links.node_ids([EntityRef(EntityKind.ACCOUNT, a) for a in exclude if a is not None])
        kept = kept[~np.isin(others[kept], gone)]
        kept = kept[np.argsort(others[kept], kind="stable")]
        cut = len(kept) > most
        kept = kept[:most]
        via: dict[str, tuple[str, list[str]]] = {}
        for name, by, at, ref in zip(
            links.keys_of(others[kept]).tolist(),
            links.keys_of(ones[kept]).tolist(),
            shared[kept].tolist(),
            links.refs_of(np.maximum(shared[kept], 0)),
            strict=True,
        ):  # a direct link (no identifier) shares the link itself
            via[name] = (by, [f"{EntityKind.ACCOUNT}:{name}" if at < 0 else str(ref)])
        return via, cut


@dataclass(frozen=True)
class StoreTies:
    """A :class:`TieSource` over a store without the graph in memory (Neo4j, shared with other
    writers): each call reads the links it needs, so a check sees the graph as it is now."""

    store: GraphStore
    hubs: dict[tuple[str, str], int]
    run_id: str

    def around(self, refs: list[EntityRef]) -> TieGraph:
        first = self.store.surroundings(refs)
        edges = first.edge_columns
        accounts = {ref.key for ref in refs if ref.kind == EntityKind.ACCOUNT}
        found: set[EntityRef] = set()
        for src_kind, src, link, kind, key in zip(
            edges["src_kind"].tolist(), edges["src_key"].tolist(), edges["kind"].tolist(),
            edges["dst_kind"].tolist(), edges["dst_key"].tolist(), strict=True,
        ):  # fmt: skip
            if src_kind == EntityKind.ACCOUNT and src in accounts and link not in ACCOUNT_LINKS:
                found.add(EntityRef(kind, key))
        things = sorted(ref for ref in found - set(refs) if (ref.kind, ref.key) not in self.hubs)
        parts = [first, self.store.surroundings(things)] if things else [first]
        entities = pd.concat([pd.DataFrame(p.node_columns) for p in parts], ignore_index=True)
        links = pd.concat([pd.DataFrame(p.edge_columns) for p in parts], ignore_index=True)
        entities = entities.drop_duplicates(["kind", "key"], ignore_index=True)
        links = links.drop_duplicates(list(LINK_COLUMNS[:5]), ignore_index=True)
        graph = LinkIndex(entities[list(ENTITY_COLUMNS)], links[list(LINK_COLUMNS)])
        return TieGraph.of(graph, self.hubs, run_id=self.run_id)


def _first_per(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct groups, sorted, and each one's smallest value."""
    order = np.lexsort((values, groups))
    groups, values = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else groups
    return groups[starts], values[starts]
