"""Documents as a manager and an investigator get them: ``graphfraud report`` and
``graphfraud inquiry`` as real processes, and the ``/reports`` page and a case file in real
headless Chromium, downloads included. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.api_server import READ_KEY, ServedApi, api_settings, serving
from tests.documents_world import DocumentsWorld
from tests.e2e.conftest import ARTIFACTS, OfflinePage


def graphfraud(*args: str, store_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRAPHFRAUD_STORE_URL": store_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_report_writes_a_monthly_markdown_report(
    documents_world: DocumentsWorld, tmp_path: Path
) -> None:
    done = graphfraud(
        "report", "--period", "month", "--from", "2025-06-01", "--to", "2026-04-01",
        "--format", "md", "--out", "trends.md",
        store_url=documents_world.store_url, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote trends.md" in done.stdout
    text = (tmp_path / "trends.md").read_text()
    assert text.startswith("# Fraud ring trends, 2025-06-01 to 2026-04-01")
    new = sum(run.new for run in documents_world.runs)
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| 202")]
    assert sum(int(row[2]) for row in rows) == new


def test_report_without_a_window_covers_all_the_data_as_pdf(
    documents_world: DocumentsWorld, tmp_path: Path
) -> None:
    done = graphfraud("report", "--format", "pdf", "--out", "all.pdf",
                      store_url=documents_world.store_url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "all.pdf").read_bytes().startswith(b"%PDF")


def test_report_refuses_an_unknown_period(documents_world: DocumentsWorld, tmp_path: Path) -> None:
    done = graphfraud("report", "--period", "fortnight", "--out", "x.md",
                      store_url=documents_world.store_url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "--period 'fortnight' is not one of: week, month" in done.stderr
    assert "Traceback" not in done.stderr


def test_inquiry_writes_a_pack_for_a_card_written_as_the_source_had_it(
    documents_world: DocumentsWorld, tmp_path: Path
) -> None:
    with documents_world.open() as store:  # closed before the command opens the file
        account = store.ring(documents_world.judged[0]).accounts[0]
    cards = pd.read_csv(documents_world.data / "payment_methods.csv", dtype=str)
    card = cards.loc[cards["account_id"] == account, "card_number"].iloc[0]
    done = graphfraud(
        "inquiry", "--account", account, "--identifier", f"PaymentInstrument:{card}",
        "--from", "2024-01-01", "--redact", "Email", "--out", "pack.zip",
        store_url=documents_world.store_url, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pack = zipfile.ZipFile(tmp_path / "pack.zip")
    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["inquiry"]["redacted"] == ["Email"]
    assert manifest["inquiry"]["identifiers"][0].startswith("PaymentInstrument:pi_")
    assert set(manifest["files"]) == set(pack.namelist()) - {"manifest.json"}


def test_inquiry_names_an_account_that_is_not_there(
    documents_world: DocumentsWorld, tmp_path: Path
) -> None:
    done = graphfraud("inquiry", "--account", "NOPE-1", "--out", "pack.zip",
                      store_url=documents_world.store_url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "account 'NOPE-1' is not in the store" in done.stderr
    assert not (tmp_path / "pack.zip").exists()


# -- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(documents_world: DocumentsWorld) -> Iterator[ServedApi]:
    with serving(api_settings(), documents_world.store_url, engine="duckdb") as api:
        yield api


@pytest.mark.browser
def test_the_reports_page_opens_offline_and_its_pdf_link_downloads(
    served: ServedApi, offline_page: Callable[[], OfflinePage]
) -> None:
    opened = offline_page()
    opened.page.goto(f"{served.url}/reports?period=month&from=2025-06-01&key={READ_KEY}")
    assert opened.page.locator("#headline .figure").count() == 5
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "trend-report.png"), full_page=True)
    with opened.page.expect_download() as download:
        opened.page.get_by_role("link", name="PDF").click()
    saved = ARTIFACTS / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert not opened.console_errors
    assert not opened.left_the_machine


@pytest.mark.browser
def test_the_period_form_redraws_the_report_by_week(
    served: ServedApi, offline_page: Callable[[], OfflinePage]
) -> None:
    opened = offline_page()
    opened.page.goto(f"{served.url}/reports?period=month&key={READ_KEY}")
    opened.page.select_option("select[name=period]", "week")
    opened.page.fill("input[name=from]", "2025-12-01")
    opened.page.fill("input[name=to]", "2026-01-05")
    opened.page.get_by_role("button", name="Show").click()
    opened.page.wait_for_url("**/reports?**period=week**")
    periods = opened.page.locator("#periods tbody td:first-child").all_inner_texts()
    assert periods == ["2025-W49", "2025-W50", "2025-W51", "2025-W52", "2026-W01"]


@pytest.mark.browser
def test_a_case_file_opens_in_the_browser_and_downloads_as_pdf(
    served: ServedApi, documents_world: DocumentsWorld, offline_page: Callable[[], OfflinePage]
) -> None:
    ring_id = documents_world.judged[0]
    opened = offline_page()
    opened.page.goto(f"{served.url}/api/rings/{ring_id}/case-file?key={READ_KEY}")
    assert opened.page.locator("h1").inner_text() == f"Case file: ring {ring_id}"
    opened.page.screenshot(path=str(ARTIFACTS / "case-file.png"), full_page=True)
    with opened.page.expect_download() as download:
        # A link such as the workbench's: the page's key in the query downloads the PDF.
        opened.page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.textContent = 'PDF';"
            " document.body.append(a); a.click(); }",
            f"/api/rings/{ring_id}/case-file?format=pdf&key={READ_KEY}",
        )
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"%PDF")
    assert io.BytesIO(body).getbuffer().nbytes > 10_000
