"""Documents' figures and bundles from small, hand-made histories: what the trend report
counts per period, how redaction hides what it names, and what a bundle's manifest lists."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest

from api.documents.inquiry import Redaction
from api.documents.render import MANIFEST, zip_with_manifest
from api.documents.tables import HISTORY_COLUMNS
from api.documents.trends import (
    MAX_PERIODS,
    Period,
    TrendInputs,
    trend_figures,
    trend_report_markdown,
)
from graphfraud.errors import InputError
from graphfraud.model import EVENT_COLUMNS, Ring, RingMember

RUN_TIMES = {"r1": "2026-01-07", "r2": "2026-01-14", "r3": "2026-01-21"}


def _ring(ring_id: str, typology: str, accounts: list[str]) -> Ring:
    return Ring(ring_id, 2.0, typology, [RingMember(a) for a in accounts])


def _history(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"ring_id": ring, "run_id": run, "time": pd.Timestamp(RUN_TIMES[run], tz="UTC"),
             "change": change, "size": size, "score": 2.0, "joined": [], "left": []}
            for ring, run, change, size in rows
        ],
        columns=list(HISTORY_COLUMNS),
    )  # fmt: skip


def _audit(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"ring_id": ring, "time": pd.Timestamp(time, tz="UTC"), "actor": "ana",
             "field": "status", "old": old, "new": new}
            for ring, time, old, new in rows
        ],
        columns=["ring_id", "time", "actor", "field", "old", "new"],
    )  # fmt: skip


def _events(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"event_id": f"e{i}", "source": "orders", "kind": "order", "account": account,
             "time": pd.Timestamp(time), "amount": amount, "refs": ["Account:S1"]}
            for i, (account, time, amount) in enumerate(rows)
        ],
        columns=list(EVENT_COLUMNS),
    )  # fmt: skip


@pytest.fixture
def inputs() -> TrendInputs:
    """Three weekly runs: A is found and grows; B is found, shrinks and retires; C is found
    in the third week. A is confirmed 8 days after detection, C judged benign after 1."""
    return TrendInputs(
        rings=[
            _ring("A", "payment_sharing", ["a1", "a2", "a3", "a4"]),
            _ring("B", "drop_address", ["b1", "b2", "b3"]),
            _ring("C", "device_farm", ["c1", "c2", "c3"]),
        ],
        history=_history(
            ("A", "r1", "new", 3),
            ("B", "r1", "new", 4),
            ("A", "r2", "grown", 4),
            ("B", "r2", "shrunk", 3),
            ("A", "r3", "same", 4),
            ("B", "r3", "retired", 3),
            ("C", "r3", "new", 3),
        ),
        audit=_audit(
            ("A", "2026-01-08", "new", "under_review"),
            ("A", "2026-01-15", "under_review", "confirmed"),
            ("C", "2026-01-22", "new", "benign"),
        ),
        events=_events(
            ("a1", "2026-01-06", 100.0),
            ("a4", "2026-01-13", 50.0),
            ("outsider", "2026-01-13", 999.0),
            ("b1", "2026-01-20", 20.0),
        ),
        runs=3,
    )


def weekly(inputs: TrendInputs) -> pd.DataFrame:
    report = trend_figures(inputs, period=Period.WEEK, start="2026-01-05", end="2026-01-26")
    return report.periods.set_index("period")


def test_periods_are_iso_weeks_of_the_window(inputs: TrendInputs) -> None:
    assert weekly(inputs).index.tolist() == ["2026-W02", "2026-W03", "2026-W04"]


def test_rings_are_new_in_the_week_they_were_first_detected(inputs: TrendInputs) -> None:
    assert weekly(inputs)["new"].tolist() == [2, 0, 1]


def test_growing_and_shrinking_compare_sizes_across_the_weeks(inputs: TrendInputs) -> None:
    periods = weekly(inputs)
    assert periods["growing"].tolist() == [0, 1, 0]
    assert periods["shrinking"].tolist() == [0, 1, 0]


def test_a_ring_no_longer_found_is_retired_and_no_longer_active(inputs: TrendInputs) -> None:
    periods = weekly(inputs)
    assert periods["retired"].tolist() == [0, 0, 1]
    assert periods["active"].tolist() == [2, 2, 2]


def test_accounts_and_gmv_affected_count_only_ring_members_events(inputs: TrendInputs) -> None:
    periods = weekly(inputs)
    assert periods["accounts"].tolist() == [1, 1, 1]
    assert periods["gmv"].tolist() == [100.0, 50.0, 20.0]


def test_the_funnel_holds_each_rings_status_at_the_end_of_the_week(inputs: TrendInputs) -> None:
    periods = weekly(inputs)
    assert periods[["new_status", "under_review", "confirmed", "benign"]].values.tolist() == [
        [1, 1, 0, 0],
        [1, 0, 1, 0],
        [1, 0, 1, 1],
    ]


def test_time_to_verdict_runs_from_first_detection(inputs: TrendInputs) -> None:
    periods = weekly(inputs)
    assert periods["decided"].tolist() == [0, 1, 1]
    assert periods["days_to_verdict"].tolist()[1:] == [8.0, 1.0]


def test_the_headline_is_the_latest_week_against_the_one_before(inputs: TrendInputs) -> None:
    report = trend_figures(inputs, period=Period.WEEK, start="2026-01-05", end="2026-01-26")
    assert (report.headline["period"], report.previous["period"]) == ("2026-W04", "2026-W03")
    assert "Ring C was marked benign by ana." in report.changed
    assert report.emerging["typologies"] == [("device_farm", "1 (was 0)")]
    assert report.emerging["sellers"] == [("S1", "20.00 from ring members this period")]


def test_months_cut_the_same_history_into_one_period(inputs: TrendInputs) -> None:
    report = trend_figures(inputs, period=Period.MONTH)
    january = report.periods.set_index("period").loc["2026-01"]
    assert (january["new"], january["retired"], january["gmv"]) == (3, 1, 170.0)


def test_the_markdown_report_carries_the_headline_figures(inputs: TrendInputs) -> None:
    report = trend_figures(inputs, period=Period.WEEK, start="2026-01-05", end="2026-01-26")
    text = trend_report_markdown(report)
    assert "| New rings | 1 | 0 |" in text
    assert "| GMV affected | 20 | 50 |" in text


def test_a_window_ending_before_it_starts_is_refused(inputs: TrendInputs) -> None:
    with pytest.raises(InputError, match="before it starts"):
        trend_figures(inputs, period=Period.WEEK, start="2026-02-01", end="2026-01-01")


def test_an_empty_store_has_nothing_to_report() -> None:
    empty = TrendInputs(rings=[], history=_history(), audit=_audit(), events=_events(), runs=0)
    with pytest.raises(InputError, match="nothing to report"):
        trend_figures(empty, period=Period.WEEK)


def test_redaction_hides_named_kinds_everywhere_with_joinable_pseudonyms() -> None:
    redaction = Redaction(["Email"], key="k" * 32)
    links = pd.DataFrame(
        {"src_kind": ["Account"], "src_key": ["A1"], "dst_kind": ["Email"],
         "dst_key": ["ann@example.com"]}
    )  # fmt: skip
    events = pd.DataFrame({"refs": [["Email:ann@example.com", "Device:d1"]]})
    hidden = redaction.frame(links).loc[0, "dst_key"]
    assert hidden.startswith("redacted:")
    assert "ann" not in hidden
    assert redaction.frame(events).loc[0, "refs"] == [f"Email:{hidden}", "Device:d1"]
    assert redaction.frame(links).loc[0, "src_key"] == "A1"


def test_redaction_of_a_field_replaces_its_values() -> None:
    notes = pd.DataFrame({"text": ["called the buyer on +1 555"], "actor": ["ana"]})
    redacted = Redaction(["text"], key="k" * 32).frame(notes)
    assert redacted.loc[0, "text"].startswith("redacted:")
    assert redacted.loc[0, "actor"] == "ana"


def test_a_bundles_manifest_lists_every_other_file_with_its_hash() -> None:
    files = {"a.csv": b"x,y\n1,2\n", "sub/b.txt": b"hello"}
    bundle = zipfile.ZipFile(io.BytesIO(zip_with_manifest(files, about={"document": "t"})))
    manifest = json.loads(bundle.read(MANIFEST))
    assert set(bundle.namelist()) == {*files, MANIFEST}
    assert manifest["files"] == {
        path: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
        for path, content in files.items()
    }
    assert manifest["document"] == "t"


def test_a_bundle_cannot_carry_a_manifest_of_its_own() -> None:
    with pytest.raises(ValueError, match="manifest"):
        zip_with_manifest({MANIFEST: b"{}"}, about={})


def test_made_at_is_timezone_aware(inputs: TrendInputs) -> None:
    report = trend_figures(inputs, period=Period.WEEK)
    assert report.made_at.tzinfo is UTC
    assert report.made_at <= datetime.now(UTC)


@pytest.mark.parametrize("period", list(Period))
def test_a_window_of_centuries_keeps_only_the_latest_periods(
    inputs: TrendInputs, period: Period
) -> None:
    report = trend_figures(inputs, period=period, start="0001-01-01", end="9999-12-31")
    assert 0 < len(report.periods) <= MAX_PERIODS
    assert report.end.year < 2100


@pytest.mark.parametrize(("start", "end"), [(None, "2000-01-01"), ("2030-01-01", None)])
def test_a_window_beside_the_records_reports_nothing_happening(
    inputs: TrendInputs, start: str | None, end: str | None
) -> None:
    report = trend_figures(inputs, period=Period.WEEK, start=start, end=end)
    assert len(report.periods) == 1
    assert report.periods[["new", "accounts", "gmv"]].sum().tolist() == [0, 0, 0]


def test_three_years_of_weeks_give_the_short_windows_figures(inputs: TrendInputs) -> None:
    # Every record is put in its week once: with records three years apart, a window of 160
    # weeks must read the same figures in the fixture's weeks as the window of those weeks
    # alone, and nothing happening in the weeks between (an outsider's order counts nowhere).
    early = pd.concat([_events(("outsider", "2023-01-03", 5.0)), inputs.events])
    spread = dataclasses.replace(inputs, events=early.reset_index(drop=True))
    long = trend_figures(spread, period=Period.WEEK, start="2023-01-02", end="2026-01-26")
    periods = long.periods.set_index("period")
    assert len(periods) == 160
    pd.testing.assert_frame_equal(periods.iloc[-3:], weekly(inputs))
    quiet = periods.iloc[:-3].drop(columns=["start", "end", "days_to_verdict"])
    assert (quiet.to_numpy() == 0).all()
    assert periods["days_to_verdict"].iloc[:-3].isna().all()
