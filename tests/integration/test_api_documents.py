"""Documents over HTTP: case files and trend reports downloaded with the page's ``?key=``,
the ``/reports`` page and its download links, and inquiry packs for investigators only."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.api_server import INVESTIGATOR_KEY, READ_KEY, ServedApi, api_settings, serving
from tests.documents_world import NOTE, DocumentsWorld


@pytest.fixture(scope="module")
def served(documents_world: DocumentsWorld) -> Iterator[ServedApi]:
    with serving(api_settings(), documents_world.store_url, engine="duckdb") as api:
        yield api


def test_a_case_file_pdf_downloads_with_the_pages_key(
    served: ServedApi, documents_world: DocumentsWorld
) -> None:
    ring_id = documents_world.judged[0]
    with served.client(None) as browser:
        answer = browser.get(f"/api/rings/{ring_id}/case-file?format=pdf&key={READ_KEY}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="case-file-{ring_id}.pdf"'
    )
    assert answer.content.startswith(b"%PDF")


def test_a_case_file_page_shows_the_rings_notes(
    served: ServedApi, documents_world: DocumentsWorld
) -> None:
    ring_id = documents_world.judged[0]
    with served.client() as client:
        answer = client.get(f"/api/rings/{ring_id}/case-file")
    assert answer.status_code == 200
    notes = answer.text.split('<table id="notes">')[1].split("</table>")[0]
    assert NOTE in notes
    assert re.search(
        r'<img class="chart" alt="graph of ring [^"]+" src="data:image/png', answer.text
    )


def test_a_case_file_bundle_is_a_zip_with_a_manifest(
    served: ServedApi, documents_world: DocumentsWorld
) -> None:
    with served.client() as client:
        answer = client.get(f"/api/rings/{documents_world.judged[1]}/case-file?format=csv")
    assert answer.headers["content-type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(answer.content))
    manifest = json.loads(bundle.read("manifest.json"))
    assert set(manifest["files"]) == set(bundle.namelist()) - {"manifest.json"}


def test_documents_need_a_key(served: ServedApi, documents_world: DocumentsWorld) -> None:
    with served.client(None) as client:
        assert client.get(f"/api/rings/{documents_world.judged[0]}/case-file").status_code == 401
        assert client.get("/reports").status_code == 401
        assert client.get("/api/reports").status_code == 401


def test_an_unknown_ring_has_no_case_file(served: ServedApi) -> None:
    with served.client() as client:
        answer = client.get("/api/rings/R-nope/case-file?format=pdf")
    assert answer.status_code == 404
    assert "R-nope" in answer.json()["detail"]


def test_the_reports_page_links_to_its_pdf_and_markdown(served: ServedApi) -> None:
    with served.client(None) as browser:
        page = browser.get(f"/reports?period=month&from=2025-06-01&key={READ_KEY}")
        assert page.status_code == 200, page.text
        assert 'id="headline"' in page.text
        nav = page.text.split('<nav class="downloads">')[1].split("</nav>")[0]
        links = {label: html.unescape(href)
                 for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)}  # fmt: skip
        assert set(links) == {"PDF", "Markdown"}
        pdf = browser.get(links["PDF"])
        markdown = browser.get(links["Markdown"])
    assert urlsplit(links["PDF"]).path == "/api/reports"
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "| 2025-06 |" in markdown.text


def test_a_report_window_must_be_dates(served: ServedApi) -> None:
    with served.client() as client:
        assert client.get("/api/reports", params={"from": "last week"}).status_code == 422
        assert client.get("/api/reports", params={"period": "fortnight"}).status_code == 422
        backwards = client.get("/api/reports", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards.status_code == 400
    assert "before it starts" in backwards.json()["detail"]


def test_an_inquiry_pack_needs_an_investigator(
    served: ServedApi, documents_world: DocumentsWorld
) -> None:
    with documents_world.open() as store:
        body = {"accounts": store.ring(documents_world.judged[0]).accounts[:1]}
    with served.client(READ_KEY) as reader:
        assert reader.post("/api/inquiries", json=body).status_code == 403
    with served.client(INVESTIGATOR_KEY) as investigator:
        answer = investigator.post("/api/inquiries", json={**body, "from": "2024-01-01"})
    assert answer.status_code == 200, answer.text
    pack = zipfile.ZipFile(io.BytesIO(answer.content))
    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["inquiry"]["accounts"] == body["accounts"]
    assert manifest["inquiry"]["from"].startswith("2024-01-01")


def test_an_inquiry_about_an_unknown_identifier_says_which(served: ServedApi) -> None:
    with served.client(INVESTIGATOR_KEY) as investigator:
        answer = investigator.post(
            "/api/inquiries", json={"identifiers": ["Phone:+1 555 0100 999"]}
        )
    assert answer.status_code == 404
    assert "Phone:+1 555 0100 999" in answer.json()["detail"]
