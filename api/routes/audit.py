"""The audit trail across rings: every change to a verdict, for reports and reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import StoreDep, require_reader
from api.schemas import AuditRecord, IsoTime, error_responses

router = APIRouter(prefix="/api/audit", tags=["audit"], dependencies=[Depends(require_reader)])


@router.get("", responses=error_responses(401, 404, 422, 503))
def list_audit(
    store: StoreDep,
    ring_id: Annotated[str | None, Query(max_length=200, description="Only this ring.")] = None,
    since: Annotated[
        IsoTime | None, Query(description="From this time (ISO 8601; UTC when no offset).")
    ] = None,
    until: Annotated[IsoTime | None, Query(description="Up to, not including, this time.")] = None,
) -> list[AuditRecord]:
    """Changes to ring verdicts (status, assignee, notes), oldest first: who, when, old → new."""
    found = store.audit(ring_id=ring_id, since=since, until=until)
    return [AuditRecord.model_validate(entry) for entry in found]
