"""The command line as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


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
