"""Ring evidence: the data behind each ring, as a typed :class:`~graphfraud.model.RingEvidence`.

The evidence is what an investigator checks and what explanations are written from: members
with roles and centrality, the identifiers they share (with how many accounts in the whole graph
use each), hub identifiers they touch, the links between them, the creators they order through,
the time span, the score contributions with the signals behind them, and the known-bad seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import networkx as nx
import numpy as np
import pandas as pd

from algorithms.projection import Projection
from algorithms.scoring import CONTRIBUTIONS, shared_identifiers
from graphfraud.model import LinkKind, RingEvidence
from graphfraud.settings import DetectionSettings

#: Most shared identifiers (and hubs) listed per ring; the totals are always given.
MAX_LISTED = 100

ORGANISER = "organiser"
MEMBER = "member"


@dataclass(frozen=True)
class RingTables:
    """Everything the evidence of a set of rings is built from (node ids throughout).

    Attributes
    ----------
    projection
        The account projection.
    rings
        Ring label per node (``0..K-1``), ``-1`` outside rings.
    centrality
        As :func:`algorithms.centrality.ring_centrality` returns, for these rings.
    signals, scores
        As :func:`algorithms.scoring.ring_signals` and ``score_rings`` return (index ``0..K-1``).
    created_at, labelled
        Creation time and known-bad flag per node.
    display
        Safe display text per identifier row (``None`` where there is none).
    """

    projection: Projection
    rings: np.ndarray
    centrality: pd.DataFrame
    signals: pd.DataFrame
    scores: pd.DataFrame
    created_at: np.ndarray
    labelled: np.ndarray
    display: np.ndarray


def ring_evidence(
    tables: RingTables, *, reference: float, settings: DetectionSettings
) -> list[RingEvidence]:
    """Build the evidence of every ring, in ring-label order.

    Parameters
    ----------
    tables
        The ring tables.
    reference
        The sharing surprise households reach, which the structure score was measured against.
    settings
        Windows and the organiser rule.

    Returns
    -------
    list[RingEvidence]
        One per ring; its typology is left for :func:`algorithms.typology.classify_ring`.

    Notes
    -----
    Every table is grouped by ring once, as records, and sliced per ring: the per-ring loop
    only assembles dicts, so thousands of rings take well under a second.
    """
    n_rings = len(tables.signals)
    shared = _shared_table(tables)
    members = _member_records(tables, settings, n_rings)
    shared_lists = _grouped_records(shared, _IDENT_FIELDS, n_rings, limit=MAX_LISTED)
    shared_total = np.bincount(shared["ring"].to_numpy(np.int64), minlength=n_rings)
    by_kind = _per_ring_counts(shared["ring"], shared["kind"], n_rings)
    covered = _covered_by_kind(tables, shared, n_rings)
    hub_table = _hub_table(tables)
    hubs = _grouped_records(hub_table, _IDENT_FIELDS, n_rings, limit=MAX_LISTED)
    # Creators members buy through, widely used ones included: a storefront with hundreds of
    # buyers, nearly all of them members, is still this ring's storefront.
    bought = pd.concat([shared, hub_table[hub_table["members"] >= 2]])
    creators = _grouped_records(
        _creator_table(tables, bought.sort_values(["ring", "members"], ascending=[True, False])),
        _CREATOR_FIELDS,
        n_rings,
    )
    links = _link_summaries(tables, n_rings)
    spans = _time_spans(tables, settings, n_rings)
    signal_rows = tables.signals.to_dict("records")
    score_rows = tables.scores.to_dict("records")

    out = []
    for ring in range(n_rings):
        signals, scores = signal_rows[ring], score_rows[ring]
        size = int(signals["size"])
        out.append(
            RingEvidence.model_validate(
                {
                    "size": size,
                    "members": members[ring],
                    "shared_identifiers": shared_lists[ring],
                    "shared_identifiers_total": int(shared_total[ring]),
                    "shared_by_kind": by_kind[ring],
                    "covered_by_kind": covered[ring],
                    "hubs": hubs[ring],
                    "links": {
                        "pairs_tied": int(signals["edges"]),
                        "pairs": size * (size - 1) // 2,
                        "density": round(float(signals["density"]), 4),
                        "members_on_cycle": int(signals["cycle_members"]),
                        **links[ring],
                    },
                    "creators": creators[ring],
                    "time_span": spans[ring],
                    "known_bad": {
                        "seeds": [m["account"] for m in members[ring] if m["known_bad"]],
                        "members_tied_to_seeds": int(signals["seed_neighbours"]),
                    },
                    "score": {
                        "total": round(float(scores["score"]), 4),
                        "contributions": {
                            name: round(float(scores[name]), 4) for name in CONTRIBUTIONS
                        },
                        "signals": {name: _plain(value) for name, value in signals.items()},
                        "reference": round(reference, 4),
                    },
                }
            )
        )
    return out


_IDENT_FIELDS = ("kind", "key", "display", "link", "members", "accounts")
_MEMBER_FIELDS = (
    "account",
    "role",
    "pagerank",
    "degree",
    "betweenness",
    "created_at",
    "known_bad",
)
_CREATOR_FIELDS = ("key", "display", "members", "only_creator_members", "owned_by")


def _grouped_records(
    frame: pd.DataFrame, fields: tuple[str, ...], n_rings: int, *, limit: int | None = None
) -> list[list[dict[str, Any]]]:
    """Rows of a frame sorted by ``ring`` as JSON-ready records, one list per ring."""
    # As objects, numbers become Python ints and floats, and missing values None: JSON-ready.
    chosen = frame[list(fields)].astype(object)
    records = cast("list[dict[str, Any]]", chosen.where(chosen.notna(), None).to_dict("records"))
    starts = np.searchsorted(frame["ring"].to_numpy(np.int64), np.arange(n_rings + 1))
    out = []
    for ring in range(n_rings):
        end = int(starts[ring + 1])
        if limit is not None:
            end = min(end, int(starts[ring]) + limit)
        out.append(records[starts[ring] : end])
    return out


def _per_ring_counts(ring: pd.Series, kind: pd.Series, n_rings: int) -> list[dict[str, int]]:
    out: list[dict[str, int]] = [{} for _ in range(n_rings)]
    counts = pd.DataFrame({"ring": ring.to_numpy(), "kind": kind.astype(str).to_numpy()})
    grouped = counts.groupby(["ring", "kind"]).size()
    for (r, k), value in zip(grouped.index.tolist(), grouped.tolist(), strict=True):
        out[int(r)][str(k)] = int(value)
    return out


def _shared_table(tables: RingTables) -> pd.DataFrame:
    shared = shared_identifiers(tables.projection, tables.rings)
    return _describe(shared, tables).sort_values(
        ["ring", "members", "accounts", "key"],
        ascending=[True, False, True, True],
        kind="stable",
    )


def _hub_table(tables: RingTables) -> pd.DataFrame:
    usage = tables.projection.usage
    ring = tables.rings[usage["node"].to_numpy()]
    ident = usage["identifier"].to_numpy()
    hit = (ring >= 0) & tables.projection.identifiers["hub"].to_numpy()[ident]
    hubs = pd.DataFrame({"ring": ring[hit], "identifier": ident[hit]})
    hubs = hubs.groupby(["ring", "identifier"]).size().rename("members").reset_index()
    hubs["accounts"] = tables.projection.identifiers["accounts"].to_numpy()[hubs["identifier"]]
    return _describe(hubs, tables).sort_values(
        ["ring", "members", "accounts"], ascending=[True, False, False], kind="stable"
    )


def _describe(frame: pd.DataFrame, tables: RingTables) -> pd.DataFrame:
    ident = frame["identifier"].to_numpy()
    # Take rows first: turning millions of keys into Python strings to pick a few is slow.
    picked = tables.projection.identifiers[["kind", "key", "link"]].iloc[ident]
    return frame.assign(
        kind=picked["kind"].astype(str).to_numpy(),
        key=picked["key"].astype(str).to_numpy(),
        link=picked["link"].astype(str).to_numpy(),
        display=tables.display[ident],
    )


def _creator_table(tables: RingTables, shared: pd.DataFrame) -> pd.DataFrame:
    """Creators shared by members: who owns them, how many members buy through them
    (``members``, owners not counted) and how many buy through no other creator."""
    projection = tables.projection
    creators = shared[shared["kind"] == "Creator"]
    uses = _member_uses(tables)
    is_creator = projection.identifiers["kind"].to_numpy()[uses["identifier"].to_numpy()]
    creator_uses = uses.loc[is_creator == "Creator", ["node", "identifier"]]
    # An owner's link to its own storefront is not a purchase.
    owns = projection.owners[["node", "identifier"]].assign(owner=True)
    purchases = creator_uses.merge(owns, on=["node", "identifier"], how="left")
    purchases = purchases[purchases["owner"].isna()]
    per_node = purchases.groupby("node").size()
    only = purchases[purchases["node"].map(per_node).to_numpy() == 1]
    only = only.assign(ring=tables.rings[only["node"].to_numpy()])
    only_counts = only.groupby(["ring", "identifier"]).size().rename("only_creator_members")
    owners = projection.owners.assign(ring=tables.rings[projection.owners["node"].to_numpy()])
    owners = owners[owners["ring"] >= 0].drop_duplicates(["ring", "identifier"])
    owned_by = pd.Series(
        projection.accounts.take(owners["node"].to_numpy()).to_numpy(),
        index=pd.MultiIndex.from_frame(owners[["ring", "identifier"]]),
        name="owned_by",
        dtype=object,
    )
    index = pd.MultiIndex.from_frame(creators[["ring", "identifier"]])
    owner = owned_by.reindex(index).to_numpy()
    return creators.assign(
        members=creators["members"].to_numpy() - pd.notna(owner),
        only_creator_members=only_counts.reindex(index, fill_value=0).to_numpy(),
        owned_by=owner,
    )


def _covered_by_kind(
    tables: RingTables, shared: pd.DataFrame, n_rings: int
) -> list[dict[str, int]]:
    """Per ring and identifier kind, the members using at least one shared identifier."""
    uses = _member_uses(tables).merge(
        shared[["ring", "identifier", "kind"]], on=["ring", "identifier"]
    )
    uses = uses.drop_duplicates(["node", "kind"])
    return _per_ring_counts(uses["ring"], uses["kind"], n_rings)


def _member_uses(tables: RingTables) -> pd.DataFrame:
    """The identifier uses of ring members: ``ring``, ``node``, ``identifier``."""
    usage = tables.projection.usage
    node = usage["node"].to_numpy()
    ring = tables.rings[node]
    member = ring >= 0
    return pd.DataFrame(
        {
            "ring": ring[member],
            "node": node[member],
            "identifier": usage["identifier"].to_numpy()[member],
        }
    )


def _internal_direct(tables: RingTables) -> pd.DataFrame:
    direct = tables.projection.direct
    src = direct["src"].to_numpy(np.int64)
    dst = direct["dst"].to_numpy(np.int64)
    ring = tables.rings[src]
    inside = (ring >= 0) & (ring == tables.rings[dst]) & (src != dst)
    return direct[inside].assign(ring=ring[inside]).sort_values("ring", kind="stable")


def _member_records(
    tables: RingTables, settings: DetectionSettings, n_rings: int
) -> list[list[dict[str, Any]]]:
    """Members of each ring, most central first, with their role."""
    centrality = tables.centrality.sort_values(
        ["ring", "pagerank", "node"], ascending=[True, False, True], kind="stable"
    )
    node = centrality["node"].to_numpy()
    ring = centrality["ring"].to_numpy(np.int64)
    size = np.bincount(ring, minlength=n_rings)[ring]
    pagerank = centrality["pagerank"].to_numpy()
    # PageRank sums to one in a ring, so its mean is 1/size; an organiser stands out from the
    # rest by ``organiser_z`` standard deviations (and by 5% at least: not in a clique).
    mean = 1.0 / size
    spread = np.sqrt(np.bincount(ring, (pagerank - mean) ** 2, minlength=n_rings)[ring] / size)
    margin = (1.0 + settings.organiser_margin) * mean
    organiser = pagerank >= np.maximum(margin, mean + settings.organiser_z * spread)
    frame = pd.DataFrame(
        {
            "ring": ring,
            "account": tables.projection.accounts.take(node).to_numpy(),
            "role": np.where(organiser, ORGANISER, MEMBER),
            "pagerank": np.round(pagerank, 6),
            "degree": centrality["degree"].to_numpy(np.int64),
            "betweenness": np.round(centrality["betweenness"].to_numpy(), 6),
            "created_at": _iso_array(tables.created_at[node]),
            "known_bad": tables.labelled[node],
        }
    )
    return _grouped_records(frame, _MEMBER_FIELDS, n_rings)


def _link_summaries(tables: RingTables, n_rings: int) -> list[dict[str, Any]]:
    """Direct links between members per kind, and the longest money cycle among them."""
    direct = _internal_direct(tables)
    out: list[dict[str, Any]] = [{"direct": [], "cycle": []} for _ in range(n_rings)]
    if direct.empty:
        return out
    per_kind = direct.groupby(["ring", "kind"], sort=True).agg(
        links=("src", "size"), count=("count", "sum"), amount=("amount", "sum")
    )
    ends = pd.concat(
        [
            direct[["ring", "kind", "src"]].set_axis(["ring", "kind", "node"], axis=1),
            direct[["ring", "kind", "dst"]].set_axis(["ring", "kind", "node"], axis=1),
        ]
    ).drop_duplicates()
    per_kind["members"] = ends.groupby(["ring", "kind"]).size()
    columns = zip(
        per_kind.index.tolist(),
        per_kind["links"].tolist(),
        per_kind["members"].tolist(),
        per_kind["count"].tolist(),
        per_kind["amount"].tolist(),
        strict=True,
    )
    for (ring, kind), n_links, members, count, amount in columns:
        out[int(ring)]["direct"].append(
            {
                "kind": str(kind),
                "links": int(n_links),
                "members": int(members),
                "count": int(count),
                "amount": round(float(amount), 2),
            }
        )
    flows = direct[direct["kind"] == LinkKind.TRANSACTS_WITH]
    ring_of = flows["ring"].to_numpy(np.int64)
    starts = np.searchsorted(ring_of, np.arange(n_rings + 1))
    for ring in np.unique(ring_of).tolist():
        out[ring]["cycle"] = _money_cycle(
            flows.iloc[starts[ring] : starts[ring + 1]], tables.projection.accounts
        )
    return out


def _money_cycle(flows: pd.DataFrame, keys: pd.Index) -> list[str]:
    """Accounts along the longest directed money/order cycle found among the flows, if any."""
    if len(flows) < 2:
        return []
    graph = nx.DiGraph()
    graph.add_edges_from(zip(flows["src"].tolist(), flows["dst"].tolist(), strict=True))
    best: list[int] = []
    for component in nx.strongly_connected_components(graph):
        if len(component) <= max(len(best), 1):
            continue
        cycle = nx.find_cycle(graph.subgraph(component))
        if len(cycle) > len(best):
            best = [int(edge[0]) for edge in cycle]
    return [str(keys[node]) for node in best]


def _time_spans(
    tables: RingTables, settings: DetectionSettings, n_rings: int
) -> list[dict[str, Any]]:
    node = tables.centrality["node"].to_numpy()
    created = pd.Series(tables.created_at[node]).groupby(tables.centrality["ring"].to_numpy())
    first = created.min().reindex(range(n_rings)).to_numpy("datetime64[us]")
    last = created.max().reindex(range(n_rings)).to_numpy("datetime64[us]")
    days = (last - first) / np.timedelta64(1, "D")
    first_text, last_text = _iso_array(first), _iso_array(last)
    burst = tables.signals["burst_members"].to_numpy()
    lockstep = tables.signals["lockstep_members"].to_numpy()
    return [
        {
            "created_first": first_text[r],
            "created_last": last_text[r],
            "created_within_days": None if np.isnan(days[r]) else round(float(days[r]), 2),
            "burst_members": int(burst[r]),
            "burst_days": settings.burst_days,
            "lockstep_members": int(lockstep[r]),
            "lockstep_hours": settings.lockstep_hours,
        }
        for r in range(n_rings)
    ]


def _plain(value: Any) -> Any:
    """A JSON-native version of a numpy / pandas scalar (None for missing values)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return int(number) if number.is_integer() else round(number, 6)
    return value if isinstance(value, str) else str(value)


def _iso_array(values: np.ndarray) -> list[str | None]:
    """ISO-8601 text per timestamp (seconds), None where missing."""
    stamps = np.asarray(values, dtype="datetime64[s]")
    text = np.datetime_as_string(stamps, unit="s")
    return [None if t == "NaT" else str(t) for t in text.tolist()]
