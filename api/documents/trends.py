"""The trend report: fraud rings over time, for the managers who answer for them.

Per period (ISO week, Monday to Sunday, or calendar month; UTC): rings new, growing, shrinking
and retired, by typology; accounts and GMV affected; the verdict funnel and time to verdict;
emerging patterns; and what changed since the period before. The headline is the latest period
of the window against the one before it; the charts and tables behind it cover the window.

Definitions (the report prints them too):

- a ring is **new** in the period in which it was first detected; **growing** / **shrinking**
  when its size at its last run in the period is above / below its size at its last run
  before; **retired** when a run in the period retired it.
- **accounts affected** are members of rings detected by the end of the window that made at
  least one event in the period; **GMV affected** sums the amounts of those events.
- the **funnel** counts the rings detected by the end of a period by the status they had then
  (from the audit trail); **time to verdict** runs from a ring's first detection to its first
  ``confirmed`` or ``benign`` status.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from api.documents import charts
from api.documents.render import html_to_pdf, render_html
from api.documents.tables import all_rings, audit_frame, history_frame
from graphfraud import __version__
from graphfraud.errors import InputError
from graphfraud.model import Ring, RingStatus
from graphfraud.store import GraphStore

#: Periods a report holds at most (the latest of its window): ten years of weeks.
MAX_PERIODS = 530
#: Entries in each "most exposed" or "fastest growing" list.
TOP = 5
#: Verdicts that close a case.
DECIDED = (RingStatus.CONFIRMED.value, RingStatus.BENIGN.value)
#: The changes the charts stack, in order.
CHANGES = ("new", "growing", "shrinking", "retired")


class Period(StrEnum):
    """How the report cuts time."""

    WEEK = "week"
    MONTH = "month"

    @property
    def freq(self) -> str:
        # Weeks end on Sunday: ISO weeks, Monday to Sunday.
        return "W-SUN" if self is Period.WEEK else "M"


class ReportFormat(StrEnum):
    """What a trend report is written as."""

    HTML = "html"
    PDF = "pdf"
    MD = "md"


@dataclass(frozen=True)
class TrendInputs:
    """What a trend report reads from a store: every ring (with its evidence), what each run
    did to each ring (``api.documents.tables.HISTORY_COLUMNS``), the audit trail
    (``AUDIT_COLUMNS``) and the events of ring members (``EVENT_COLUMNS``)."""

    rings: list[Ring]
    history: pd.DataFrame
    audit: pd.DataFrame
    events: pd.DataFrame
    runs: int


@dataclass(frozen=True)
class TrendReport:
    """A trend report's figures.

    ``periods`` has one row per period, oldest first, with the columns of
    :data:`PERIOD_COLUMNS`; ``by_typology`` the ring changes per period and typology;
    ``headline`` the latest period's figures, ``previous`` those of the period before.
    """

    period: Period
    start: datetime
    end: datetime
    periods: pd.DataFrame
    by_typology: pd.DataFrame
    headline: dict[str, Any]
    previous: dict[str, Any]
    emerging: dict[str, list[tuple[str, str]]]
    changed: list[str]
    runs: int
    made_at: datetime = field(default_factory=lambda: datetime.now(UTC))


PERIOD_COLUMNS = (
    "period", "start", "end", "runs", *CHANGES, "returned", "active", "accounts", "gmv",
    "new_status", "under_review", "confirmed", "benign", "decided", "days_to_verdict",
)  # fmt: skip


def gather(store: GraphStore) -> TrendInputs:
    """Read what a trend report needs from ``store``."""
    rings = all_rings(store)
    history = history_frame(store.ring_history(ring.ring_id) for ring in rings)
    members = sorted({account for ring in rings for account in ring.accounts})
    events = store.events(accounts=members) if members else store.events(accounts=[""])
    return TrendInputs(
        rings=rings,
        history=history,
        audit=audit_frame(store.audit()),
        events=events,
        runs=len(store.runs()),
    )


def trend_report(
    store: GraphStore,
    *,
    period: Period | str = Period.WEEK,
    start: Any = None,
    end: Any = None,
) -> TrendReport:
    """The trend report of ``store`` from ``start`` up to ``end`` (default: all the data)."""
    return trend_figures(gather(store), period=Period(period), start=start, end=end)


def trend_figures(
    inputs: TrendInputs, *, period: Period, start: Any = None, end: Any = None
) -> TrendReport:
    """Compute a trend report from what :func:`gather` read.

    Parameters
    ----------
    inputs
        Rings, history, audit trail and events.
    period
        Weeks or months.
    start, end
        The window: from the start of the period holding ``start`` up to the end of the period
        holding ``end`` (exclusive). Default: the first and last time in the history, the audit
        trail and the events. At most the latest ``MAX_PERIODS`` periods.
    """
    history = inputs.history.assign(time=_naive(inputs.history["time"]))
    audit = inputs.audit.assign(time=_naive(inputs.audit["time"]))
    events = inputs.events.assign(time=_naive(inputs.events["time"]))
    known = pd.concat([history["time"], audit["time"], events["time"]]).dropna()
    if known.empty:
        raise InputError("nothing to report on: the store has no detection runs and no events")
    given_first = None if start is None else _time(start, "--from")
    given_last = None if end is None else _time(end, "--to")
    if given_first is not None and given_last is not None and given_last < given_first:
        raise InputError(
            f"the report ends ({given_last:%Y-%m-%d}) before it starts ({given_first:%Y-%m-%d})"
        )
    # An open end is the first or last record, unless that lies beyond the end given. Ends
    # beyond the records are brought to within a month of them: nothing is there to count.
    margin = pd.Timedelta(days=31)
    low, high = known.min() - margin, known.max() + margin
    first = min(max(given_first, low), high) if given_first is not None else known.min()
    last = min(max(given_last, low), high) if given_last is not None else known.max()
    first, last = (last, last) if given_first is None and last < first else (first, last)
    first, last = (first, first) if given_last is None and last < first else (first, last)
    # One period before the window: the headline compares with it.
    # An end given is exclusive: a window to 2026-03-01 ends with February.
    closing = last - pd.Timedelta(microseconds=1) if given_last is not None else last
    closing = max(closing, first)
    spans = pd.period_range(pd.Period(first, period.freq) - 1, pd.Period(closing, period.freq))
    # A typo in a year must not make a report of thousands of pages: the latest periods.
    spans = spans[-(MAX_PERIODS + 1) :]
    typology = {ring.ring_id: ring.typology for ring in inputs.rings}
    window_end = spans[-1].end_time.ceil("s")
    detected_by_end = set(history.loc[history["time"] < window_end, "ring_id"])
    members = {
        account: ring.ring_id
        for ring in sorted(inputs.rings, key=lambda r: r.ring_id, reverse=True)
        if ring.ring_id in detected_by_end
        for account in ring.accounts
    }
    # Each record is put in its period once (one search over the period edges), and every
    # figure is a group-by over that: a loop of filters per period took seconds for years of
    # weeks.
    edges = pd.DatetimeIndex([span.start_time for span in spans] + [window_end])
    history = history.assign(p=_period_of(history["time"], edges))
    audit = audit.assign(p=_period_of(audit["time"], edges))
    events = events.assign(p=_period_of(events["time"], edges))
    labels = [_label(span, period) for span in spans]
    periods, changes = _period_rows(history, audit, events, members, edges)
    periods.insert(0, "period", labels)
    periods.insert(1, "start", [span.start_time for span in spans])
    periods.insert(2, "end", list(edges[1:]))
    periods = periods[list(PERIOD_COLUMNS)]
    typologies = (
        changes.assign(
            period=[labels[p] for p in changes["p"]],
            typology=changes["ring_id"].map(typology).fillna("mixed"),
        )
        .groupby(["p", "period", "change", "typology"], sort=True)
        .size()
        .rename("rings")
        .reset_index()[["period", "typology", "change", "rings"]]
    )
    latest, before = spans[-1], spans[-2]
    emerging = _emerging(inputs, history, events, members, latest, before)
    report_periods = periods.iloc[1:].reset_index(drop=True)
    return TrendReport(
        period=period,
        start=spans[1].start_time.to_pydatetime(),
        end=window_end.to_pydatetime(),
        periods=report_periods,
        by_typology=typologies[typologies["period"] != _label(spans[0], period)],
        headline={str(k): v for k, v in periods.iloc[-1].items()},
        previous={str(k): v for k, v in periods.iloc[-2].items()},
        emerging=emerging,
        changed=_changed(periods.iloc[-1], periods.iloc[-2], history, audit, latest, period),
        runs=inputs.runs,
    )


def _period_rows(
    history: pd.DataFrame,
    audit: pd.DataFrame,
    events: pd.DataFrame,
    members: dict[str, str],
    edges: pd.DatetimeIndex,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each period's figures (one row per period, oldest first), and the rings behind each
    ring change (columns ``p``, ``change``, ``ring_id``).

    Every frame carries ``p``, the period of its row (see :func:`_period_of`).
    """
    count = len(edges) - 1
    spans = pd.RangeIndex(count)
    # Each ring's last record in each period, and the one before it (in an earlier period).
    seen = history[history["p"] < count]
    last = seen.drop_duplicates(["ring_id", "p"], keep="last").sort_values(
        ["ring_id", "p"], kind="stable"
    )
    earlier = last.groupby("ring_id")["size"].shift()
    last = last.assign(size_before=earlier, carried=earlier.notna())
    last, seen = last[last["p"] >= 0], seen[seen["p"] >= 0]
    new = seen.loc[seen["change"] == "new", ["p", "ring_id"]].drop_duplicates()
    retired = last.loc[last["change"] == "retired", ["p", "ring_id"]]
    returned = seen.loc[seen["change"] == "returned", ["p", "ring_id"]].drop_duplicates()
    returned = returned.merge(retired, how="left", indicator=True)
    returned = returned[returned["_merge"] == "left_only"]
    carried = last[last["carried"] & (last["change"] != "retired")]
    carried = carried.merge(new, how="left", indicator=True)
    carried = carried[carried["_merge"] == "left_only"]
    size, before = carried["size"].astype(int), carried["size_before"].astype(int)
    changes = pd.concat(
        [
            new.assign(change="new"),
            carried.loc[size > before, ["p", "ring_id"]].assign(change="growing"),
            carried.loc[size < before, ["p", "ring_id"]].assign(change="shrinking"),
            retired.assign(change="retired"),
        ],
        ignore_index=True,
    )[["p", "change", "ring_id"]]
    rows = (
        pd.crosstab(changes["p"], changes["change"])
        .reindex(index=spans, columns=list(CHANGES), fill_value=0)
        .rename_axis(index=None, columns=None)
    )
    rows["runs"] = seen.groupby("p")["run_id"].nunique().reindex(spans, fill_value=0)
    rows["returned"] = returned.groupby("p").size().reindex(spans, fill_value=0)
    # Rings detected and not retired by the end of each period.
    history_state = history.assign(value=history["change"] != "retired")
    rows["active"] = _tally(history_state, count, [True])[True]
    # The funnel: each ring's status at the end of each period, counted from its detection
    # (its last status change before then, "new" if none).
    detected = history.groupby("ring_id")["p"].min().rename("detected")
    statuses = audit[audit["field"] == "status"].join(detected, on="ring_id", how="inner")
    statuses = pd.concat(
        [
            detected.reset_index()
            .rename(columns={"detected": "p"})
            .assign(value=RingStatus.NEW.value),
            statuses.assign(p=statuses[["p", "detected"]].max(axis=1), value=statuses["new"]),
        ],
        ignore_index=True,
    )
    funnel = _tally(statuses, count, [s.value for s in RingStatus])
    for column, status in (("new_status", RingStatus.NEW), ("under_review",
                           RingStatus.UNDER_REVIEW), ("confirmed", RingStatus.CONFIRMED),
                           ("benign", RingStatus.BENIGN)):  # fmt: skip
        rows[column] = funnel[status.value]
    decisions = _first_decisions(history, audit)
    decisions = decisions.assign(
        p=_period_of(decisions["decided_at"], edges),
        days=(decisions["decided_at"] - decisions["first_detected"]).dt.total_seconds() / 86_400,
    )
    rows["decided"] = decisions.groupby("p").size().reindex(spans, fill_value=0)
    days = decisions.groupby("p")["days"].median().reindex(spans)
    rows["days_to_verdict"] = [None if pd.isna(d) else round(float(d), 1) for d in days]
    made = events[events["account"].isin(members.keys())]
    rows["accounts"] = made.groupby("p")["account"].nunique().reindex(spans, fill_value=0)
    gmv = made["amount"].fillna(0).groupby(made["p"]).sum().reindex(spans, fill_value=0.0)
    rows["gmv"] = [round(float(g), 2) for g in gmv]
    return rows.reset_index(drop=True), changes


def _period_of(times: pd.Series, edges: pd.DatetimeIndex) -> np.ndarray:
    """The period each time falls in: ``i`` between ``edges[i]`` and ``edges[i + 1]``, -1
    before the first edge, ``len(edges) - 1`` from the last edge on (and for no time)."""
    after = len(edges) - 1
    found = np.searchsorted(
        edges.as_unit("us").to_numpy(), times.to_numpy(dtype="datetime64[us]"), side="right"
    )
    return np.where(times.isna().to_numpy(), after, found - 1)


def _tally(rows: pd.DataFrame, count: int, values: list[Any]) -> pd.DataFrame:
    """How many rings hold each of ``values`` at the end of each period.

    ``rows`` (columns ``ring_id``, ``p``, ``value``, in time order) say from which period on a
    ring holds a value; a ring holds it until its next row. A row before the first period
    holds from the first.
    """
    rows = rows[rows["p"] < count].assign(p=rows["p"].clip(lower=0).astype(int))
    rows = rows.drop_duplicates(["ring_id", "p"], keep="last").sort_values(
        ["ring_id", "p"], kind="stable"
    )
    until = rows.groupby("ring_id")["p"].shift(-1).fillna(count).astype(int).to_numpy()
    codes = pd.Index(values).get_indexer(rows["value"])
    known = codes >= 0
    # +1 where a ring takes a value, -1 where it leaves it; the running sum is the tally.
    steps = np.zeros((count + 1, len(values)), dtype=int)
    np.add.at(steps, (rows["p"].to_numpy()[known], codes[known]), 1)
    np.add.at(steps, (until[known], codes[known]), -1)
    return pd.DataFrame(steps.cumsum(axis=0)[:count], columns=values)


def _first_decisions(history: pd.DataFrame, audit: pd.DataFrame) -> pd.DataFrame:
    """Each decided ring's first detection and its first confirmed-or-benign status."""
    decided = audit[(audit["field"] == "status") & audit["new"].isin(DECIDED)]
    first = decided.groupby("ring_id")["time"].min().rename("decided_at")
    detected = history.groupby("ring_id")["time"].min().rename("first_detected")
    return pd.concat([first, detected], axis=1, join="inner").reset_index()


def _emerging(
    inputs: TrendInputs,
    history: pd.DataFrame,
    events: pd.DataFrame,
    members: dict[str, str],
    latest: pd.Period,
    before: pd.Period,
) -> dict[str, list[tuple[str, str]]]:
    """What is growing fastest in the latest period against the one before it."""
    by_id = {ring.ring_id: ring for ring in inputs.rings}
    first = history.groupby("ring_id")["time"].min()

    def new_in(span: pd.Period) -> list[Ring]:
        ids = first[(first >= span.start_time) & (first < span.end_time)].index
        return [by_id[i] for i in ids if i in by_id]

    now, then = new_in(latest), new_in(before)
    typologies = _growth(Counter(r.typology for r in now), Counter(r.typology for r in then))
    kinds_now: Counter[str] = Counter()
    kinds_then: Counter[str] = Counter()
    for rings, counter in ((now, kinds_now), (then, kinds_then)):
        for ring in rings:
            counter.update(ring.evidence.shared_by_kind)
    earlier_hubs = {
        (h.kind, h.key)
        for ring in inputs.rings
        if first.get(ring.ring_id, latest.start_time) < latest.start_time
        for h in ring.evidence.hubs
    }
    new_hubs: dict[tuple[str, str], int] = {}
    for ring in now:
        for hub in ring.evidence.hubs:
            if (hub.kind, hub.key) not in earlier_hubs:
                new_hubs[(hub.kind, hub.display or hub.key)] = hub.accounts
    creators: Counter[str] = Counter()
    active_end = history[history["time"] < latest.end_time].groupby("ring_id").tail(1)
    for ring_id in active_end.loc[active_end["change"] != "retired", "ring_id"]:
        for creator in by_id[ring_id].evidence.creators if ring_id in by_id else []:
            creators[creator.display or creator.key] += creator.members
    made = events[(events["time"] >= latest.start_time) & (events["time"] < latest.end_time)]
    made = made[made["account"].isin(members.keys())]
    sellers: dict[str, float] = {}
    for refs, amount in zip(made["refs"], made["amount"].fillna(0), strict=True):
        for ref in refs:
            if ref.startswith("Account:"):
                seller = ref.removeprefix("Account:")
                sellers[seller] = sellers.get(seller, 0.0) + float(amount)
    return {
        "typologies": typologies,
        "identifier_kinds": _growth(kinds_now, kinds_then),
        "new_hubs": [
            (f"{kind} {name}", f"used by {accounts:,} accounts")
            for (kind, name), accounts in sorted(new_hubs.items(), key=lambda kv: -kv[1])[:TOP]
        ],
        "creators": [
            (name, f"{n:,} ring members order through it") for name, n in creators.most_common(TOP)
        ],
        "sellers": [
            (name, f"{amount:,.2f} from ring members this period")
            for name, amount in sorted(sellers.items(), key=lambda kv: -kv[1])[:TOP]
        ],
    }


def _growth(now: Counter[str], then: Counter[str]) -> list[tuple[str, str]]:
    """Names by how much they grew from ``then`` to ``now``, the fastest first."""
    names = sorted(set(now) | set(then), key=lambda n: (-(now[n] - then[n]), -now[n], n))
    return [(n, f"{now[n]:,} (was {then[n]:,})") for n in names if now[n] > then[n]][:TOP]


def _changed(
    latest: pd.Series,
    before: pd.Series,
    history: pd.DataFrame,
    audit: pd.DataFrame,
    span: pd.Period,
    period: Period,
) -> list[str]:
    """Sentences saying what changed in the latest period against the one before it."""
    lines = []
    for name, what in (("new", "new rings"), ("active", "active rings"),
                       ("accounts", "accounts affected"), ("gmv", "GMV affected"),
                       ("confirmed", "rings confirmed (to date)")):  # fmt: skip
        now, then = latest[name], before[name]
        shown = (lambda v: f"{v:,.2f}") if name == "gmv" else (lambda v: f"{int(v):,}")
        if now == then:
            lines.append(
                f"{what[0].upper()}{what[1:]}: {shown(now)}, as in the {period.value} before."
            )
        else:
            lines.append(
                f"{what[0].upper()}{what[1:]}: {shown(now)}, {'up' if now > then else 'down'} from "
                f"{shown(then)} ({_change(now, then)})."
            )
    inside = audit[(audit["time"] >= span.start_time) & (audit["time"] < span.end_time)]
    decided = inside[(inside["field"] == "status") & inside["new"].isin(DECIDED)]
    for row in decided.itertuples():
        lines.append(f"Ring {row.ring_id} was marked {row.new} by {row.actor}.")
    return lines


def _change(now: float, then: float) -> str:
    if then == 0:
        return "none before"
    return f"{(now - then) / then:+.0%}"


def _label(span: pd.Period, period: Period) -> str:
    if period is Period.MONTH:
        return span.start_time.strftime("%Y-%m")
    year, week, _ = span.start_time.isocalendar()
    return f"{year}-W{week:02d}"


def _naive(times: pd.Series) -> pd.Series:
    """Times as tz-naive UTC (how events are kept), whatever they came as."""
    stamps = pd.to_datetime(times, utc=True)
    return stamps.dt.tz_convert(None).astype("datetime64[us]")


def _time(value: Any, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"{what} {value!r} is not a date (expected e.g. 2026-03-02)") from None
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


# -- rendering -------------------------------------------------------------------------------


def trend_charts(report: TrendReport) -> dict[str, str]:
    """The report's charts as PNG ``data:`` URIs, by name."""
    periods = report.periods["period"].tolist()
    by_typology = (
        report.by_typology[report.by_typology["change"] == "new"]
        .pivot_table(index="period", columns="typology", values="rings", aggfunc="sum")
        .reindex(periods)
        .fillna(0)
    )
    h = report.headline
    funnel = {
        "detected": int(h["new_status"] + h["under_review"] + h["confirmed"] + h["benign"]),
        "reached review": int(h["under_review"] + h["confirmed"] + h["benign"]),
        "confirmed": int(h["confirmed"]),
        "benign": int(h["benign"]),
    }
    return {
        "changes": charts.stacked_bars(
            periods, {c: report.periods[c].tolist() for c in CHANGES},
            title=f"Rings per {report.period.value}: new, growing, shrinking, retired",
        ),
        "typologies": charts.stacked_bars(
            periods, {str(t): by_typology[t].tolist() for t in by_typology.columns},
            title=f"New rings per {report.period.value}, by typology",
        ),
        "impact": charts.bars_and_line(
            periods, report.periods["gmv"].tolist(), report.periods["accounts"].tolist(),
            bar_label="GMV affected", line_label="accounts affected",
            title=f"GMV and accounts affected per {report.period.value}",
        ),
        "funnel": charts.funnel_chart(funnel),
    }  # fmt: skip


def trend_report_html(report: TrendReport, *, downloads: dict[str, Any] | None = None) -> str:
    """The report as one self-contained HTML page.

    ``downloads`` makes it the ``/reports`` page: a form to choose the period and window
    (``query``: hidden fields to keep, ``start``, ``end``) and ``links`` (label → URL) to its
    other formats.
    """
    return render_html(
        "trend_report.html",
        report=report,
        charts=trend_charts(report),
        h=report.headline,
        p=report.previous,
        change=_change,
        made_at=report.made_at,
        version=__version__,
        downloads=downloads or {},
        definitions=DEFINITIONS,
    )


def trend_report_markdown(report: TrendReport) -> str:
    """The report as Markdown: the same figures, tables instead of charts."""
    h, unit = report.headline, report.period.value
    lines = [
        f"# Fraud ring trends, {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}",
        "",
        f"This {unit} ({h['period']}) against the {unit} before ({report.previous['period']}).",
        "",
        "| Figure | This " + unit + " | The " + unit + " before |",
        "|---|---:|---:|",
    ]
    for name, label in _HEADLINE_FIGURES:
        lines.append(f"| {label} | {_shown(h[name])} | {_shown(report.previous[name])} |")
    lines += ["", "## What changed", ""] + [f"- {line}" for line in report.changed]
    lines += ["", "## Emerging patterns", ""]
    for key, title in _EMERGING_TITLES:
        items = report.emerging[key]
        lines.append(f"- **{title}**: " + ("; ".join(f"{a} ({b})" for a, b in items) or "none"))
    lines += ["", f"## Per {unit}", "", "| " + " | ".join(_DETAIL_LABELS) + " |",
              "|---" * len(_DETAIL_LABELS) + "|"]  # fmt: skip
    for row in report.periods.itertuples():
        lines.append("| " + " | ".join(_shown(getattr(row, c)) for c in _DETAIL_COLUMNS) + " |")
    lines += ["", "## Definitions", "", *[f"- {d}" for d in DEFINITIONS], ""]
    return "\n".join(lines)


def render_trend_report(report: TrendReport, fmt: ReportFormat | str) -> bytes:
    """The report in ``fmt`` (html, pdf or md) as bytes."""
    fmt = ReportFormat(fmt)
    if fmt is ReportFormat.MD:
        return trend_report_markdown(report).encode()
    html = trend_report_html(report)
    return html_to_pdf(html) if fmt is ReportFormat.PDF else html.encode()


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if not value.is_integer() else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


_HEADLINE_FIGURES = (
    ("new", "New rings"), ("growing", "Growing rings"), ("shrinking", "Shrinking rings"),
    ("retired", "Retired rings"), ("active", "Active rings at the end"),
    ("accounts", "Accounts affected"), ("gmv", "GMV affected"),
    ("decided", "Verdicts reached"), ("days_to_verdict", "Median days to verdict"),
)  # fmt: skip
_EMERGING_TITLES = (
    ("typologies", "Typologies growing fastest"),
    ("identifier_kinds", "Identifier kinds growing fastest"),
    ("new_hubs", "New hubs"),
    ("creators", "Creators most exposed"),
    ("sellers", "Sellers most exposed"),
)
_DETAIL_COLUMNS = (
    "period", "runs", "new", "growing", "shrinking", "retired", "active", "accounts", "gmv",
    "new_status", "under_review", "confirmed", "benign", "decided", "days_to_verdict",
)  # fmt: skip
_DETAIL_LABELS = (
    "Period", "Runs", "New", "Growing", "Shrinking", "Retired", "Active", "Accounts", "GMV",
    "Status new", "Under review", "Confirmed", "Benign", "Verdicts", "Days to verdict",
)  # fmt: skip
DEFINITIONS = (
    "A ring is new in the period in which detection first found it; growing or shrinking "
    "when its size at its last run in the period is above or below its size at its last run "
    "before; retired when a run in the period no longer found it.",
    "Accounts affected: members of rings detected by the end of the report that made at least "
    "one event (order, transfer, ...) in the period. GMV affected: the sum of those events' "
    "amounts.",
    "Funnel: rings detected by the end of the period by the status they had then, from the "
    "audit trail. Time to verdict: from first detection to the first confirmed or benign "
    "status; the median of the verdicts reached in the period.",
    "Periods are ISO weeks (Monday to Sunday) or calendar months, in UTC.",
)
