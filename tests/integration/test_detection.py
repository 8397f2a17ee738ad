"""Detection against a real DuckDB store, and the detect / explain / rings / evaluate commands."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from algorithms.pipeline import detect_rings
from graphfraud.cli import app
from graphfraud.explain import explain, explain_ring
from graphfraud.model import Page, RingFilter, RingStatus
from graphfraud.settings import DetectionSettings
from graphfraud.store import GraphStore, open_store
from tests.unit.planted_graphs import EPOCH, GraphBuilder, marketplace

runner = CliRunner()


def _load(store: GraphStore, g: GraphBuilder) -> None:
    store.ensure_schema()
    store.upsert_entities(g.accounts())
    cards = pd.DataFrame(
        {"kind": "PaymentInstrument", "key": ["K-card0", "K-card1"],
         "display": ["card ••0001", "card ••0002"], "created_at": None, "label": None}
    )  # fmt: skip
    store.upsert_entities(cards)
    store.upsert_links(g.links())


@pytest.fixture
def store(tmp_path: Path) -> GraphStore:
    opened = open_store(f"duckdb:///{tmp_path / 'graph.duckdb'}")
    _load(opened, marketplace()[0])
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('detect') / 'graph.duckdb'}"
    with open_store(url) as opened:
        _load(opened, marketplace()[0])
    return url


def _memberships(rings: list) -> set[frozenset[str]]:
    return {frozenset(ring.accounts) for ring in rings}


def test_detection_writes_its_rings_to_the_store(store: GraphStore) -> None:
    result = detect_rings(store)
    stored = store.rings(RingFilter(), Page(limit=100))
    assert stored.total == len(result.rings) == 4
    assert _memberships(stored.rings) == _memberships(result.rings)


def test_a_stored_ring_explains_itself_as_detection_did(store: GraphStore) -> None:
    ring = detect_rings(store).rings[0]
    assert explain_ring(store, ring.ring_id).summary == explain(ring).summary


def test_display_text_from_the_store_reaches_the_evidence(store: GraphStore) -> None:
    ring = next(r for r in detect_rings(store).rings if r.typology == "creator_collusion")
    shown = {s.display for s in ring.evidence.shared_identifiers}
    assert {"card ••0001", "card ••0002"} <= shown


def test_a_rerun_on_grown_data_keeps_ids_and_investigator_verdicts(store: GraphStore) -> None:
    farm = next(r for r in detect_rings(store).rings if r.typology == "device_farm")
    store.set_ring_status(
        farm.ring_id, RingStatus.CONFIRMED, actor="Ana Lima", note="checked the devices"
    )
    grown = GraphBuilder()
    grown.account("F8", created=EPOCH + 8 * pd.Timedelta(hours=1))
    for device in ("F-dev0", "F-dev1"):
        grown.use("F8", "Device", "USES_DEVICE", device, at=EPOCH + 3 * pd.Timedelta(hours=1))
    store.upsert_entities(grown.accounts())
    store.upsert_links(grown.links())

    again = next(r for r in detect_rings(store).rings if r.typology == "device_farm")
    assert again.ring_id == farm.ring_id
    assert "F8" in again.accounts
    stored = store.ring(farm.ring_id)
    assert (stored.status, stored.note) == (RingStatus.CONFIRMED, "checked the devices")


def test_detection_records_its_run_and_keeps_first_detection_times(store: GraphStore) -> None:
    first = detect_rings(store, seed=3, run_id="first")
    assert store.runs() == [first.run]
    assert first.run is not None
    run = first.run
    assert (run.run_id, run.rings, run.new, run.retired, run.engine) == ("first", 4, 4, 0, "igraph")
    assert (run.accounts, run.candidates) == (first.accounts, first.candidates)
    assert run.settings == DetectionSettings().model_dump(mode="json")
    links = store.links()
    assert run.data_from == links["first_seen"].min().tz_localize("UTC")
    assert run.data_to == links["last_seen"].max().tz_localize("UTC")
    again = detect_rings(store, seed=3)
    assert again.run is not None
    assert (again.run.rings, again.run.new, again.run.retired) == (4, 0, 0)
    for ring in store.rings().rings:
        assert (ring.first_detected, ring.last_seen) == (run.finished_at, again.run.finished_at)


def test_detect_prints_the_top_rings(database: str) -> None:
    result = runner.invoke(app, ["detect", "--store", database], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "4 rings" in result.output
    assert "device_farm" in result.output


def test_rings_as_json_lists_every_ring_with_its_members(database: str) -> None:
    runner.invoke(app, ["detect", "--store", database])
    result = runner.invoke(app, ["rings", "--store", database, "--format", "json"])
    rings = json.loads(result.output)
    assert len(rings) == 4
    farm = next(r for r in rings if r["typology"] == "device_farm")
    assert sorted(farm["members"]) == [f"F{i}" for i in range(8)]
    assert set(farm) == {
        "ring_id", "score", "typology", "status", "assignee", "size", "first_detected",
        "last_seen", "active", "summary", "notes", "members",
    }  # fmt: skip


def test_ring_exports_carry_the_verdict_notes_dates_and_explanation(database: str) -> None:
    runner.invoke(app, ["detect", "--store", database])
    with open_store(database) as opened:
        ring = opened.rings(page=Page(limit=1)).rings[0]
        opened.set_ring_status(ring.ring_id, "confirmed", actor="Ana Lima", note="same farm")
        opened.assign_ring(ring.ring_id, "Ben Okafor", actor="Ana Lima")
        opened.add_note(ring.ring_id, "line one,\nline two", actor="Ben Okafor")
        stored, summary = opened.ring(ring.ring_id), explain(ring).summary
    exported = runner.invoke(app, ["rings", "--store", database, "--format", "json"])
    row = next(r for r in json.loads(exported.output) if r["ring_id"] == ring.ring_id)
    assert (row["status"], row["assignee"], row["summary"]) == ("confirmed", "Ben Okafor", summary)
    assert [(n["actor"], n["text"]) for n in row["notes"]] == [
        ("Ana Lima", "same farm"),
        ("Ben Okafor", "line one,\nline two"),
    ]
    assert row["first_detected"] == stored.first_detected.isoformat()
    assert row["last_seen"] == stored.last_seen.isoformat()
    result = runner.invoke(app, ["rings", "--store", database, "--format", "csv"])
    rows = csv.DictReader(io.StringIO(result.output))
    cells = next(r for r in rows if r["ring_id"] == ring.ring_id)
    assert (cells["status"], cells["assignee"], cells["summary"]) == (
        "confirmed", "Ben Okafor", summary,
    )  # fmt: skip
    assert cells["notes"].splitlines()[-2:] == [
        f"{row['notes'][1]['time']} Ben Okafor: line one,",
        "line two",
    ]
    assert cells["last_seen"] == row["last_seen"]


def test_runs_lists_every_detection_run(database: str) -> None:
    runner.invoke(app, ["detect", "--store", database])
    result = runner.invoke(app, ["runs", "--store", database, "--json"])
    runs = json.loads(result.output)
    with open_store(database) as opened:
        assert [run["run_id"] for run in runs] == [run.run_id for run in opened.runs()]
    assert runs[0]["rings"] == 4
    assert runs[0]["engine"] == "igraph"
    table = runner.invoke(app, ["runs", "--store", database], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert runs[0]["run_id"] in table.output


def test_rings_as_csv_has_a_header_and_a_row_per_ring(database: str) -> None:
    runner.invoke(app, ["detect", "--store", database])
    result = runner.invoke(app, ["rings", "--store", database, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 4
    assert all(len(row["members"].split()) == int(row["size"]) for row in rows)


def test_explain_prints_the_summary_and_contributions(database: str) -> None:
    runner.invoke(app, ["detect", "--store", database])
    listed = json.loads(
        runner.invoke(app, ["rings", "--store", database, "--format", "json"]).output
    )
    ring_id = listed[0]["ring_id"]
    result = runner.invoke(app, ["explain", ring_id, "--store", database], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    with open_store(database) as opened:
        summary = explain_ring(opened, ring_id).summary
    assert summary in " ".join(result.output.split())
    assert "burstiness" in result.output


def test_explain_as_json_gives_the_structured_parts(database: str) -> None:
    runner.invoke(app, ["detect", "--store", database])
    listed = json.loads(
        runner.invoke(app, ["rings", "--store", database, "--format", "json"]).output
    )
    result = runner.invoke(app, ["explain", listed[0]["ring_id"], "--store", database, "--json"])
    parts = json.loads(result.output)
    assert {"members", "shared_identifiers", "contributions", "summary"} <= set(parts)


def graphfraud_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a process of its own (what a user sees, errors included)."""
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def test_explaining_an_unknown_ring_is_a_clean_error(database: str) -> None:
    result = graphfraud_cli("explain", "R-nope", "--store", database)
    assert result.returncode == 2
    assert "no ring with id 'R-nope'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_evaluate_beats_both_baselines_per_family() -> None:
    result = runner.invoke(
        app,
        ["evaluate", "--accounts", "3000", "--seed", "1", "--family", "standard",
         "--family", "aged", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output[result.output.index("{") :])
    assert set(metrics) == {"standard", "aged"}
    for family, methods in metrics.items():
        assert set(methods) == {"graphfraud", "components", "louvain", "risk_by_association"}
        assert set(methods["risk_by_association"]) == {"risk", "components"}
        ours = methods["graphfraud"]["all"]["ring_f1"] or 0.0
        for baseline in ("components", "louvain"):
            assert ours > (methods[baseline]["all"]["ring_f1"] or 0.0), family


@pytest.mark.slow
def test_evaluate_explains_misses_on_southeast_asian_data_with_tokens() -> None:
    result = runner.invoke(
        app,
        ["evaluate", "--accounts", "3000", "--seed", "1", "--family", "standard",
         "--locale", "sea", "--payment-format", "token", "--explain-misses", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output[result.output.index("{") :])
    (family,) = metrics
    assert family == "standard · sea · token"
    ours = metrics[family]["graphfraud"]["all"]
    assert ours["found"] > 0
    misses = metrics[family]["misses"]
    assert len(misses) == ours["planted"] - ours["found"]
    assert all(miss["cause"] and miss["band"] for miss in misses)


@pytest.mark.slow
def test_the_same_data_loaded_in_another_row_order_gives_the_same_rings(tmp_path: Path) -> None:
    from loaders.generator import generate_marketplace
    from loaders.load import load_tables
    from loaders.mapping import builtin_mapping

    generate_marketplace(tmp_path / "data", accounts=3_000, seed=5, family="aged")
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for table in (tmp_path / "data").glob("*.csv"):
        frame = pd.read_csv(table, dtype=str, keep_default_na=False)
        frame.sample(frac=1.0, random_state=7).to_csv(shuffled / table.name, index=False)
    found = []
    for folder in ("data", "shuffled"):
        with open_store(f"duckdb:///{tmp_path / folder}.duckdb") as opened:
            load_tables(
                opened, builtin_mapping("marketplace"), tmp_path / folder,
                rejects_path=tmp_path / f"{folder}-rejects.csv",
            )  # fmt: skip
            found.append(detect_rings(opened, seed=3).rings)
    first, second = ([(r.ring_id, r.score, sorted(r.accounts)) for r in rings] for rings in found)
    assert first == second
    assert first


def test_a_store_and_a_ring_convert_to_networkx_and_igraph(store: GraphStore) -> None:
    from graphfraud.network import ring_network, to_igraph, to_networkx

    links = store.links()
    whole = to_networkx(store)
    assert whole.number_of_edges() == len(links)
    assert to_igraph(store).ecount() == len(links)
    ring = detect_rings(store).rings[0]
    network = ring_network(store, ring)
    drawn = to_networkx(network)
    assert {f"Account:{account}" for account in ring.accounts} <= set(drawn.nodes)
    assert set(to_igraph(network).vs["name"]) == set(drawn.nodes)


def test_settings_command_lists_each_setting_in_force_with_its_rationale() -> None:
    result = runner.invoke(app, ["settings", "--format", "json", "--set", "min_score=1.5"])
    assert result.exit_code == 0, result.output
    described = {row["name"]: row for row in json.loads(result.output)}
    assert set(described) == set(DetectionSettings.model_fields)
    assert (described["min_score"]["default"], described["min_score"]["value"]) == (0.6, 1.5)
    assert "Tukey" in described["hub_fence"]["rationale"]
    table = runner.invoke(app, ["settings"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "rarity_exponent" in table.output


def test_settings_command_names_a_bad_setting() -> None:
    result = graphfraud_cli("settings", "--set", "min_scor=1")
    assert result.returncode == 2
    assert "min_scor: Extra inputs are not permitted" in result.stderr
    assert "Traceback" not in result.stderr
