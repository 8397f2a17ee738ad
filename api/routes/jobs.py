"""Jobs: start ring detection in the background and poll it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status

from api.deps import require_investigator, require_reader
from api.jobs import DetectionBusy, DetectionJobs
from api.schemas import DetectionRequest, Job, error_responses
from graphfraud.errors import ConfigError

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
    """Start ring detection; poll the returned job until it has succeeded or failed.

    ``settings`` changes detection settings for this run (see ``GET /api/settings/detection``);
    a bad name or value is a 422 naming it. The run records the settings it ran with
    (``GET /api/runs``)."""
    options = options or DetectionRequest()
    try:
        return jobs.start(seed=options.seed, changes=options.settings)
    except DetectionBusy as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ConfigError as exc:  # a bad setting is the request's fault, not the server's
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("", responses=error_responses(401))
def list_jobs(jobs: JobsDep) -> list[Job]:
    """Recent detection jobs, newest first."""
    return jobs.all()


@router.get("/{job_id}", responses=error_responses(401, 404, 422))
def get_job(jobs: JobsDep, job_id: Annotated[str, Path(max_length=100)]) -> Job:
    """One detection job: its state, progress and, once done, what it found."""
    return jobs.get(job_id)
