"""Project the entity graph onto accounts: weighted account-account edges through shared things.

Two accounts are joined when they use the same identifier (device, card, address, phone, …) or
are linked directly (a referral, money or orders). A shared identifier weighs less the more
accounts use it (an IDF-like rarity), and a *hub* links no one at all: a thing whose use is an
outlier for its kind and whose users are strangers to each other (:mod:`algorithms.hubs`), such
as a café IP, a parcel locker written three ways, or a seller with thousands of buyers. Hubs
are reported with the numbers behind the call.

Accounts are numbered in key order and identifiers in (kind, key) order, so the same data gives
the same projection (and, seeded, the same rings) whatever order its rows were loaded in. The
projection is an ordinary weighted graph: detection cuts it into rings, and a per-account
propagation (personalised PageRank from known-bad accounts) can run on its edges as they are.

Everything is columnar: identifiers are grouped once, account pairs are generated with numpy for
non-hub identifiers only, and pair weights are summed with ``bincount``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from algorithms.engines import Engine, strong_components
from algorithms.hubs import decide_hubs, spelling_stems
from graphfraud.model import ACCOUNT_LINKS, HUB_COLUMNS, CodedLinks, EntityKind, LinkKind
from graphfraud.settings import DetectionSettings
from graphfraud.store.coded import code_links

#: Columns of :attr:`Projection.edges`.
EDGE_COLUMNS: tuple[str, ...] = ("a", "b", "weight", "shared")
#: Columns of :attr:`Projection.identifiers`.
IDENTIFIER_COLUMNS: tuple[str, ...] = (*HUB_COLUMNS, "rarity", "hub")
#: A hub test given instead of judging on the links projected (see :func:`project_accounts`).
HubJudge = Callable[[pd.DataFrame, pd.Index], tuple[pd.DataFrame, pd.DataFrame]]


@dataclass(frozen=True)
class Projection:
    """Accounts, the weighted edges between them, and the identifiers that made them.

    Attributes
    ----------
    accounts
        Account keys; an account's position is its node id everywhere else.
    edges
        One row per joined pair ``a < b`` (node ids): summed ``weight`` and the number of
        ``shared`` identifiers behind it.
    identifiers
        One row per identifier used by an account (:data:`IDENTIFIER_COLUMNS`): entity
        ``kind`` and ``key``, the ``link`` kind of its strongest use, how many ``accounts``
        use it in the whole graph and how many use any spelling of it (``group_accounts``),
        the hub test (``fence``, ``cohesion``), its per-pair ``rarity`` weight, and whether it
        is a ``hub``.
    usage
        Which account uses which identifier: ``node``, ``identifier`` (a row of
        ``identifiers``), the link ``weight`` of that use and when it was ``first_seen``.
    direct
        Direct account links (referrals, money/orders): ``src``, ``dst`` (node ids), ``kind``,
        ``count``, ``amount``, ``first_seen``.
    owners
        Ownership links (``OWNS``, account → creator): ``node`` and ``identifier``.
    account_hubs
        Accounts whose direct counterparties are hub-like (``key``, ``counterparties``,
        ``fence``, ``cohesion``): their direct links join no one.
    kind_users
        How widely things of each kind are shared in the whole graph: ``kind``, ``accounts``
        (users) and ``things`` (non-hub identifiers of that kind with that many users). A
        projection restricted to part of the graph (:func:`restrict`) keeps the whole graph's.
    """

    accounts: pd.Index
    edges: pd.DataFrame
    identifiers: pd.DataFrame
    usage: pd.DataFrame
    direct: pd.DataFrame
    owners: pd.DataFrame
    account_hubs: pd.DataFrame
    kind_users: pd.DataFrame

    @property
    def hubs(self) -> pd.DataFrame:
        """Hubs with the reason (:data:`HUB_COLUMNS`), most used first: identifiers, and
        accounts whose counterparties make them one (``kind`` ``Account``, ``link``
        ``direct``)."""
        things = self.identifiers.loc[self.identifiers["hub"], list(HUB_COLUMNS)]
        accounts = pd.DataFrame(
            {
                "kind": EntityKind.ACCOUNT.value,
                "key": self.account_hubs["key"],
                "link": "direct",
                "accounts": self.account_hubs["counterparties"],
                "group_accounts": self.account_hubs["counterparties"],
                "fence": self.account_hubs["fence"],
                "cohesion": self.account_hubs["cohesion"],
            }
        )
        hubs = pd.concat([things.astype({"kind": str, "link": str}), accounts], ignore_index=True)
        return hubs.sort_values(
            ["group_accounts", "kind", "key"], ascending=[False, True, True], kind="stable"
        ).reset_index(drop=True)


def rarity(users: np.ndarray, *, exponent: float = 0.5) -> np.ndarray:
    """Per-pair weight of an identifier shared by ``users`` accounts: 1 for two, then falling.

    ``1 / log2(n) ** exponent``. With ``exponent=1`` this is the Adamic-Adar weight; the
    default 0.5 falls more gently, because a card or a device that thirty accounts share is
    no weaker a tie between any two of them than one two accounts share. Things used so widely
    that they tell nothing (a café's IP) are hubs instead (:mod:`algorithms.hubs`).

    Examples
    --------
    >>> rarity(np.array([2, 4, 16])).tolist()
    [1.0, 0.7071067811865475, 0.5]
    >>> rarity(np.array([2, 4, 16]), exponent=1.0).tolist()
    [1.0, 0.5, 0.25]
    """
    return 1.0 / np.log2(np.maximum(users, 2).astype("float64")) ** exponent


def project_accounts(
    links: pd.DataFrame | CodedLinks,
    *,
    accounts: pd.Index | None,
    settings: DetectionSettings,
    engine: Engine,
    judge: HubJudge | None = None,
) -> Projection:
    """Build the weighted account projection of a links frame.

    Parameters
    ----------
    links
        Links as ``GraphStore.coded_links()`` returns them (their ends numbered where they were
        read, every account included), or a links frame (``graphfraud.model.LINK_COLUMNS``)
        as ``GraphStore.links()`` returns it, coded here
        (:func:`graphfraud.store.coded.code_links`).
    accounts
        For a links frame, account keys to include even without links; ``None``: the accounts
        in ``links``. Must be ``None`` for coded links. Either way accounts are numbered in key
        order.
    settings
        Link weights per kind, the hub test, rarity.
    engine
        Graph engine for the one graph step here (money cycles among direct links).
    judge
        When ``links`` are part of a graph, the hub calls made on the whole of it: given the
        identifiers (``kind``, ``key``, ``link``, ``accounts``) and the account keys, it
        returns the identifiers with ``group_accounts``, ``fence``, ``cohesion`` and ``hub``
        added, and those four columns for the accounts (aligned with the keys). Default:
        the hub test on ``links`` (:func:`algorithms.hubs.decide_hubs`).

    Returns
    -------
    Projection
        Accounts, edges, identifiers (with hubs marked) and identifier usage.

    Examples
    --------
    >>> links = pd.DataFrame({
    ...     "src_kind": "Account", "src_key": ["a", "b", "c"], "kind": "USES_DEVICE",
    ...     "dst_kind": "Device", "dst_key": ["d1", "d1", "d2"], "first_seen": "2024-05-01",
    ...     "last_seen": "2024-05-02", "count": 1, "amount": None})
    >>> projection = project_accounts(
    ...     links, accounts=None, settings=DetectionSettings(), engine="igraph")
    >>> projection.edges[["a", "b", "weight"]].to_dict("records")
    [{'a': 0, 'b': 1, 'weight': 1.0}]
    """
    if isinstance(links, CodedLinks):
        if accounts is not None:
            raise ValueError("coded links number every account already: pass accounts=None")
        coded = links
    else:
        coded = code_links(links, accounts=() if accounts is None else accounts)
    del links
    rows = _LinkRows.of(coded, settings)
    usage, identifiers = _identifier_usage(rows)
    direct = pd.DataFrame(
        {
            "src": rows.src[rows.direct],
            "dst": rows.dst_account,
            "kind": rows.link_names[rows.link[rows.direct]],
            "count": rows.count[rows.direct],
            "amount": pd.to_numeric(coded.links["amount"]).to_numpy("float64")[rows.direct],
            "first_seen": rows.first_seen[rows.direct],
        }
    )
    owns = rows.through & (rows.link_names[rows.link] == LinkKind.OWNS)
    owners = pd.DataFrame(
        {"node": rows.src[owns], "identifier": rows.identifier[owns[rows.through]]}
    )
    first, second = _counterparties(rows)
    if judge is None:
        identifiers, account_test = _judge_hubs(rows, usage, identifiers, first, second, settings)
    else:
        identifiers, account_test = judge(identifiers, rows.accounts)
    identifiers["rarity"] = rarity(
        identifiers["group_accounts"].to_numpy(), exponent=settings.rarity_exponent
    )
    account_hub = account_test["hub"].to_numpy()
    direct_pairs = _direct_pairs(rows, account_hub, first, second, settings, engine)
    edges = _sum_pairs([_identifier_pairs(usage, identifiers), direct_pairs], len(rows.accounts))
    busy = np.flatnonzero(account_hub)
    account_hubs = pd.DataFrame(
        {
            "key": rows.accounts.to_numpy()[busy],
            "counterparties": account_test["group_accounts"].to_numpy()[busy],
            "fence": account_test["fence"].to_numpy()[busy],
            "cohesion": account_test["cohesion"].to_numpy()[busy],
        }
    )
    return Projection(
        accounts=rows.accounts,
        edges=edges,
        identifiers=identifiers,
        usage=usage,
        direct=direct,
        owners=owners,
        account_hubs=account_hubs,
        kind_users=_kind_users(identifiers),
    )


def _kind_users(identifiers: pd.DataFrame) -> pd.DataFrame:
    """Non-hub identifiers per kind and number of users (:attr:`Projection.kind_users`)."""
    usable = identifiers.loc[~identifiers["hub"].to_numpy(), ["kind", "accounts"]]
    counts = usable.groupby(["kind", "accounts"], observed=True, sort=True).size()
    return counts.rename("things").reset_index().astype({"kind": str})


def candidate_links(projection: Projection, *, settings: DetectionSettings) -> pd.DataFrame:
    """Pairs of nodes that :func:`algorithms.pipeline.candidate_groups` may put in one group.

    Groups grow along edges, and by merging groups or attaching accounts that between them
    hold ``attach_share`` of an identifier's users, hubs included; no merge goes past
    ``max_ring_size``. So an identifier with more users than ``max_ring_size / attach_share``
    joins no groups, and the connected components of these pairs (edges, and each other
    identifier's users tied to its first user) hold every group whole: each can be detected
    on its own, in parallel.

    Returns
    -------
    pandas.DataFrame
        Columns ``a`` and ``b`` (node ids).
    """
    usage = projection.usage
    ident = usage["identifier"].to_numpy(np.int64)
    users = projection.identifiers["accounts"].to_numpy(np.int64)[ident]
    joining = (users >= 2) & (users <= settings.max_ring_size / settings.attach_share)
    node, ident = usage["node"].to_numpy(np.int64)[joining], ident[joining]
    # usage is sorted by identifier: each run's first user is the centre of a star (a star,
    # not a chain, so components are found in few rounds).
    starts = np.flatnonzero(np.r_[True, ident[1:] != ident[:-1]]) if len(ident) else ident
    first = np.repeat(node[starts], np.diff(np.r_[starts, len(ident)]))
    others = node != first
    return pd.DataFrame(
        {
            "a": np.r_[projection.edges["a"].to_numpy(np.int64), first[others]],
            "b": np.r_[projection.edges["b"].to_numpy(np.int64), node[others]],
        }
    )


def restrict(projection: Projection, nodes: np.ndarray) -> Projection:
    """The projection of ``nodes`` (sorted node ids) alone, renumbered in the same order.

    Identifiers keep their whole-graph counts, rarity and hub call, and ``kind_users`` stays
    the whole graph's, so every measure of a group inside ``nodes`` is what the whole
    projection gives it. ``account_hubs`` stays whole too (it reports, it joins nothing).
    """
    local = np.full(len(projection.accounts), -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))

    def inside(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        keep = np.ones(len(frame), dtype=bool)
        for column in columns:
            keep &= local[frame[column].to_numpy(np.int64)] >= 0
        out = frame[keep].reset_index(drop=True)
        for column in columns:
            out[column] = local[out[column].to_numpy(np.int64)]
        return out

    usage = inside(projection.usage, "node")
    used = np.unique(usage["identifier"].to_numpy(np.int64))
    renumber = np.full(len(projection.identifiers), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    usage["identifier"] = renumber[usage["identifier"].to_numpy(np.int64)]
    owners = inside(projection.owners, "node")
    owners["identifier"] = renumber[owners["identifier"].to_numpy(np.int64)]
    return Projection(
        accounts=projection.accounts[nodes],
        edges=inside(projection.edges, "a", "b"),
        identifiers=projection.identifiers.iloc[used].reset_index(drop=True),
        usage=usage,
        direct=inside(projection.direct, "src", "dst"),
        owners=owners,
        account_hubs=projection.account_hubs,
        kind_users=projection.kind_users,
    )


@dataclass(frozen=True)
class _LinkRows:
    """Per link row, the node ids and identifier numbers the projection works with.

    The store numbered the links' ends in (kind, key) order (:class:`CodedLinks`); accounts are
    one run of those codes and become node ids by an offset, and identifiers are the other
    ends of accounts' links, renumbered densely in the same order. No key string is hashed
    here, and nothing below depends on the order rows arrived in.
    """

    accounts: pd.Index
    link_names: np.ndarray
    link_weights: np.ndarray
    link: np.ndarray
    weight: np.ndarray
    #: Rows of direct links (account to account), sorted by (src, dst, link): sums over them
    #: come out the same whatever order the rows were read in.
    direct: np.ndarray
    through: np.ndarray
    src: np.ndarray
    dst_account: np.ndarray
    identifier: np.ndarray
    #: Node code of each identifier use (a row of ``keys``).
    identifier_key: np.ndarray
    keys: pd.Series
    identifier_kind: np.ndarray
    kind_names: np.ndarray
    first_seen: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, coded: CodedLinks, settings: DetectionSettings) -> _LinkRows:
        links, nodes, accounts = coded.links, coded.nodes, coded.accounts
        link, link_names = _codes(links["kind"])
        node_kind, kind_names = _codes(nodes["kind"])
        src_code = links["src"].to_numpy(np.int64)
        dst_code = links["dst"].to_numpy(np.int64)
        from_account = (src_code >= accounts.start) & (src_code < accounts.stop)
        to_account = (dst_code >= accounts.start) & (dst_code < accounts.stop)
        direct = from_account & to_account & np.isin(link_names, list(ACCOUNT_LINKS))[link]
        through = from_account & ~direct
        src = np.where(from_account, src_code - accounts.start, -1)
        rows = np.flatnonzero(direct)
        rows = rows[np.lexsort((link[rows], dst_code[rows], src_code[rows]))]

        # Node codes follow (kind, key): ranking the used ones numbers identifiers in that order.
        key_code = dst_code[through]
        used = np.zeros(len(nodes), dtype=bool)
        used[key_code] = True
        identifier = (np.cumsum(used) - 1)[key_code]
        weights = np.array(
            [settings.link_weights.get(str(n), 1.0) for n in link_names], dtype="float64"
        )
        return cls(
            accounts=pd.Index(nodes["key"].iloc[accounts].to_numpy(dtype=object), dtype=object),
            link_names=np.asarray(link_names, dtype=object),
            link_weights=weights,
            link=link,
            weight=weights[link] if len(weights) else np.zeros(len(links)),
            direct=rows,
            through=through,
            src=src,
            dst_account=dst_code[rows] - accounts.start,
            identifier=identifier.astype(np.int64),
            identifier_key=key_code,
            keys=nodes["key"],
            identifier_kind=node_kind[key_code],
            kind_names=kind_names,
            first_seen=pd.to_datetime(links["first_seen"]).to_numpy("datetime64[us]"),
            count=links["count"].to_numpy(np.int64),
        )


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a low-cardinality column (a categorical is fastest)."""
    categorical = values.astype("category")
    return (
        categorical.cat.codes.to_numpy(np.int64),
        np.asarray(categorical.cat.categories, dtype=object),
    )


def _identifier_usage(rows: _LinkRows) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deduplicated (account, identifier) uses sorted by identifier, and the identifier table."""
    node = rows.src[rows.through]
    ident = rows.identifier
    link_weight = rows.weight[rows.through]
    first_seen = rows.first_seen[rows.through]
    link = rows.link[rows.through]

    # An account may reach one identifier by several link kinds (an owner and a buyer of one
    # creator); keep its strongest use only, then sort by identifier for the pair generation.
    n_nodes = max(len(rows.accounts), 1)
    strength_rank = np.argsort(np.argsort(-rows.link_weights, kind="stable"), kind="stable")
    ranks = max(len(strength_rank), 1)
    order = np.argsort((ident * n_nodes + node) * ranks + strength_rank[link], kind="stable")
    node, ident, link_weight = node[order], ident[order], link_weight[order]
    first = np.ones(len(node), dtype=bool)
    first[1:] = (ident[1:] != ident[:-1]) | (node[1:] != node[:-1])
    usage = pd.DataFrame(
        {
            "node": node[first],
            "identifier": ident[first],
            "weight": link_weight[first],
            "first_seen": first_seen[order][first],
        }
    )

    users = np.bincount(usage["identifier"].to_numpy(), minlength=int(ident.max(initial=-1)) + 1)
    # The first sorted use of each identifier is its strongest (ties: lowest node).
    head = order[np.flatnonzero(np.r_[True, ident[1:] != ident[:-1]])[: len(users)]]
    kind = rows.identifier_kind[head]
    identifiers = pd.DataFrame(
        {
            "kind": _categorical(kind, rows.kind_names).remove_unused_categories(),
            "key": rows.keys.array.take(rows.identifier_key[head]),
            "link": _categorical(link[head], rows.link_names),
            "accounts": users.astype(np.int64),
        }
    )
    return usage, identifiers


def _counterparties(rows: _LinkRows) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs of accounts linked directly (``first < second``), each once."""
    n = max(len(rows.accounts), 1)
    src, dst = rows.src[rows.direct], rows.dst_account
    keep = src != dst
    a, b = np.minimum(src, dst)[keep], np.maximum(src, dst)[keep]
    pairs = np.unique(a * n + b)
    return pairs // n, pairs % n


def _judge_hubs(
    rows: _LinkRows,
    usage: pd.DataFrame,
    identifiers: pd.DataFrame,
    first: np.ndarray,
    second: np.ndarray,
    settings: DetectionSettings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hub test (:func:`algorithms.hubs.decide_hubs`) over identifiers and accounts.

    An account is a thing its direct counterparties use: a seller with thousands of buyers is
    judged as a parcel locker is. Both kinds are tested together, so a referral star's
    referees who share devices make it cohere, and locker users who pay each other count.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        ``identifiers`` with the test's columns added, and the test's rows for the accounts
        (aligned with ``rows.accounts``).
    """
    n_ids, n_accounts = len(identifiers), len(rows.accounts)
    partners = np.bincount(first, minlength=n_accounts) + np.bincount(second, minlength=n_accounts)
    uses = pd.DataFrame(
        {
            "node": np.concatenate([usage["node"].to_numpy(np.int64), first, second]),
            "thing": np.concatenate(
                [usage["identifier"].to_numpy(np.int64), n_ids + second, n_ids + first]
            ),
        }
    )
    kinds = identifiers["kind"].cat
    names = [str(name) for name in kinds.categories]
    names += [] if EntityKind.ACCOUNT in names else [EntityKind.ACCOUNT.value]
    kind = np.concatenate(
        [
            kinds.codes.to_numpy(np.int64),
            np.full(n_accounts, names.index(EntityKind.ACCOUNT), dtype=np.int64),
        ]
    )
    things = pd.DataFrame(
        {
            "kind": pd.Categorical.from_codes(kind, categories=names),  # type: ignore[call-overload]
            "accounts": np.concatenate([identifiers["accounts"].to_numpy(np.int64), partners]),
        }
    )
    # Only a shared thing can have spellings that matter; the rest are judged alone (no stem).
    shared = identifiers["accounts"].to_numpy() >= 2
    stems = pd.Series(np.full(n_ids + n_accounts, None, dtype=object))
    if shared.any():
        picked = identifiers.loc[shared]
        stems[np.flatnonzero(shared)] = spelling_stems(picked["kind"], picked["key"]).to_numpy()
    if (kind[:n_ids][shared] == names.index(EntityKind.ACCOUNT)).any():
        # An account is no spelling of another, but an identifier of kind Account (an account
        # reached by some other link) is one of the account itself: its own key is its stem.
        stems[n_ids:] = "Account " + rows.accounts.to_numpy(dtype=object).astype(str)
    test = decide_hubs(uses, things, stems=stems, n_accounts=n_accounts, settings=settings)
    columns = ["group_accounts", "fence", "cohesion", "hub"]
    for column in columns:
        identifiers[column] = test[column].to_numpy()[:n_ids]
    return identifiers, test.iloc[n_ids:][columns].reset_index(drop=True)


def _categorical(codes: np.ndarray, names: np.ndarray) -> pd.Categorical:
    """A categorical from integer codes: millions of repeated kind names cost one byte each."""
    return pd.Categorical.from_codes(codes, categories=list(names))  # type: ignore[call-overload]


def _identifier_pairs(usage: pd.DataFrame, identifiers: pd.DataFrame) -> pd.DataFrame:
    """Every pair of accounts sharing a non-hub identifier, with the pair's weight."""
    ident = usage["identifier"].to_numpy()
    users = identifiers["accounts"].to_numpy()[ident]
    linking = ~identifiers["hub"].to_numpy()[ident] & (users >= 2)
    node = usage["node"].to_numpy()[linking]
    link_weight = usage["weight"].to_numpy()[linking]
    ident, users = ident[linking], users[linking]

    # Within each identifier's run of n users, the user at position p pairs with the n-1-p
    # users after it; positions come from the run starts.
    starts = np.flatnonzero(np.r_[True, ident[1:] != ident[:-1]])
    run = np.repeat(starts, np.diff(np.r_[starts, len(ident)]))
    position = np.arange(len(ident)) - run
    partners = users - 1 - position
    left = np.repeat(np.arange(len(ident)), partners)
    first_pair = np.cumsum(partners) - partners
    right = left + 1 + (np.arange(len(left)) - np.repeat(first_pair, partners))

    weight = identifiers["rarity"].to_numpy()[ident[left]] * np.minimum(
        link_weight[left], link_weight[right]
    )
    return pd.DataFrame({"a": node[left], "b": node[right], "weight": weight, "shared": 1})


def _direct_pairs(
    rows: _LinkRows,
    hub: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    settings: DetectionSettings,
    engine: Engine,
) -> pd.DataFrame:
    """Referral and money/order links as undirected weighted pairs.

    A direct link weighs its kind's weight times the rarity of its busier end (a seller with
    many buyers ties none of them closely); a link touching a hub account ties nothing.
    Money/order links used ``cycle_min_transfers`` times or more that lie on a directed cycle
    of three or more accounts (money sent round and back, again and again) weigh
    ``cycle_boost`` times more.
    """
    n = len(rows.accounts)
    src, dst = rows.src[rows.direct], rows.dst_account
    link = rows.link[rows.direct]
    weight = rows.weight[rows.direct]
    keep = src != dst
    src, dst, link, weight = src[keep], dst[keep], link[keep], weight[keep]
    a, b = np.minimum(src, dst), np.maximum(src, dst)

    calm = ~hub[first] & ~hub[second]
    degree = np.bincount(first[calm], minlength=n) + np.bincount(second[calm], minlength=n)
    linking = ~hub[src] & ~hub[dst]
    repeated = rows.count[rows.direct][keep] >= settings.cycle_min_transfers
    flows = linking & repeated & (rows.link_names[link] == LinkKind.TRANSACTS_WITH)
    scc = strong_components(n, src[flows], dst[flows], engine=engine)
    in_cycle = flows & (scc[src] == scc[dst]) & (np.bincount(scc, minlength=n)[scc[src]] >= 3)
    weight = (
        weight
        * rarity(np.maximum(degree[src], degree[dst]), exponent=settings.rarity_exponent)
        * np.where(in_cycle, settings.cycle_boost, 1.0)
    )
    return pd.DataFrame({"a": a[linking], "b": b[linking], "weight": weight[linking], "shared": 0})


def _sum_pairs(pairs: list[pd.DataFrame], n_nodes: int) -> pd.DataFrame:
    """One edge per account pair: weights and shared-identifier counts summed."""
    a = np.concatenate([p["a"].to_numpy(np.int64) for p in pairs])
    b = np.concatenate([p["b"].to_numpy(np.int64) for p in pairs])
    weight = np.concatenate([p["weight"].to_numpy("float64") for p in pairs])
    shared = np.concatenate([p["shared"].to_numpy(np.int64) for p in pairs])
    keys, inverse = np.unique(a * max(n_nodes, 1) + b, return_inverse=True)
    return pd.DataFrame(
        {
            "a": keys // max(n_nodes, 1),
            "b": keys % max(n_nodes, 1),
            "weight": np.bincount(inverse, weights=weight, minlength=len(keys)),
            "shared": np.bincount(inverse, weights=shared, minlength=len(keys)).astype(np.int64),
        }
    )
