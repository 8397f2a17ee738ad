"""Documents on a store with months of history: the trend report's figures against the store,
PDFs printed to PNG pages (pdftoppm) and read back (pdftotext), case-file bundles and inquiry
packs checked against their manifests."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from api.documents.case_file import case_file, case_file_bundle, case_file_pdf
from api.documents.inquiry import Inquiry, inquiry_pack
from api.documents.render import MANIFEST
from api.documents.trends import render_trend_report, trend_report
from graphfraud.errors import NotFound
from graphfraud.model import EntityRef, RingFilter
from graphfraud.settings import Settings
from graphfraud.store import GraphStore
from tests.documents_world import NOTE, DocumentsWorld

#: A page with less ink than this share of its pixels is blank (a last page with two lines
#: of text and the page footer has about 0.3%).
MIN_INK = 0.001


@pytest.fixture(scope="module")
def store(documents_world: DocumentsWorld) -> Iterator[GraphStore]:
    # Closed with the module: the CLI tests open the DuckDB file from other processes.
    with documents_world.open() as opened:
        yield opened


def printed(pdf: bytes, folder: Path, name: str) -> list[Path]:
    """The PDF's pages as PNG files (pdftoppm, 50 dpi), in page order."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", source, folder / name], check=True)
    return sorted(folder.glob(f"{name}-*.png"))


def text_of(pdf: Path, *, first: int = 1, last: int | None = None) -> str:
    """The text of pages ``first`` to ``last`` (pdftotext, in reading order)."""
    pages = ["-f", str(first)] + (["-l", str(last)] if last else [])
    done = subprocess.run(
        ["pdftotext", *pages, pdf, "-"], check=True, capture_output=True, text=True
    )
    return done.stdout


def assert_not_blank(pages: list[Path]) -> None:
    for page in pages:
        pixels = image.imread(page)[..., :3]
        ink = float(np.mean(pixels.min(axis=2) < 0.9))
        assert ink > MIN_INK, f"{page} is blank ({ink:.2%} ink)"


def verified(bundle: bytes) -> tuple[zipfile.ZipFile, dict[str, object]]:
    """The zip and its manifest, after checking the manifest lists every other file with
    its right SHA-256 and nothing else."""
    archive = zipfile.ZipFile(io.BytesIO(bundle))
    manifest = json.loads(archive.read(MANIFEST))
    listed = manifest["files"]
    assert set(listed) == set(archive.namelist()) - {MANIFEST}
    for path, entry in listed.items():
        content = archive.read(path)
        assert entry == {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    return archive, manifest


# -- the trend report -------------------------------------------------------------------------


def members_by(store: GraphStore, end: pd.Timestamp) -> list[str]:
    rings = store.rings(RingFilter(active=None)).rings
    return sorted({a for r in rings if r.first_detected < end for a in r.accounts})


def test_new_and_retired_rings_per_month_are_those_the_runs_recorded(
    store: GraphStore, documents_world: DocumentsWorld
) -> None:
    report = trend_report(store, period="month", start="2025-06-01", end="2026-04-01")
    periods = report.periods.set_index("period")
    for run in documents_world.runs:
        assert run.finished_at is not None
        month = run.finished_at.strftime("%Y-%m")
        assert periods.at[month, "new"] == run.new, month
        assert periods.at[month, "retired"] == run.retired, month
        assert periods.at[month, "runs"] == 1
    assert periods["new"].sum() == sum(run.new for run in documents_world.runs)
    assert periods["active"].iloc[-1] == store.count_rings()


def test_accounts_and_gmv_affected_are_members_events_in_the_store(store: GraphStore) -> None:
    report = trend_report(store, period="month", start="2025-06-01", end="2026-04-01")
    members = members_by(store, pd.Timestamp(report.end, tz="UTC"))
    for row in report.periods.itertuples():
        events = store.events(accounts=members, since=row.start, until=row.end)
        assert row.accounts == events["account"].nunique(), row.period
        assert row.gmv == pytest.approx(events["amount"].fillna(0).sum()), row.period
    assert report.periods["gmv"].sum() > 0


def test_the_funnel_ends_with_the_verdicts_in_the_store(
    store: GraphStore, documents_world: DocumentsWorld
) -> None:
    report = trend_report(store, period="month")
    statuses = store.ring_index(RingFilter(active=None))["status"].value_counts()
    for column, status in (("new_status", "new"), ("under_review", "under_review"),
                           ("confirmed", "confirmed"), ("benign", "benign")):  # fmt: skip
        assert report.headline[column] == statuses.get(status, 0), status
    assert report.headline["decided"] == 2
    assert f"Ring {documents_world.judged[0]} was marked confirmed by Ivan Investigator." in (
        report.changed
    )


def test_the_report_pdf_puts_the_summary_on_its_first_two_pages(
    store: GraphStore, tmp_path: Path
) -> None:
    report = trend_report(store, period="month", start="2025-06-01")
    pages = printed(render_trend_report(report, "pdf"), tmp_path, "trends")
    assert 2 <= len(pages) <= 5
    assert_not_blank(pages)
    summary = text_of(tmp_path / "trends.pdf", last=2)
    for heading in ("Fraud ring trends", "What changed since the month before",
                    "Emerging patterns"):  # fmt: skip
        assert heading in summary
    head = report.headline
    assert f"{head['gmv']:,.2f}" in summary
    assert f"{head['active']:,}" in summary
    detail = text_of(tmp_path / "trends.pdf")
    for row in report.periods.itertuples():
        assert row.period in detail


def test_the_markdown_report_covers_every_month_of_the_window(store: GraphStore) -> None:
    report = trend_report(store, period="month", start="2025-06-01", end="2026-04-01")
    text = render_trend_report(report, "md").decode()
    months = [line.split(" | ")[0].lstrip("| ") for line in text.splitlines()
              if line.startswith("| 202")]  # fmt: skip
    assert months == [f"2025-{m:02d}" for m in range(6, 13)] + ["2026-01", "2026-02", "2026-03"]


# -- case files -------------------------------------------------------------------------------


def test_a_case_file_pdf_shows_the_ring_its_verdict_and_its_audit_trail(
    store: GraphStore, documents_world: DocumentsWorld, tmp_path: Path
) -> None:
    ring_id = documents_world.judged[0]
    ring = store.ring(ring_id)
    pages = printed(case_file_pdf(case_file(store, ring_id)), tmp_path, "case")
    assert len(pages) >= 2
    assert_not_blank(pages)
    text = " ".join(text_of(tmp_path / "case.pdf").split())
    for expected in (f"Case file: ring {ring_id}", "Score contributions", "Shared identifiers",
                     "Audit trail", NOTE, "under_review", "confirmed", *ring.accounts):  # fmt: skip
        assert expected in text, expected


def test_a_case_file_bundle_holds_the_rings_data_under_its_manifest(
    store: GraphStore, documents_world: DocumentsWorld
) -> None:
    ring_id = documents_world.judged[0]
    archive, manifest = verified(case_file_bundle(case_file(store, ring_id)))
    assert manifest["ring_id"] == ring_id
    members = pd.read_csv(archive.open("members.csv"))
    assert sorted(members["account"]) == sorted(store.ring(ring_id).accounts)
    audit = pd.read_csv(archive.open("audit.csv"))
    assert len(audit) == len(store.audit(ring_id=ring_id))
    events = pd.read_csv(archive.open("events.csv"))
    assert len(events) == len(store.events(accounts=store.ring(ring_id).accounts))


# -- inquiry packs ----------------------------------------------------------------------------


def a_card(documents_world: DocumentsWorld, account: str) -> str:
    cards = pd.read_csv(documents_world.data / "payment_methods.csv", dtype=str)
    return str(cards.loc[cards["account_id"] == account, "card_number"].iloc[0])


def test_an_inquiry_pack_covers_what_was_asked_under_a_verified_manifest(
    store: GraphStore, documents_world: DocumentsWorld, tmp_path: Path
) -> None:
    ring = store.ring(documents_world.judged[0])
    account = ring.accounts[0]
    card = a_card(documents_world, account)
    inquiry = Inquiry(accounts=[account], identifiers=[f"PaymentInstrument:{card}"],
                      since=pd.Timestamp("2024-01-01").to_pydatetime())  # fmt: skip
    archive, manifest = verified(inquiry_pack(store, inquiry, settings=Settings()))
    assert set(archive.namelist()) >= {"summary.html", "summary.pdf", "accounts.csv",
                                       "identifiers.csv", "links.csv", "events.csv", "rings.csv",
                                       "ring_history.csv", "notes.csv", "audit.csv",
                                       "methodology.md", MANIFEST}  # fmt: skip
    (fingerprint,) = manifest["inquiry"]["identifiers"]
    assert fingerprint.startswith("PaymentInstrument:pi_")
    accounts = pd.read_csv(archive.open("accounts.csv"))
    sharing = store.accounts_sharing(EntityRef.parse(fingerprint))
    subjects = accounts[accounts["subject"]]
    assert set(subjects["key"]) == {account} | set(sharing["account"])
    links = pd.read_csv(archive.open("links.csv"))
    counterparties = set(accounts["key"]) - set(subjects["key"])
    assert counterparties <= set(links["src_key"]) | set(links["dst_key"])
    events = pd.read_csv(archive.open("events.csv"))
    expected = store.events(accounts=sorted(subjects["key"]), since="2024-01-01")
    expected = pd.concat([expected, store.events(refs=[fingerprint], since="2024-01-01")])
    assert set(events["event_id"]) == set(expected["event_id"])
    rings = pd.read_csv(archive.open("rings.csv"))
    assert ring.ring_id in set(rings["ring_id"])
    notes = pd.read_csv(archive.open("notes.csv"))
    assert NOTE in set(notes["text"])
    methodology = archive.read("methodology.md").decode()
    assert "Leiden" in methodology
    assert '"min_score"' in methodology
    # Cards appear only as fingerprints and masked numbers, nowhere as the number itself.
    digits = card.replace(" ", "")
    for path in archive.namelist():
        if not path.endswith(".pdf"):
            content = archive.read(path).decode()
            assert digits not in content.replace(" ", ""), path
    summary = tmp_path / "summary.pdf"
    summary.write_bytes(archive.read("summary.pdf"))
    assert_not_blank(printed(summary.read_bytes(), tmp_path, "summary"))
    assert f"{len(subjects):,} subject accounts" in " ".join(text_of(summary).split())
    assert " nan " not in text_of(summary)


def emails_of(store: GraphStore, account: str) -> list[str]:
    around = store.neighbourhood(EntityRef("Account", account)).nodes
    return sorted(around.loc[around["kind"] == "Email", "key"])


def test_an_identifier_is_normalised_as_the_loader_does(
    store: GraphStore, documents_world: DocumentsWorld
) -> None:
    email = emails_of(store, store.ring(documents_world.judged[0]).accounts[0])[0]
    written = f"  {email.upper()} "
    _, manifest = verified(
        inquiry_pack(store, Inquiry(identifiers=[f"Email:{written}"]), settings=Settings())
    )
    assert manifest["inquiry"]["identifiers"] == [f"Email:{email}"]


def test_redacted_kinds_appear_nowhere_in_the_pack(
    store: GraphStore, documents_world: DocumentsWorld
) -> None:
    account = store.ring(documents_world.judged[0]).accounts[0]
    emails = emails_of(store, account)
    archive, _ = verified(
        inquiry_pack(store, Inquiry(accounts=[account], redact=["Email"]), settings=Settings())
    )
    identifiers = pd.read_csv(archive.open("identifiers.csv"))
    hidden = identifiers[identifiers["kind"] == "Email"]["key"]
    assert len(hidden) == len(emails)
    assert hidden.str.startswith("redacted:").all()
    for path in archive.namelist():
        if not path.endswith(".pdf"):
            content = archive.read(path).decode()
            for email in emails:
                assert email not in content, path


def test_an_unknown_identifier_is_named_in_the_error(store: GraphStore) -> None:
    with pytest.raises(NotFound, match=re.escape("Email:nobody@example.com")):
        inquiry_pack(store, Inquiry(identifiers=["Email:nobody@example.com"]), settings=Settings())
