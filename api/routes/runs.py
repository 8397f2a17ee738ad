"""Detection runs: every run the store recorded, whichever process ran it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import StoreDep, require_reader
from api.schemas import DetectionRunRecord, error_responses

router = APIRouter(prefix="/api/runs", tags=["runs"], dependencies=[Depends(require_reader)])


@router.get("", responses=error_responses(401, 503))
def list_runs(store: StoreDep) -> list[DetectionRunRecord]:
    """Every detection run, newest first: when, with which settings over which data, and what
    it found (rings new, returned, grown, shrunk and retired). Kept in the store, so the list
    survives a restart; a job's run has the job's id."""
    return [DetectionRunRecord.model_validate(run) for run in store.runs()]
