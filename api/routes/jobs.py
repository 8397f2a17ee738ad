"""Jobs: start ring detection in the background and poll it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status

from api.deps import require_investigator, require_reader
from api.jobs import DetectionBusy, DetectionJobs
from api.schemas import DetectionRequest, Job, error_responses

router = APIRouter(prefix="/api/jobs", tags=["jobs"], dependencies=[Depends(require_reader)])


async def _jobs(request: Request) -> DetectionJobs:
    jobs: DetectionJobs = request.app.state.jobs
    return jobs


JobsDep = Annotated[DetectionJobs, Depends(_jobs)]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_investigator)],
    responses=error_responses(400, 401, 403, 409, 422),
)
def start_detection(jobs: JobsDep, options: DetectionRequest | None = None) -> Job:
    """Start ring detection; poll the returned job until it has succeeded or failed."""
    try:
        return jobs.start(seed=(options or DetectionRequest()).seed)
    except DetectionBusy as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


@router.get("", responses=error_responses(401))
def list_jobs(jobs: JobsDep) -> list[Job]:
    """Recent detection jobs, newest first."""
    return jobs.all()


@router.get("/{job_id}", responses=error_responses(401, 404, 422))
def get_job(jobs: JobsDep, job_id: Annotated[str, Path(max_length=100)]) -> Job:
    """One detection job: its state, progress and, once done, what it found."""
    return jobs.get(job_id)
