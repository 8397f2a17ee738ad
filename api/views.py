"""HTML pages: the index of top rings and the interactive view of one ring (pyvis).

A ring view is a pyvis network rendered into this package's own page, which takes
vis-network's script and styles from the pyvis package (the script served by this server, the
styles inlined): the page works with no network and never fetches anything from elsewhere
(pyvis's stock template pulls Bootstrap from a CDN). Nodes are coloured
and shaped by entity kind and sized by centrality; organisers, known-bad accounts and hub
identifiers are marked; hover text gives the evidence. Physics runs until the layout
stabilises and is then switched off; the page sets ``window.ringView.stabilised`` then, so a
test (or a person) can tell it has settled.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd
import pyvis
from jinja2 import Environment, PackageLoader, select_autoescape
from pyvis.network import Network

from algorithms.evidence import ORGANISER
from api.schemas import view_path
from api.workbench import (
    FIRST_KINDS,
    GROUP,
    WIDE_USE_ACCOUNTS,
    Found,
    TimelineEvent,
    grouped_network,
    timeline,
)
from graphfraud.model import (
    ACCOUNT_LINKS,
    RING_SORTS,
    AuditEntry,
    Note,
    Ring,
    RingMember,
    RingPage,
    RingStatus,
)
from graphfraud.model import EntityKind as K
from graphfraud.network import HUB, OUTSIDE, SHARED, RingNetwork

VIS_ASSETS = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"


@dataclass(frozen=True)
class KindStyle:
    """How one entity kind is drawn and named."""

    colour: str
    shape: str
    noun: str
    nouns: str


KIND_STYLES: dict[str, KindStyle] = {
    K.ACCOUNT: KindStyle("#4e79a7", "dot", "account", "accounts"),
    K.DEVICE: KindStyle("#f28e2b", "square", "device", "devices"),
    K.ADDRESS: KindStyle("#59a14f", "triangle", "address", "addresses"),
    K.PAYMENT_INSTRUMENT: KindStyle(
        "#e15759", "diamond", "payment instrument", "payment instruments"
    ),
    K.CREATOR: KindStyle("#b07aa1", "star", "creator storefront", "creator storefronts"),
    K.IP: KindStyle("#76b7b2", "triangleDown", "IP address", "IP addresses"),
    K.PHONE: KindStyle("#edc948", "hexagon", "phone", "phones"),
    K.EMAIL: KindStyle("#ff9da7", "square", "email", "emails"),
    GROUP: KindStyle("#4e79a7", "dot", "group of members", "groups of members"),
}
#: The legend's drawing of each vis-network shape, in a 16 by 16 box.
SHAPE_SVG: dict[str, str] = {
    "dot": '<circle cx="8" cy="8" r="6"/>',
    "square": '<rect x="2" y="2" width="12" height="12"/>',
    "triangle": '<polygon points="8,1 15,14 1,14"/>',
    "triangleDown": '<polygon points="1,2 15,2 8,15"/>',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8"/>',
    "star": '<polygon points="8,1 10,6 15,6 11,9 13,15 8,11 3,15 5,9 1,6 6,6"/>',
    "hexagon": '<polygon points="4,2 12,2 15,8 12,14 4,14 1,8"/>',
}

#: Kinds a mapping declares beyond the built-in ones.
OTHER_KIND = KindStyle("#9c755f", "dot", "other identifier", "other identifiers")

ORGANISER_BORDER = "#1b1b1b"
KNOWN_BAD_BORDER = "#d62728"
DIRECT_LINK_COLOUR = "#7b3294"
LINK_COLOUR = "#b0b0b0"
MIN_SIZE, MAX_SIZE = 10.0, 42.0

#: vis-network options: Barnes-Hut settles big rings in a few hundred iterations; the page
#: switches physics off once they are done.
NETWORK_OPTIONS: dict[str, Any] = {
    "physics": {
        "solver": "barnesHut",
        "barnesHut": {
            "gravitationalConstant": -6000,
            "springLength": 110,
            "springConstant": 0.04,
            "avoidOverlap": 0.2,
        },
        "stabilization": {"enabled": True, "iterations": 300, "updateInterval": 25, "fit": True},
    },
    "interaction": {"hover": True, "tooltipDelay": 100, "navigationButtons": False},
    "edges": {"smooth": False, "color": {"inherit": False}},
    "nodes": {"font": {"size": 12, "face": "sans-serif"}},
}
#: The grouped view is laid out in rows (devices and cards, other identifiers, groups): it is
#: placed at once, with no physics to wait for.
GROUPED_OPTIONS: dict[str, Any] = {
    **NETWORK_OPTIONS,
    # Rows of dozens of nodes are drawn small: keep their labels however far out the fit zooms.
    "nodes": {
        "font": {"size": 14, "face": "sans-serif"},
        "scaling": {"label": {"drawThreshold": 1}},
    },
    "physics": {"enabled": False},
    "layout": {
        "hierarchical": {
            "enabled": True,
            "direction": "UD",
            "levelSeparation": 180,
            "nodeSpacing": 110,
            "sortMethod": "directed",
            "shakeTowards": "roots",
        }
    },
}


def style_of(kind: str) -> KindStyle:
    """The drawing style of an entity kind."""
    return KIND_STYLES.get(kind, OTHER_KIND)


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


#: Where the pages load vis-network from: this server, with the version in the path so a
#: browser may keep it for good (and reuse its compiled code from one ring to the next).
VIS_SCRIPT_URL = f"/assets/{VIS_ASSETS.name}/vis-network.min.js"


@cache
def vis_script() -> str:
    """vis-network's script, as the pages load it from :data:`VIS_SCRIPT_URL`."""
    return (VIS_ASSETS / "vis-network.min.js").read_text(encoding="utf-8")


@cache
def _vis_styles() -> str:
    """vis-network's style sheet, to inline (it is small)."""
    return (VIS_ASSETS / "vis-network.css").read_text(encoding="utf-8")


def page_url(path: str, key: str | None, **params: Any) -> str:
    """A link to another page, carrying the API key the browser came with."""
    query = {
        name: str(value).lower() if isinstance(value, bool) else value
        for name, value in params.items()
        if value is not None and value is not False
    }
    if key:
        query["key"] = key
    return f"{path}?{urlencode(query)}" if query else path


@dataclass(frozen=True)
class Verdicts:
    """The verdict side of a ring page: the note thread, the audit trail and the forms.

    ``form_token`` is the cross-site request forgery token of the page's forms (see
    :mod:`api.csrf`); ``editable`` says whether the key may change the verdict (a read-only
    key's page shows no verdict forms, only the search box).
    """

    notes: list[Note]
    audit: list[AuditEntry]
    form_token: str
    editable: bool


def render_ring_view(
    network: RingNetwork,
    *,
    summary: str,
    verdicts: Verdicts,
    key: str | None = None,
    surroundings: bool = False,
    grouped: bool = False,
    exports: list[tuple[str, str]] | None = None,
) -> str:
    """The interactive HTML page of one ring.

    Parameters
    ----------
    network
        The ring's graph (see :func:`graphfraud.network.ring_network`).
    summary
        The ring's explanation in words, shown above the graph.
    verdicts
        Notes, audit trail, the form token and whether the verdict forms are shown.
    key
        API key to carry in the page's links (when the browser sent one as ``?key=``).
    surroundings
        Whether ``network`` includes the surroundings (for the toggle link).
    grouped
        Draw members grouped by the identifier that ties them (:func:`grouped_network`).
    exports
        Links to the ring's case file, as (label, URL) pairs.

    Returns
    -------
    str
        A self-contained HTML document.
    """
    ring = network.ring
    events = timeline(network)
    shown = grouped_network(network) if grouped else network
    times: dict[str, list[int]] = {}
    group_of = _group_of(shown)
    for event in events:
        node = group_of.get(event.node, event.node)
        times.setdefault(node, []).append(_ms(event.time))
    drawing = _draw(shown, times=times, levels=grouped)
    nodes, edges, _, _, _, _ = drawing.get_network_data()
    kinds = sorted(set(shown.nodes["kind"]))
    ring_path = view_path(ring.ring_id)
    ring_url = quote(ring.ring_id, safe="")
    members = sorted(m.account for m in ring.members)
    cycle = [f"{K.ACCOUNT}:{account}" for account in ring.evidence.links.cycle]
    return (
        _templates()
        .get_template("ring_view.html")
        .render(
            ring=ring,
            summary=summary,
            nodes=nodes,
            edges=edges,
            options=GROUPED_OPTIONS if grouped else NETWORK_OPTIONS,
            vis_script_url=VIS_SCRIPT_URL,
            vis_styles=_vis_styles(),
            legend=[(kind, style_of(kind), SHAPE_SVG[style_of(kind).shape]) for kind in kinds],
            shown=len(network.nodes),
            total=network.total_nodes,
            surroundings=surroundings,
            grouped=grouped,
            toggle_url=page_url(
                ring_path, key, surroundings=not surroundings, view=_view_name(grouped)
            ),
            view_url=page_url(
                ring_path, key, surroundings=surroundings, view=_view_name(not grouped)
            ),
            index_url=page_url("/", key),
            graph_url=page_url(f"/rings/{ring_url}/graph.json", key),
            neighbours_url=page_url(f"/rings/{ring_url}/neighbours", key),
            form_url=lambda action: page_url(f"/rings/{ring_url}/{action}", key),
            search_url=page_url("/search", key),
            exports=exports or [],
            verdicts=verdicts,
            statuses=list(RingStatus),
            members=members,
            cycle=cycle,
            timeline=_timeline_marks(events),
        )
    )


def render_expansion(network: RingNetwork, *, parent: str, hidden: int) -> dict[str, Any]:
    """The nodes and links one expansion adds to a page, in vis-network's form.

    ``hidden`` neighbours left out become one counted node linked to ``parent``.
    """
    nodes, edges, _, _, _, _ = _draw(network, times={}, levels=False).get_network_data()
    if hidden:
        counted = f"{parent}#more"
        nodes.append(
            {
                "id": counted,
                "label": f"+{hidden:,} more",
                "shape": "box",
                "kind": "more",
                "role": HUB,
                "hub": True,
                "times": [],
                "title": f"{hidden:,} more neighbours of {parent}: expand with hubs shown",
                "color": {"background": "#eeeeee", "border": ORGANISER_BORDER},
                "shapeProperties": {"borderDashes": [5, 4]},
            }
        )
        edges.append({"from": parent, "to": counted, "color": LINK_COLOUR, "dashes": True})
    return {"nodes": nodes, "edges": edges, "hidden": hidden}


def _view_name(grouped: bool) -> str:
    return "grouped" if grouped else "plain"


def _group_of(network: RingNetwork) -> dict[str, str]:
    """Member id → the id of the group holding it (grouped views only)."""
    if "grouped" not in network.nodes:
        return {}
    groups = network.nodes.loc[network.nodes["kind"] == GROUP, ["id", "grouped"]]
    return {
        f"{K.ACCOUNT}:{account}": str(group)
        for group, accounts in groups.itertuples(index=False)
        for account in accounts
    }


def _ms(time: pd.Timestamp) -> int:
    stamp = time.tz_localize(None) if time.tzinfo else time
    return int(stamp.value // 1_000_000)


def _timeline_marks(events: list[TimelineEvent]) -> dict[str, Any]:
    """The timeline strip: each event's place along it (0-100 %), first and last time."""
    if not events:
        return {"marks": [], "first": None, "last": None}
    first, last = events[0].time, events[-1].time
    span = max((last - first).total_seconds(), 1.0)
    return {
        "marks": [
            {
                "x": round(100 * (event.time - first).total_seconds() / span, 2),
                "row": 0 if event.kind == K.ACCOUNT else 1,
                "ms": _ms(event.time),
                "node": event.node,
                "text": f"{event.time:%Y-%m-%d %H:%M} {event.text}",
                "colour": style_of(event.kind).colour,
            }
            for event in events
        ],
        "first": first,
        "last": last,
        "first_ms": _ms(first),
        "last_ms": _ms(last),
    }


@dataclass(frozen=True)
class IndexView:
    """What the index page shows besides the rings: the filters as given, their errors, and
    the choices the form offers."""

    query: dict[str, str]
    errors: list[str]
    typologies: list[str]
    assignees: list[str]
    form_token: str


def render_index(
    page: RingPage,
    *,
    view: IndexView,
    key: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> str:
    """The HTML index of rings matching the filters, each linking to its view."""
    rows = [
        {
            "ring": ring,
            "url": page_url(view_path(ring.ring_id), key),
            "reason": _first_reason(ring),
        }
        for ring in page.rings
    ]
    more = offset + limit < page.total
    return (
        _templates()
        .get_template("index.html")
        .render(
            rows=rows,
            total=page.total,
            first=offset + 1,
            last=offset + len(rows),
            view=view,
            key=key,
            statuses=list(RingStatus),
            sorts=RING_SORTS,
            search_url=page_url("/search", key),
            reset_url=page_url("/", key),
            previous_url=(
                page_url("/", key, **view.query, offset=max(offset - limit, 0)) if offset else None
            ),
            next_url=page_url("/", key, **view.query, offset=offset + limit) if more else None,
        )
    )


def render_search(
    query: str, hits: list[Found], *, key: str | None, form_token: str, note: str = ""
) -> str:
    """The page of what a search found, each hit leading to its ring where it has one."""
    rows = [
        {"hit": hit, "url": page_url(view_path(hit.ring_id), key) if hit.ring_id else None}
        for hit in hits
    ]
    return (
        _templates()
        .get_template("search.html")
        .render(
            query=query,
            hits=rows,
            note=note,
            key=key,
            form_token=form_token,
            search_url=page_url("/search", key),
            index_url=page_url("/", key),
        )
    )


def render_error(status: int, message: str, *, key: str | None) -> str:
    """A page saying what went wrong, for a browser (never a JSON body or a trace)."""
    return (
        _templates()
        .get_template("error.html")
        .render(status=status, message=message, index_url=page_url("/", key))
    )


def _first_reason(ring: Ring) -> str:
    reasons = ring.evidence.typology.reasons or [""]
    return str(reasons[0])


def _draw(network: RingNetwork, *, times: dict[str, list[int]], levels: bool) -> Network:
    drawing = Network(directed=True, cdn_resources="in_line")
    drawing.options = NETWORK_OPTIONS
    nodes, edges = network.nodes, network.edges
    ties = _ties_by_member(network)
    members = {member.account: member for member in network.ring.members}
    in_ring = nodes["in_ring"].to_numpy(dtype=bool)
    centrality = nodes["centrality"].to_numpy(dtype=float)
    # Sizes are relative to the largest of the kind of node: members, identifiers.
    top = {side: max(centrality[in_ring == side].max(initial=0.0), 1e-9) for side in (True, False)}
    row: Any
    for row in nodes.itertuples(index=False):
        style = style_of(str(row.kind))
        border, width = style.colour, 1
        dashes: bool | list[int] = False
        if row.role == ORGANISER:
            border, width = ORGANISER_BORDER, 4
        if isinstance(row.label, str):
            border, width = KNOWN_BAD_BORDER, 4
        if drawn_as_hub(row):
            border, width, dashes = ORGANISER_BORDER, 3, [5, 4]
        share = math.sqrt(float(row.centrality) / top[bool(row.in_ring)])
        extra: dict[str, Any] = {"level": _level(row)} if levels else {}
        if row.kind == GROUP:
            extra["accounts"] = list(row.grouped)
        drawing.add_node(
            str(row.id),
            label=_label(row),
            shape=style.shape,
            color={"background": style.colour, "border": border},
            borderWidth=width,
            shapeProperties={"borderDashes": dashes},
            size=round(MIN_SIZE + (MAX_SIZE - MIN_SIZE) * share, 1),
            opacity=0.4 if row.role == OUTSIDE else 1.0,
            title=_node_text(row, network.ring, members, ties.get(str(row.id), Counter())),
            kind=str(row.kind),
            role=str(row.role),
            hub=drawn_as_hub(row),
            times=times.get(str(row.id), []),
            **extra,
        )
    for row in edges.itertuples(index=False):
        direct = row.kind in ACCOUNT_LINKS
        drawing.add_edge(
            f"{row.src_kind}:{row.src_key}",
            f"{row.dst_kind}:{row.dst_key}",
            color=DIRECT_LINK_COLOUR if direct else LINK_COLOUR,
            width=round(1 + math.log1p(float(row.count)), 1),
            arrows="to" if direct else "",
            dashes=False,
            title=_edge_text(row),
        )
    return drawing


def _label(row: Any) -> str:
    if row.kind == GROUP:  # "12 accounts" over what ties them
        count, _, tie = str(row.key).partition("\n")
        return f"{count}\n{_short(tie)}" if tie else count
    return _short(str(row.key) if row.in_ring else _name(row))


def drawn_as_hub(row: Any) -> bool:
    """Detection's hubs, and identifiers so widely used that they are hubs wherever drawn."""
    if row.role == HUB:
        return True
    return bool(
        row.kind != K.ACCOUNT and not pd.isna(row.accounts) and row.accounts >= WIDE_USE_ACCOUNTS
    )


def _level(row: Any) -> int:
    """The row of the grouped layout: shared devices and cards on top, then the other
    identifiers, then the groups of members."""
    if row.kind == GROUP:
        return 2
    return 0 if row.kind in FIRST_KINDS else 1


def _ties_by_member(network: RingNetwork) -> dict[str, Counter[str]]:
    """Per member, how many ring identifiers (shared or hub) of each kind it uses."""
    tying = network.nodes.loc[network.nodes["role"].isin([SHARED, HUB]), ["id", "kind"]]
    kind_of = dict(zip(tying["id"], tying["kind"], strict=True))
    out: dict[str, Counter[str]] = {}
    for row in network.edges.itertuples(index=False):
        target = f"{row.dst_kind}:{row.dst_key}"
        if target in kind_of:
            out.setdefault(f"{row.src_kind}:{row.src_key}", Counter())[kind_of[target]] += 1
    return out


def _node_text(row: Any, ring: Ring, members: dict[str, RingMember], ties: Counter[str]) -> str:
    if row.kind == GROUP:
        accounts = list(row.grouped)
        lines = [
            str(row.key).replace("\n", " "),
            ", ".join(accounts[:12]) + (" …" if len(accounts) > 12 else ""),
        ]
        if isinstance(row.label, str):
            lines.append(row.label)
        if not pd.isna(row.created_at):
            lines.append(f"first created {pd.Timestamp(row.created_at):%Y-%m-%d %H:%M}")
        return "\n".join(lines)
    if row.in_ring:
        member = members[row.key]
        lines = [
            f"Account {row.key} — {row.role} of ring {ring.ring_id}",
            f"PageRank in the ring {member.pagerank:.3f}, tied to {member.degree} members",
        ]
        if not pd.isna(row.created_at):
            lines.append(f"created {pd.Timestamp(row.created_at):%Y-%m-%d %H:%M}")
        if isinstance(row.label, str):
            lines.append(f"known bad: labelled {row.label!r}")
        if ties:
            uses = ", ".join(
                f"{n} {style_of(k).nouns if n > 1 else style_of(k).noun}" for k, n in ties.items()
            )
            lines.append(f"uses shared identifiers: {uses}")
        return "\n".join(lines)
    noun = style_of(str(row.kind)).noun
    lines = [f"{noun.capitalize()} {_name(row)}"]
    if _name(row) != row.key:
        lines.append(f"key {row.key}")
    lines.append(f"linked to {row.members} of {ring.size} ring members")
    if not pd.isna(row.accounts):
        lines.append(f"used by {row.accounts} accounts in the whole graph")
    if drawn_as_hub(row):
        lines.append("hub: too widely used to tie accounts together; detection ignores it")
    if row.role == OUTSIDE:
        lines.append("outside the ring")
    return "\n".join(lines)


def _edge_text(row: Any) -> str:
    if row.src_kind == GROUP:  # a group's link counts its members (or their payments)
        target = f"group {row.dst_key}" if row.dst_kind == GROUP else str(row.dst_key)
        text = f"group {row.src_key} {row.kind} {target}: {int(row.count)} links"
    else:
        text = f"{row.src_key} {row.kind} {row.dst_key}\nseen {int(row.count)} times"
    if not pd.isna(row.first_seen):
        first, last = pd.Timestamp(row.first_seen), pd.Timestamp(row.last_seen)
        text += f" from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if not pd.isna(row.amount):
        text += f"\namount {float(row.amount):,.2f}"
    return text


def _name(row: Any) -> str:
    """What a node is called: its display form where it has one, else its key."""
    return str(row.key) if pd.isna(row.display) else str(row.display)


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
