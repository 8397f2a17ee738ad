"""The command line as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

#: The generated tables holding payment instruments.
TOKENS = ("payment_methods", "orders")


def graphfraud(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRAPHFRAUD_STORE_URL": f"duckdb:///{cwd / 'graph.duckdb'}",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def demo(workdir: Path) -> subprocess.CompletedProcess[str]:
    return graphfraud("demo", "--accounts", "3000", "--seed", "3", "--out", "demo", cwd=workdir)


def test_help_lists_every_command(workdir: Path) -> None:
    result = graphfraud("--help", cwd=workdir)
    assert result.returncode == 0
    for command in ("generate", "load", "stats", "demo"):
        assert command in result.stdout


def test_demo_generates_loads_and_summarises(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stderr
    assert re.search(r"wrote [\d,]+ links and the attributes of [\d,]+ entities", demo.stdout)
    assert "Account" in demo.stdout
    assert "USES_DEVICE" in demo.stdout


def test_demo_reports_rejected_rows(demo: subprocess.CompletedProcess[str], workdir: Path) -> None:
    assert "rows with rejected fields, with reasons, in" in demo.stdout
    assert (workdir / "demo" / "rejects.csv").is_file()


def test_stats_reads_the_store_the_demo_filled(
    demo: subprocess.CompletedProcess[str], workdir: Path
) -> None:
    result = graphfraud("stats", cwd=workdir)
    assert result.returncode == 0
    assert "PaymentInstrument" in result.stdout


def test_load_of_missing_folder_is_a_clean_error(workdir: Path) -> None:
    result = graphfraud("load", "no-such-folder", cwd=workdir)
    assert result.returncode == 2
    assert "error: data folder no-such-folder does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_store_engine_is_a_clean_error(workdir: Path) -> None:
    result = graphfraud("stats", "--store", "mongo://x", cwd=workdir)
    assert result.returncode == 2
    assert "unknown engine 'mongo'" in result.stderr


def test_bad_mapping_is_a_clean_error(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text("sources: [{table: t}]\n")
    (workdir / "empty").mkdir(exist_ok=True)
    result = graphfraud("load", "empty", "--mapping", "bad.yaml", cwd=workdir)
    assert result.returncode == 2
    assert "sources.0: give either account (an account table) or entity" in result.stderr


def test_data_that_looks_like_markup_prints_as_itself(tmp_path: Path) -> None:
    """Account ids and emails are data: rich markup or emoji codes in them print verbatim."""
    members = [f"[/red]M{i}" for i in range(10)]
    accounts = "account_id,email,created_at,known_bad\n" + "".join(
        f'"{account}",m{i}:x:@example.com,2026-01-05T10:{i:02d}:00Z,{int(i < 2)}\n'
        for i, account in enumerate(members)
    )
    logins = "account_id,ts,device_fingerprint\n" + "".join(
        f'"{account}",2026-01-06T09:{i:02d}:00Z,farm-device-{i % 2}\n'
        for i, account in enumerate(members)
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "accounts.csv").write_text(accounts)
    (tmp_path / "data" / "logins.csv").write_text(logins)
    (tmp_path / "mapping.yaml").write_text(
        "sources:\n"
        "  - {table: accounts, account: account_id, created_at: created_at, label: known_bad,\n"
        "     identifiers: [{column: email, kind: Email}]}\n"
        "  - {table: logins, account: account_id, timestamp: ts,\n"
        "     identifiers: [{column: device_fingerprint, kind: Device}]}\n"
    )
    assert graphfraud("load", "data", "--mapping", "mapping.yaml", cwd=tmp_path).returncode == 0
    assert graphfraud("detect", cwd=tmp_path).returncode == 0

    listed = graphfraud("rings", "--format", "table", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "[/red]M0" in listed.stdout
    ring_id = re.search(r"R-[0-9a-f]{10}", listed.stdout)
    assert ring_id is not None
    explained = graphfraud("explain", ring_id.group(0), cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "[/red]M" in explained.stdout
    assert "MarkupError" not in explained.stderr


def test_a_generated_token_export_loads_without_naming_a_mapping(tmp_path: Path) -> None:
    """`generate --payment-format token` writes the mapping that reads its tokens beside them,
    and `load` takes it from there: no card-number rejects, a node per token."""
    made = graphfraud(
        "generate", "--out", "data", "--accounts", "1000", "--seed", "5",
        "--locale", "id", "--payment-format", "token", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    loaded = graphfraud("load", "data", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "not a card number" not in loaded.stdout
    tables = [pd.read_csv(tmp_path / "data" / f"{name}.csv", dtype=str) for name in TOKENS]
    tokens = set(pd.concat([table["card_number"] for table in tables]).dropna())
    rejects = pd.read_csv(tmp_path / "data" / "rejects.csv", dtype=str)
    refused = rejects.loc[rejects["column"] == "card_number", "record"].map(
        lambda record: json.loads(record)["card_number"]
    )
    assert all(token.startswith("tok_") for token in tokens - set(refused))
    stats = graphfraud("stats", cwd=tmp_path)
    nodes = re.search(r"PaymentInstrument\W+([\d,]+)", stats.stdout)
    assert nodes is not None, stats.stdout
    assert int(nodes.group(1).replace(",", "")) == len(tokens - set(refused))


def test_risk_lists_accounts_by_risk_with_their_path_to_a_known_bad_account(
    demo: subprocess.CompletedProcess[str], workdir: Path
) -> None:
    import json

    shown = graphfraud("risk", "--format", "json", "--top", "20", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert 0 < len(found) <= 20
    risks = [row["risk"] for row in found]
    assert risks == sorted(risks, reverse=True)
    assert all(0 < r < 1 for r in risks)
    reason = found[0]["reasons"][0]
    assert reason["kind"] == "tied_to_known_bad"
    assert reason["path"][0] == found[0]["account"]
    assert reason["path"][-1] == reason["account"]
    assert len(reason["path"]) == reason["hops"] + 1
    assert reason["shared"], "the first step names what the two accounts share"


def test_risk_as_csv_and_table(demo: subprocess.CompletedProcess[str], workdir: Path) -> None:
    as_csv = graphfraud("risk", "--format", "csv", "--top", "3", cwd=workdir)
    assert as_csv.returncode == 0, as_csv.stderr
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "account,risk,nearest_known_bad,hops,path,shared"
    assert len(lines) == 4
    as_table = graphfraud("risk", "--top", "3", cwd=workdir)
    assert "riskiest accounts" in as_table.stdout


def test_risk_before_any_detection_says_what_to_do(tmp_path: Path) -> None:
    shown = graphfraud("risk", cwd=tmp_path)
    assert shown.returncode == 2
    assert "run a detection first" in shown.stderr
    assert "Traceback" not in shown.stderr
