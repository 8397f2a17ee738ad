"""The pictures in documents: a ring's graph, its timeline, and the trend report's charts.

Each function draws one matplotlib figure and returns it as a PNG ``data:`` URI. Colours and
node shapes follow the interactive ring view (:data:`api.views.KIND_STYLES`), so a printed
case file and the page an investigator clicks through look alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from api.documents.render import figure, png_data_uri
from api.views import style_of
from graphfraud.network import HUB, RingNetwork

#: matplotlib's marker for each vis-network shape of the ring view.
MARKERS: dict[str, str] = {
    "dot": "o", "square": "s", "triangle": "^", "triangleDown": "v", "diamond": "D",
    "star": "*", "hexagon": "h",
}  # fmt: skip
#: Enough nodes to see a ring's structure on a page; bigger rings are drawn by importance.
MAX_DRAWN = 250
#: One colour per ring change, as the trend charts stack them.
CHANGE_COLOURS = {
    "new": "#e15759", "growing": "#f28e2b", "shrinking": "#76b7b2", "retired": "#bab0ac",
}  # fmt: skip


def ring_picture(network: RingNetwork, *, seed: int = 0) -> str:
    """A ring's graph: members and the identifiers they share, coloured by kind.

    The layout is a seeded spring layout, so the same ring draws the same way every time.
    """
    nodes = network.nodes.head(MAX_DRAWN)
    graph = nx.Graph()
    graph.add_nodes_from(nodes["id"])
    ends = zip(
        network.edges["src_kind"] + ":" + network.edges["src_key"],
        network.edges["dst_kind"] + ":" + network.edges["dst_key"],
        strict=True,
    )
    graph.add_edges_from((a, b) for a, b in ends if a in graph and b in graph)
    # Spring constant ~ 1/sqrt(n) spreads a ring over the page whatever its size.
    positions = nx.spring_layout(graph, seed=seed, k=1.5 / np.sqrt(max(len(graph), 1)))
    with figure(7.0, 4.6) as fig:
        ax = fig.add_subplot()
        ax.set_axis_off()
        nx.draw_networkx_edges(graph, positions, ax=ax, edge_color="#b0b0b0", width=0.6)
        for kind, group in nodes.groupby("kind", sort=True):
            style = style_of(str(kind))
            size = 40 + 260 * group["centrality"].clip(0, 1).to_numpy() / max(
                float(nodes["centrality"].max()), 1e-9
            )
            ax.scatter(
                [positions[n][0] for n in group["id"]],
                [positions[n][1] for n in group["id"]],
                s=size,
                c=style.colour,
                marker=MARKERS.get(style.shape, "o"),
                edgecolors=["#1b1b1b" if role == HUB else "white" for role in group["role"]],
                linewidths=0.8,
                label=f"{style.nouns} ({len(group)})",
                zorder=3,
            )
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
        if network.truncated:
            ax.set_title(
                f"{len(nodes)} of {network.total_nodes} nodes, most important first", fontsize=8
            )
        return png_data_uri(fig)


def timeline_chart(created: pd.Series, first_use: pd.Series, events: pd.DataFrame) -> str:
    """When members were created, when shared identifiers were first used, and members'
    activity (events per week), on one time axis."""
    with figure(7.0, 2.4) as fig:
        ax = fig.add_subplot()
        if len(events) and events["time"].notna().any():
            weekly = events.dropna(subset=["time"]).set_index("time")["event_id"]
            counts = weekly.resample("W").count()
            ax.bar(counts.index, counts.to_numpy(), width=6, color="#d9dee3", label="events/week")
        top = max(ax.get_ylim()[1], 1.0)
        ax.scatter(created, np.full(len(created), top * 0.8), marker="|", s=200,
                   color="#4e79a7", label="member created")  # fmt: skip
        ax.scatter(first_use, np.full(len(first_use), top * 0.5), marker="|", s=200,
                   color="#e15759", label="shared identifier first used")  # fmt: skip
        # Above the axes: inside them it covered the tallest weeks' bars and the marks.
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False, ncols=3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7)
        fig.autofmt_xdate()
        return png_data_uri(fig)


def stacked_bars(
    periods: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str
) -> str:
    """Bars per period, stacked by series (ring changes, or typologies)."""
    with figure(4.6, 2.8) as fig:
        ax = fig.add_subplot()
        # One filled step outline per series, not a patch per bar: years of weeks are
        # hundreds of bars, and matplotlib takes milliseconds over each patch.
        edges = np.arange(len(periods) + 1) - 0.5
        bottom = np.zeros(len(periods))
        for name, values in series.items():
            top = bottom + np.asarray(values, dtype=float)
            ax.stairs(top, edges, baseline=bottom, fill=True, label=name,
                      color=CHANGE_COLOURS.get(name))  # fmt: skip
            bottom = top
        _finish(ax, title, periods, legend=bool(series))
        return png_data_uri(fig)


def bars_and_line(
    periods: Sequence[str], bars: Sequence[float], line: Sequence[float], *,
    bar_label: str, line_label: str, title: str,
) -> str:  # fmt: skip
    """Bars per period on the left axis and a line on the right (GMV and accounts)."""
    with figure(4.6, 2.8) as fig:
        ax = fig.add_subplot()
        at = np.arange(len(periods))
        ax.stairs(bars, np.arange(len(periods) + 1) - 0.5, fill=True, color="#4e79a7",
                  label=bar_label)  # fmt: skip
        right = ax.twinx()
        right.plot(at, line, color="#e15759", marker="o", markersize=3, label=line_label)
        right.set_ylim(bottom=0)
        right.tick_params(labelsize=7)
        right.set_ylabel(line_label, fontsize=7)
        ax.set_ylabel(bar_label, fontsize=7)
        _finish(ax, title, periods, legend=False)
        return png_data_uri(fig)


def funnel_chart(stages: Mapping[str, int]) -> str:
    """The verdict funnel: rings at each stage, widest first."""
    with figure(4.6, 2.0) as fig:
        ax = fig.add_subplot()
        names = list(stages)[::-1]
        values = [stages[name] for name in names]
        ax.barh(names, values, color=["#59a14f", "#e15759", "#f28e2b", "#4e79a7"][-len(names) :])
        for y, value in enumerate(values):
            ax.text(value, y, f" {value:,}", va="center", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
        ax.set_title("Verdict funnel (rings)", fontsize=9, loc="left")
        return png_data_uri(fig)


def _finish(ax: Axes, title: str, periods: Sequence[str], *, legend: bool) -> None:
    ax.set_title(title, fontsize=9, loc="left")
    ax.spines[["top"]].set_visible(False)
    ax.tick_params(labelsize=7)
    # A label per period is unreadable past a dozen: every n-th. Only those get a tick, as
    # matplotlib draws each tick at a cost: years of weeks took seconds.
    step = max(1, len(periods) // 12)
    ax.set_xticks(range(0, len(periods), step), list(periods)[::step], rotation=45, ha="right")
    ax.set_xlim(-0.6, len(periods) - 0.4)
    if legend:
        # Under the rotated period labels: over the bars it would hide some.
        ax.legend(fontsize=7, frameon=False, ncols=4, loc="upper center",
                  bbox_to_anchor=(0.5, -0.32))  # fmt: skip
