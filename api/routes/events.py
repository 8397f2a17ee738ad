"""New rows while serving (sign-ups, logins, orders, transfers), and the alerts they raise."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

import pandas as pd
from fastapi import APIRouter, Body, Depends, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import IngestDep, StoreDep, WriterDep, require_reader
from api.ingest import Ingest, Ingested
from api.schemas import (
    EVENTS_EXAMPLE,
    MAX_EVENT_ROWS,
    AlertList,
    AlertRecord,
    ErrorBody,
    EventBatch,
    EventsAccepted,
    FieldError,
    IncrementalOutcome,
    RejectRecord,
    TimeOrAlert,
    error_responses,
)
from graphfraud.errors import NotFound
from graphfraud.model import RingAlert
from graphfraud.store import GraphStore
from loaders.append import RowsRejected
from loaders.mapping import MappingSpec

router = APIRouter(tags=["events"])


def _ingest(request: Request) -> Ingest:
    ingest: Ingest = request.app.state.ingest
    return ingest


@router.post(
    "/api/events",
    response_model=EventsAccepted,
    responses=error_responses(400, 401, 403, 422, 503),
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EVENTS_EXAMPLE}}}},
)
async def post_events(
    request: Request,
    caller: IngestDep,
    store: WriterDep,
    batch: Annotated[EventBatch, Body()],
) -> EventsAccepted | JSONResponse:
    """Add new rows (sign-ups, logins, orders, transfers, in the server's mapping) and update
    the rings they touch.

    The rows are normalised and checked exactly as ``graphfraud load`` does: a bad field is
    dropped and listed in ``rejects``, the rest of its row loaded; a row without a valid
    account is rejected whole. When every row is rejected, nothing is written and the answer
    is a 422 naming each bad row and field. Then the
    components of the graph the rows touched are detected again (the rest of the rings are
    kept, with their ids, verdicts and history), and new or grown rings appear in
    ``GET /api/alerts``. Needs an ingest or investigator key.
    """
    ingest = _ingest(request)
    rows = sum(len(table) for table in batch.tables.values())
    if rows > MAX_EVENT_ROWS:
        _refuse(
            ("body", "tables"),
            f"{rows:,} rows sent; one request takes at most {MAX_EVENT_ROWS:,} (send several, or "
            "use graphfraud load)",
        )
    if rows == 0:
        _refuse(("body", "tables"), "no rows sent")
    tables = _frames(batch, ingest.spec)
    try:
        done = await run_in_threadpool(ingest.append, store, tables)
    except RowsRejected as exc:
        return _rejected(exc)
    return _accepted(done)


def _frames(batch: EventBatch, spec: MappingSpec) -> dict[str, pd.DataFrame]:
    """The rows as one frame of text per table, every column the mapping reads present."""
    sources = {source.table: source for source in spec.sources}
    frames = {}
    for table, rows in batch.tables.items():
        if table not in sources:
            _refuse(
                ("body", "tables", table),
                f"table {table!r} is not in mapping {spec.name!r}; its tables are: "
                f"{', '.join(sources)}",
            )
        columns = sources[table].columns
        for number, row in enumerate(rows, start=1):
            extra = sorted(set(row) - set(columns))
            if extra:
                _refuse(
                    ("body", "tables", table, number, extra[0]),
                    f"column {extra[0]!r} is not one the mapping reads; {table} has: "
                    f"{', '.join(columns)}",
                )
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frames[table] = frame.astype(object).where(frame.notna(), None)
    return frames


def _refuse(location: tuple[str | int, ...], message: str) -> NoReturn:
    """A 422 naming where in the body the problem is."""
    raise RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])


def _reject_records(rejects: pd.DataFrame) -> list[RejectRecord]:
    return [
        RejectRecord(
            table=str(row["table"]),
            row=int(row["row"]),
            column=str(row["column"]),
            dropped=str(row["dropped"]),
            reason=str(row["reason"]),
        )
        for row in rejects.to_dict("records")
    ]


def _rejected(exc: RowsRejected) -> JSONResponse:
    errors = [
        FieldError(
            field=f"tables.{reject.table}.{reject.row}"
            + (f".{reject.column}" if reject.column else ""),
            location="body",
            message=f"{reject.reason} ({'row' if reject.dropped == 'row' else 'field'} rejected)",
        )
        for reject in _reject_records(exc.rejects)
    ]
    body = ErrorBody(detail=str(exc), errors=errors)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _accepted(done: Ingested) -> EventsAccepted:
    report, found = done.appended.report, done.detection
    detection = None
    if found is not None and found.run is not None:
        detection = IncrementalOutcome(
            run_id=found.run.run_id,
            accounts=found.accounts,
            rings=[ring.ring_id for ring in found.rings_found],
            rings_kept=found.rings_kept,
            seconds=done.seconds,
            timings=found.timings,
        )
    return EventsAccepted(
        accepted=report.loaded,
        rejected=report.rejected,
        with_rejected_fields=report.with_rejected_fields,
        entities=report.entities,
        links=report.links,
        events=report.events,
        rejects=_reject_records(done.appended.rejects),
        detection=detection,
    )


@router.get(
    "/api/alerts",
    responses=error_responses(401, 403, 404, 422, 503),
    dependencies=[Depends(require_reader)],
)
async def list_alerts(
    store: StoreDep,
    since: Annotated[
        TimeOrAlert | None,
        Query(
            description="Only alerts after this: an ISO 8601 time (with its offset; without "
            "one, UTC) or an alert id from an earlier answer.",
            examples=["2026-01-16T14:00:00+00:00"],
        ),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> AlertList:
    """Rings that detection runs (full or after new rows) found new, back, grown or changed,
    newest first, paginated like the ring listing."""

    def read(opened: GraphStore) -> list[RingAlert]:
        return opened.ring_alerts(since=_since(opened, since))

    # Alerts are read from the store itself, never from memory: off the event loop.
    alerts = await run_in_threadpool(read, store)
    page = alerts[offset : offset + limit]
    return AlertList(
        total=len(alerts),
        offset=offset,
        limit=limit,
        alerts=[AlertRecord.model_validate(alert) for alert in page],
    )


def _since(store: GraphStore, since: datetime | str | None) -> datetime | None:
    """The time ``since`` names: itself, or when the run of the alert id it is finished."""
    if since is None or isinstance(since, datetime):
        return since
    run_id = since.partition(":")[0]
    for run in store.runs():
        if run.run_id == run_id:
            return run.finished_at
    raise NotFound(f"no alert has the id {since!r}: give an alert_id from /api/alerts or a time")
