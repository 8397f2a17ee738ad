"""What the investigator's ring page shows besides the plain graph: the grouped view of a big
ring, the timeline, and the neighbours of one node fetched on demand.

The grouped view makes a ring of hundreds of members readable: each member joins the group of
the shared identifier that ties it most tellingly (a device first, then a card, then whatever
ties the most members), so a ring becomes a few dozen nodes, group by group, with the shared
devices and cards on top. Direct links between members (money, orders, referrals) become links
between their groups, counted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from graphfraud.errors import NotFound
from graphfraud.model import (
    ACCOUNT_LINKS,
    RING_SORTS,
    EntityRef,
    Page,
    Ring,
    RingFilter,
    RingStatus,
)
from graphfraud.model import EntityKind as K
from graphfraud.network import HUB, OUTSIDE, SHARED, RingNetwork
from graphfraud.settings import Settings
from graphfraud.store import GraphStore
from loaders.normalise import NormaliseOptions, normalise

GROUP = "Group"
#: Shared devices and cards tie a ring most tellingly (a farm's phones, a shared card): they
#: pick a member's group first and are drawn on top.
FIRST_KINDS: tuple[str, ...] = (K.DEVICE, K.PAYMENT_INSTRUMENT)
#: Rings bigger than this open in the grouped view: past ~60 members the plain graph is a blob.
GROUPED_FROM_MEMBERS = 60
#: Nodes one expansion adds at most; a hub's other users become one counted node.
EXPAND_LIMIT = 40
#: An identifier this many accounts use is drawn as a hub wherever it appears. Detection's own
#: hubs are data-driven per ring; this covers identifiers outside the ring (the surroundings, an
#: expansion) where no run has judged them, at a count no genuine tie between accounts reaches.
WIDE_USE_ACCOUNTS = 100


@dataclass(frozen=True)
class TimelineEvent:
    """One moment of the ring's story: a member created, or a shared identifier first used."""

    time: pd.Timestamp
    node: str
    text: str
    kind: str


def link_ids(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The "Kind:key" ids of each link's source and target."""
    src = (edges["src_kind"].astype(str) + ":" + edges["src_key"].astype(str)).to_numpy()
    dst = (edges["dst_kind"].astype(str) + ":" + edges["dst_key"].astype(str)).to_numpy()
    return src, dst


def grouped_network(network: RingNetwork) -> RingNetwork:
    """The ring with its members replaced by groups, one per tying identifier.

    Group nodes have kind ``"Group"``, role ``"group"``, ``members`` the accounts in the group
    and ``grouped`` their keys; ``created_at`` is the first member's creation. Identifier nodes
    and their links to the groups (``count``: members using it) are kept.
    """
    nodes, edges = network.nodes, network.edges
    ties = nodes[nodes["role"].isin([SHARED, HUB])]
    members = nodes[nodes["in_ring"]]
    rank = {
        node: i
        for i, node in enumerate(
            ties.assign(
                first=[
                    FIRST_KINDS.index(kind) if kind in FIRST_KINDS else len(FIRST_KINDS)
                    for kind in ties["kind"]
                ],
                hub=ties["role"] == HUB,
            ).sort_values(["hub", "first", "members", "id"], ascending=[True, True, False, True])[
                "id"
            ]
        )
    }
    src, dst = link_ids(edges)
    group_of: dict[str, str] = {}
    for account, tie in sorted(
        ((s, d) for s, d in zip(src, dst, strict=True) if d in rank), key=lambda p: rank[p[1]]
    ):
        group_of.setdefault(account, tie)
    alone = "—"
    group_of = {m: group_of.get(m, alone) for m in members["id"]}
    by_group: dict[str, list[str]] = {}
    for member, tie in group_of.items():
        by_group.setdefault(tie, []).append(member)
    order = sorted(by_group, key=lambda tie: (-len(by_group[tie]), rank.get(tie, len(rank))))
    group_id = {tie: f"{GROUP}:{i + 1}" for i, tie in enumerate(order)}
    # Plain dicts: a pandas lookup per group costs more than the whole grouping.
    created = {
        m: time
        for m, time in zip(members["id"], members["created_at"], strict=True)
        if not pd.isna(time)
    }
    bad = {
        m
        for m, label in zip(members["id"], members["label"], strict=True)
        if isinstance(label, str)
    }
    names = _names(ties)
    size = max(len(members), 1)
    groups = pd.DataFrame(
        {
            "kind": GROUP,
            "key": [_group_name(len(by_group[tie]), names.get(tie)) for tie in order],
            "display": None,
            "created_at": pd.to_datetime(
                pd.Series(
                    [
                        min((created[m] for m in by_group[tie] if m in created), default=None)
                        for tie in order
                    ],
                    dtype=object,
                )
            ),
            "label": [_group_label(sum(m in bad for m in by_group[tie])) for tie in order],
            "attributes": None,
            "id": [group_id[tie] for tie in order],
            "in_ring": True,
            "members": [len(by_group[tie]) for tie in order],
            "accounts": pd.array([pd.NA] * len(order), dtype="Int64"),
            "role": "group",
            "centrality": [len(by_group[tie]) / size for tie in order],
            "grouped": [sorted(key.split(":", 1)[1] for key in by_group[tie]) for tie in order],
        }
    )
    linked = pd.DataFrame(
        {
            "src": [group_id[group_of[s]] if s in group_of else s for s in src],
            "dst": [group_id[group_of[d]] if d in group_of else d for d in dst],
            "kind": edges["kind"].to_numpy(),
            "count": 1,
            "first_seen": edges["first_seen"].to_numpy(),
            "last_seen": edges["last_seen"].to_numpy(),
            "amount": edges["amount"].to_numpy(),
        }
    )
    direct = linked["kind"].isin(ACCOUNT_LINKS).to_numpy()
    # A member counts once per identifier; money between members of one group stays inside it.
    once = ~pd.DataFrame({"src": src, "dst": dst}).duplicated().to_numpy()
    linked = linked[(linked["src"] != linked["dst"]).to_numpy() & (direct | once)]
    folded = (
        linked.groupby(["src", "dst", "kind"], sort=True)
        .agg(
            count=("count", "sum"),
            first_seen=("first_seen", "min"),
            last_seen=("last_seen", "max"),
            amount=("amount", "sum"),
        )
        .reset_index()
    )
    src_kind, src_key = _split(folded["src"])
    dst_kind, dst_key = _split(folded["dst"])
    grouped_edges = pd.DataFrame(
        {
            "src_kind": src_kind,
            "src_key": src_key,
            "kind": folded["kind"],
            "dst_kind": dst_kind,
            "dst_key": dst_key,
            "first_seen": folded["first_seen"],
            "last_seen": folded["last_seen"],
            "count": folded["count"],
            "amount": folded["amount"].where(folded["amount"] != 0),
        }
    )
    # Group links point at "Group:<n>" (the node's id); the node's key holds its name.
    kept = pd.concat([ties.assign(grouped=None), groups], ignore_index=True)
    return RingNetwork(network.ring, kept, grouped_edges, network.total_nodes)


def _split(ids: pd.Series) -> tuple[list[str], list[str]]:
    parts = [str(value).split(":", 1) for value in ids]
    return [p[0] for p in parts], [p[1] for p in parts]


def _names(nodes: pd.DataFrame) -> dict[str, str]:
    """Node id → its kind and display form (its key where it has none): "Device d-1"."""
    return {
        str(node): f"{kind} {display if isinstance(display, str) else key}"
        for node, kind, key, display in nodes[["id", "kind", "key", "display"]].itertuples(
            index=False
        )
    }


def _group_name(accounts: int, tie: str | None) -> str:
    count = f"{accounts} account{'s' if accounts != 1 else ''}"
    return f"{count}\non {tie}" if tie else f"{count} with no shared identifier"


def _group_label(bad: int) -> str | None:
    return f"{bad} known bad" if bad else None


def timeline(network: RingNetwork) -> list[TimelineEvent]:
    """Members' creation and the first use of each shared identifier by a member, in time
    order (nodes with no time known are left out)."""
    nodes, edges = network.nodes, network.edges
    created = nodes.loc[nodes["in_ring"] & nodes["created_at"].notna(), ["id", "key", "created_at"]]
    events = [
        TimelineEvent(pd.Timestamp(time), str(node), f"{key} created", K.ACCOUNT)
        for node, key, time in created.itertuples(index=False)
    ]
    src, dst = link_ids(edges)
    members = set(nodes.loc[nodes["in_ring"], "id"])
    uses = pd.DataFrame({"member": src, "tie": dst, "first_seen": edges["first_seen"].to_numpy()})
    uses = uses[uses["member"].isin(members) & uses["first_seen"].notna()]
    ties = nodes[nodes["role"].isin([SHARED, HUB])]
    names, kinds = _names(ties), dict(zip(ties["id"], ties["kind"], strict=True))
    first = uses[uses["tie"].isin(names)].groupby("tie")["first_seen"].min()
    events += [
        TimelineEvent(
            pd.Timestamp(time), str(tie), f"{names[str(tie)]} first used", kinds[str(tie)]
        )
        for tie, time in first.items()
    ]
    return sorted(events, key=lambda event: (event.time, event.node))


def neighbours(
    store: GraphStore, network: RingNetwork, ref: EntityRef, *, hubs: bool
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The entities one link from ``ref`` and the links to them, for the page to add.

    ``ref`` itself comes first. At most :data:`EXPAND_LIMIT` others are returned unless
    ``hubs`` is true (then up to ten times as many); the third value counts the neighbours
    left out, which the page draws as one counted node. Nodes get the columns of
    :class:`RingNetwork` nodes: members of the ring keep their role, identifiers used by
    :data:`WIDE_USE_ACCOUNTS` accounts or more are hubs, others are outside the ring.
    """
    limit = EXPAND_LIMIT * (10 if hubs else 1)
    around = store.neighbourhood(ref, hops=1, limit=limit + 1)
    nodes = around.nodes.copy()
    nodes["id"] = nodes["kind"].astype(str) + ":" + nodes["key"].astype(str)
    me = nodes["id"] == f"{ref.kind}:{ref.key}"
    # The node itself comes first: the links drawn need both their ends.
    nodes = pd.concat([nodes[me], nodes[~me]], ignore_index=True)
    total = len(nodes) - 1
    if around.truncated or total > limit:
        total = _degree(store, ref)
    nodes = nodes.head(limit + 1)
    known = network.nodes.set_index("id")
    users = identifier_users(store, nodes)
    nodes["in_ring"] = [
        bool(known.loc[i, "in_ring"]) if i in known.index else False for i in nodes["id"]
    ]
    nodes["role"] = [
        str(known.loc[i, "role"]) if i in known.index
        else HUB if users.get(i, 0) >= WIDE_USE_ACCOUNTS
        else OUTSIDE
        for i in nodes["id"]
    ]  # fmt: skip
    nodes["members"] = [
        int(known.loc[i, "members"]) if i in known.index else 0 for i in nodes["id"]
    ]
    nodes["accounts"] = pd.array([users.get(i) for i in nodes["id"]], dtype="Int64")
    nodes["centrality"] = 0.0
    edges = around.edges
    src, dst = link_ids(edges)
    me_id = f"{ref.kind}:{ref.key}"
    shown = set(nodes["id"])
    ends = zip(src, dst, strict=True)
    touching = np.array(
        [(s == me_id and d in shown) or (d == me_id and s in shown) for s, d in ends], dtype=bool
    )
    hidden = total - (len(nodes) - 1)
    return nodes, edges[touching].reset_index(drop=True), hidden


def _degree(store: GraphStore, ref: EntityRef) -> int:
    """How many entities one link from ``ref`` in the whole graph."""
    if ref.kind == K.ACCOUNT:
        return len(store.neighbourhood(ref, hops=1, limit=10**6).nodes) - 1
    return int(store.accounts_sharing(ref)["account"].nunique())


def identifier_users(store: GraphStore, nodes: pd.DataFrame) -> dict[str, int]:
    """Accounts using each identifier among ``nodes`` (lower bounds past the fetch cap)."""
    refs = [
        EntityRef(kind, key)
        for kind, key in zip(nodes["kind"], nodes["key"], strict=True)
        if kind != K.ACCOUNT
    ]
    if not refs:
        return {}
    sub = store.surroundings(refs, limit=20_000)
    src, dst = link_ids(sub.edges)
    used = pd.DataFrame({"account": src, "identifier": dst})
    return {str(k): int(v) for k, v in used.groupby("identifier")["account"].nunique().items()}


@dataclass(frozen=True)
class IndexQuery:
    """The index page's filters, read from what a person typed.

    ``given`` holds the values that could be used, as typed (for the form and the page links);
    ``errors`` says, for each value that could not, what was wrong with it.
    """

    filter: RingFilter
    page: Page
    given: dict[str, str]
    errors: list[str]

    @classmethod
    def read(cls, given: Mapping[str, str | None], *, typologies: Sequence[str]) -> IndexQuery:
        """Read the filters; a bad value is left out and explained, never an error."""
        values: dict[str, Any] = {}
        kept: dict[str, str] = {}
        errors: list[str] = []
        for name, text in given.items():
            text = (text or "").strip()
            if not text:
                continue
            try:
                values[name] = _INDEX_FIELDS[name](text, typologies)
            except (ValueError, TypeError) as error:
                errors.append(f"{name.replace('_', ' ')} {text!r} was ignored: {error}")
                continue
            kept[name] = text
        flt = RingFilter(
            **{name: values[name] for name in _FILTER_FIELDS if name in values},
        )
        page = Page(
            offset=values.get("offset", 0),
            limit=values.get("limit", INDEX_PAGE),
            sort=values.get("sort", "score"),
            descending=values.get("order", "desc") == "desc",
        )
        kept.pop("offset", None)
        return cls(flt, page, kept, errors)


#: Rings per index page unless the page asks for another number.
INDEX_PAGE = 50


def _one_of(choices: Sequence[str]) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in choices:
            raise ValueError(f"it is not one of {', '.join(choices)}")
        return text

    return read


def _number(kind: type, low: float, high: float) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(
                f"it is not {'a whole number' if kind is int else 'a number'}"
            ) from None
        if not low <= value <= high:
            raise ValueError(f"it must be between {low:g} and {high:g}")
        return value

    return read


def _since(text: str) -> datetime:
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, OverflowError):
        raise ValueError("it is not a date (write it as 2026-03-31)") from None
    if pd.isna(stamp):
        raise ValueError("it is not a date (write it as 2026-03-31)")
    return stamp.to_pydatetime()


_INDEX_FIELDS: dict[str, Callable[[str, Sequence[str]], Any]] = {
    "typology": lambda text, typologies: _one_of(typologies)(text),
    "status": lambda text, _: RingStatus(_one_of([s.value for s in RingStatus])(text)),
    "min_score": lambda text, _: _number(float, 0, 1e9)(text),
    "min_size": lambda text, _: _number(int, 0, 1e9)(text),
    "max_size": lambda text, _: _number(int, 0, 1e9)(text),
    "assignee": lambda text, _: text,
    "detected_since": lambda text, _: _since(text),
    "sort": lambda text, _: _one_of(RING_SORTS)(text),
    "order": lambda text, _: _one_of(["desc", "asc"])(text),
    "offset": lambda text, _: _number(int, 0, 1e9)(text),
    "limit": lambda text, _: _number(int, 1, 500)(text),
}
_FILTER_FIELDS = (
    "typology",
    "status",
    "min_score",
    "min_size",
    "max_size",
    "assignee",
    "detected_since",
)


@dataclass(frozen=True)
class Found:
    """One thing a search found; ``ring_id`` when it leads to a ring."""

    what: str
    name: str
    ring_id: str | None
    detail: str


#: Accounts of an identifier whose rings a search lists at most (a hub has thousands).
SEARCH_ACCOUNTS = 50


def find(store: GraphStore, text: str, *, settings: Settings) -> tuple[list[Found], str]:
    """Rings, accounts and identifiers ``text`` names, and the rings they lead to.

    ``text`` is tried as a ring id, as ``Kind:key``, as an account key, and as an identifier
    of every kind, both as typed and normalised as the loader normalises it with this store's
    fingerprint key (so an email finds its canonical form and a card number its fingerprint).
    Returns the hits and a note on what was tried.
    """
    hits: list[Found] = []
    try:
        ring = store.ring(text)
        hits.append(Found("ring", ring.ring_id, ring.ring_id, _ring_detail(ring)))
    except NotFound:
        pass
    for ref in _candidates(store, text, settings):
        hits.extend(_entity_hits(store, ref))
    note = "" if hits else "Tried as a ring id, an account and every kind of identifier."
    return hits, note


def _candidates(store: GraphStore, text: str, settings: Settings) -> list[EntityRef]:
    """The stored entities ``text`` may name, each once."""
    kinds: list[str] = [kind.value for kind in K]
    raw = text
    if ":" in text and text.split(":", 1)[0] in kinds:
        kind, raw = text.split(":", 1)
        kinds = [kind]
    options = NormaliseOptions.from_settings(settings, fingerprint_key=store.fingerprint_key())
    tried: list[EntityRef] = []
    for kind in kinds:
        keys = [raw]
        formats = ["card", "token"] if kind == K.PAYMENT_INSTRUMENT else ["card"]
        for payment_format in formats:
            made = normalise(
                kind, pd.Series([raw]), replace(options, payment_format=payment_format)
            )
            key = made.values.iloc[0]
            if not pd.isna(key):
                keys.append(str(key))
        tried.extend(EntityRef(kind, key) for key in keys)
    found = []
    for ref in dict.fromkeys(tried):
        try:
            store.entity(ref)
        except NotFound:
            continue
        found.append(ref)
    return found


def _entity_hits(store: GraphStore, ref: EntityRef) -> list[Found]:
    entity = store.entity(ref)
    name = str(entity["display"]) if isinstance(entity["display"], str) else ref.key
    if ref.kind == K.ACCOUNT:
        accounts = [ref.key]
        detail = f"account {ref.key}"
    else:
        sharing = store.accounts_sharing(ref)
        accounts = list(dict.fromkeys(sharing["account"]))
        shown = ", ".join(accounts[:10]) + (" …" if len(accounts) > 10 else "")
        detail = f"key {ref.key}; used by {len(accounts)} account(s): {shown}"
    hits = [Found(ref.kind, name, None, detail)]
    rings: dict[str, list[str]] = {}
    for account in accounts[:SEARCH_ACCOUNTS]:
        for ring in store.rings(RingFilter(account=account, active=None), Page(limit=100)).rings:
            rings.setdefault(ring.ring_id, []).append(account)
    for ring_id, through in rings.items():
        ring = store.ring(ring_id)
        hits.append(
            Found(
                "ring", ring_id, ring_id, f"{_ring_detail(ring)}; through {', '.join(through[:5])}"
            )
        )
    return hits


def _ring_detail(ring: Ring) -> str:
    state = "" if ring.active else ", retired"
    return (
        f"{ring.typology.replace('_', ' ')}, {ring.size} members, score {ring.score:.2f}, "
        f"{ring.status.value.replace('_', ' ')}{state}"
    )
