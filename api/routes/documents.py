"""Documents over HTTP: a ring's case file, the trend report and its ``/reports`` page, and
regulator inquiry packs.

Case files and reports take the key as ``?key=`` too, so a link on a page downloads them in a
browser; inquiry packs (every record about the people named) need an investigator key.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import (
    API_KEY_QUERY,
    InvestigatorDep,
    SettingsDep,
    StoreDep,
    require_page_reader,
    require_reader,
)
from api.documents.case_file import (
    case_file,
    case_file_bundle,
    case_file_html,
    case_file_pdf,
)
from api.documents.inquiry import Inquiry, inquiry_pack
from api.documents.trends import (
    Period,
    ReportFormat,
    render_trend_report,
    trend_report,
    trend_report_html,
)
from api.schemas import IsoDate, IsoTime, error_responses

router = APIRouter(tags=["documents"])

MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "md": "text/markdown",
         "zip": "application/zip"}  # fmt: skip


def _document(content: bytes, kind: str, filename: str, *, attach: bool) -> Response:
    headers = {
        "Content-Disposition": f'{"attachment" if attach else "inline"}; filename="{filename}"'
    }
    return Response(content, media_type=MEDIA[kind], headers=headers)


def _answers(*kinds: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {MEDIA[k]: {} for k in kinds}, "description": "The document."}}


class CaseFileFormat(StrEnum):
    """A case file as a page, a PDF, or its data as CSV files in a zip."""

    HTML = "html"
    PDF = "pdf"
    CSV = "csv"


@router.get(
    "/api/rings/{ring_id}/case-file",
    dependencies=[Depends(require_page_reader)],
    response_class=Response,
    responses={**_answers("html", "pdf", "zip"), **error_responses(401, 404, 422, 503, page=True)},
)
def get_case_file(
    ring_id: str, store: StoreDep, format: CaseFileFormat = CaseFileFormat.HTML
) -> Response:
    """A ring's case file: graph picture, explanation, score contributions, members, shared
    identifiers, timeline, history, notes and audit trail. ``format=pdf`` prints it;
    ``format=csv`` gives its data as CSV files in a zip with a manifest of SHA-256 hashes."""
    case = case_file(store, ring_id)
    name = f"case-file-{ring_id}"
    if format is CaseFileFormat.PDF:
        return _document(case_file_pdf(case), "pdf", f"{name}.pdf", attach=True)
    if format is CaseFileFormat.CSV:
        return _document(case_file_bundle(case), "zip", f"{name}.zip", attach=True)
    return _document(case_file_html(case).encode(), "html", f"{name}.html", attach=False)


Since = Annotated[
    IsoDate | None,
    Query(alias="from", description="First day covered (default: the first record)."),
]
Until = Annotated[
    IsoDate | None,
    Query(alias="to", description="Day after the last one covered (default: the last record)."),
]


@router.get(
    "/api/reports",
    dependencies=[Depends(require_page_reader)],
    response_class=Response,
    responses={**_answers("html", "pdf", "md"), **error_responses(400, 401, 422, 503, page=True)},
)
def get_trend_report(
    store: StoreDep,
    period: Period = Period.WEEK,
    since: Since = None,
    until: Until = None,
    format: ReportFormat = ReportFormat.HTML,
) -> Response:
    """The trend report: new, growing, shrinking and retired rings per period by typology;
    accounts and GMV affected; the verdict funnel and time to verdict; emerging patterns;
    what changed since the period before."""
    report = trend_report(store, period=period, start=since, end=until)
    content = render_trend_report(report, format)
    name = f"fraud-trends-{report.start:%Y-%m-%d}-{report.end:%Y-%m-%d}.{format.value}"
    return _document(content, format.value, name, attach=format is not ReportFormat.HTML)


@router.get(
    "/reports",
    dependencies=[Depends(require_page_reader)],
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "An HTML page."},
        **error_responses(400, 401, 422, 503, page=True),
    },
)
def reports_page(
    request: Request,
    store: StoreDep,
    period: Period = Period.WEEK,
    since: Since = None,
    until: Until = None,
) -> HTMLResponse:
    """The trend report as a page, with a form to choose the period and window and links to
    download it as PDF or Markdown."""
    report = trend_report(store, period=period, start=since, end=until)
    key = request.query_params.get(API_KEY_QUERY)
    kept = {API_KEY_QUERY: key} if key else {}
    window = {"period": period.value, "from": since, "to": until}
    shown = {k: v.isoformat() if isinstance(v, date) else v for k, v in window.items() if v}

    def link(fmt: str) -> str:
        return "/api/reports?" + urlencode({**shown, "format": fmt, **kept})

    downloads = {
        "query": kept,
        "start": since.isoformat() if since else "",
        "end": until.isoformat() if until else "",
        "links": {"PDF": link("pdf"), "Markdown": link("md")},
    }
    return HTMLResponse(trend_report_html(report, downloads=downloads))


class InquiryRequest(BaseModel):
    """A regulator's inquiry: whom and what it is about, over which window. It names at least
    one account or identifier."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["accounts"], "properties": {"accounts": {"minItems": 1}}},
                {"required": ["identifiers"], "properties": {"identifiers": {"minItems": 1}}},
            ]
        },
    )

    accounts: list[str] = Field(default_factory=list, max_length=1000,
                                description="Account keys.")  # fmt: skip
    identifiers: list[Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9_]*:.+$")]] = Field(
        default_factory=list,
        max_length=1000,
        description="Identifiers as 'Kind:value', written as the source had them (normalised "
        "as the loader does; card numbers are fingerprinted with the store's key).",
    )
    since: IsoTime | None = Field(default=None, alias="from")
    until: IsoTime | None = Field(default=None, alias="to")
    redact: list[str] = Field(
        default_factory=list,
        description="Fields (display, attributes, text) or entity kinds (Email, Phone, "
        "Address, Account) to replace by pseudonyms.",
    )

    @model_validator(mode="after")
    def names_someone(self) -> InquiryRequest:
        if not self.accounts and not self.identifiers:
            raise ValueError("an inquiry names at least one account or identifier")
        return self


@router.post(
    "/api/inquiries",
    dependencies=[Depends(require_reader)],
    response_class=Response,
    responses={**_answers("zip"), **error_responses(400, 401, 403, 404, 422, 503)},
)
def post_inquiry(
    body: InquiryRequest, store: StoreDep, settings: SettingsDep, caller: InvestigatorDep
) -> Response:
    """A regulator inquiry pack as a zip: summary (HTML and PDF), CSVs of every account,
    identifier, link and event in scope, the rings involved with their history, verdicts,
    notes and audit trail, a methodology note, and ``manifest.json`` with every file's
    SHA-256. Sent in a POST body: identifiers such as card numbers stay out of URLs."""
    inquiry = Inquiry(
        accounts=body.accounts, identifiers=body.identifiers, since=body.since,
        until=body.until, redact=body.redact,
    )  # fmt: skip
    pack = inquiry_pack(store, inquiry, settings=settings)
    return _document(pack, "zip", "inquiry-pack.zip", attach=True)
