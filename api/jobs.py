"""Detection runs in the background: start one, poll it, read what it found.

One run at a time: detection reads the whole graph and rewrites the set of rings, so a second
run started meanwhile would only redo the same work. Runs happen on a daemon thread, writing
through the app's caching store when it has one (so its memory follows), else with a store
handle of their own. A job's run is recorded in the store under the job's id; verdicts are
never touched by a run, whatever investigators change while it runs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from algorithms.pipeline import detect_rings
from api.deps import StorePool
from api.schemas import DetectionOutcome, Job, JobProgress, JobState
from graphfraud.errors import NotFound
from graphfraud.settings import DetectionSettings, Settings, detection_settings

#: Finished jobs remembered for polling; older ones are forgotten.
KEEP_FINISHED = 50


class DetectionBusy(Exception):
    """A detection job is already queued or running."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"detection job {job.job_id} is already {job.state.value}")


class DetectionJobs:
    """The detection jobs of one application.

    Parameters
    ----------
    stores
        Where runs borrow their store.
    settings
        Detection settings are taken from here; a job may change some of them.
    """

    def __init__(self, stores: StorePool, *, settings: Settings) -> None:
        self._stores = stores
        self._settings = settings
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        #: The settings each queued job runs with, until it starts.
        self._detection: dict[str, DetectionSettings] = {}
        self._threads: list[threading.Thread] = []

    def start(self, *, seed: int = 0, changes: Mapping[str, Any] | None = None) -> Job:
        """Queue a detection run with the app's detection settings and ``changes`` over them
        (names as :func:`~graphfraud.settings.detection_settings` takes them).

        Raises :class:`DetectionBusy` if a run is under way, and
        :class:`~graphfraud.errors.ConfigError`, naming the setting, for a bad name or value.
        """
        settings = detection_settings(self._settings.detection, changes=changes)
        with self._lock:
            busy = [
                j for j in self._jobs.values() if j.state in (JobState.QUEUED, JobState.RUNNING)
            ]
            if busy:
                raise DetectionBusy(busy[0])
            job = Job(
                job_id=uuid.uuid4().hex[:12],
                state=JobState.QUEUED,
                seed=seed,
                settings=dict(changes or {}),
                submitted_at=_now(),
            )
            self._jobs[job.job_id] = job
            self._detection[job.job_id] = settings
            self._forget_old()
        thread = threading.Thread(target=self._run, args=(job.job_id,), daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job.model_copy()

    def get(self, job_id: str) -> Job:
        """One job as it stands now; raises NotFound."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(f"no detection job with id {job_id!r}")
            return job.model_copy(deep=True)

    def all(self) -> list[Job]:
        """Every remembered job, newest first."""
        with self._lock:
            return [job.model_copy(deep=True) for job in reversed(self._jobs.values())]

    def close(self, *, timeout: float = 1.0) -> None:
        """Give running jobs a moment to finish (their threads die with the process)."""
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, job_id: str) -> None:
        self._update(job_id, state=JobState.RUNNING, started_at=_now())
        with self._lock:
            settings = self._detection.pop(job_id)

        def progress(stage: str, done: int, total: int) -> None:
            self._update(job_id, progress=JobProgress(stage=stage, done=done, total=total))

        try:
            with self._stores.writer() as store:
                result = detect_rings(
                    store,
                    settings=settings,
                    seed=self.get(job_id).seed,
                    progress=progress,
                    run_id=job_id,
                )
        except Exception as exc:  # a thread boundary: any failure must end the job, or it
            # would stay "running" and block every later run.
            self._update(job_id, state=JobState.FAILED, finished_at=_now(), error=str(exc))
            return
        outcome = DetectionOutcome(
            run_id=job_id,
            rings=len(result.rings),
            accounts=result.accounts,
            candidates=result.candidates,
            seconds=round(result.seconds, 3),
        )
        self._update(job_id, state=JobState.SUCCEEDED, finished_at=_now(), result=outcome)

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs[job_id]
            self._jobs[job_id] = job.model_copy(update=changes)

    def _forget_old(self) -> None:
        finished = [
            j.job_id
            for j in self._jobs.values()
            if j.state in (JobState.SUCCEEDED, JobState.FAILED)
        ]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]


def _now() -> datetime:
    return datetime.now(UTC)
