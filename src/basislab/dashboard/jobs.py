"""Background jobs of the dashboard: a bounded queue of simulations, one worker thread.

A request is checked before it is queued (:class:`Limits`: paths x funds x steps capped); the
queue holds at most ``max_queue`` waiting jobs; each job belongs to one browser session and is
only shown to it. A job that raises is recorded as failed with a one-line message (the page
shows it; the worker carries on). JAX releases the GIL while it computes, so one worker thread
keeps the web server responsive.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from basislab.errors import BasislabError


class RequestTooLarge(BasislabError):
    """A simulation request over the dashboard's limits."""


class QueueFull(BasislabError):
    """The job queue is full."""


class Limits(BaseModel):
    """Caps on what one dashboard request may ask for (an assumption sized for a laptop: the
    largest allowed run takes tens of seconds on two cores)."""

    model_config = ConfigDict(frozen=True)

    max_paths: int = 256
    max_funds: int = 500
    max_steps: int = 250
    max_work: int = 4_000_000  # paths x funds x steps x worlds
    max_queue: int = 4
    max_upload_bytes: int = 2_000_000

    def check(self, paths: int, funds: int, steps: int, worlds: int = 1) -> None:
        """Raise :class:`RequestTooLarge` with one clear line when a request exceeds a cap."""
        for name, value, cap in (
            ("paths", paths, self.max_paths),
            ("funds", funds, self.max_funds),
            ("days", steps, self.max_steps),
        ):
            if value < 1 or value > cap:
                raise RequestTooLarge(f"{name} must be between 1 and {cap:,} in the dashboard, got {value:,}")
        work = paths * funds * steps * worlds
        if work > self.max_work:
            raise RequestTooLarge(
                f"paths x funds x days x worlds = {paths:,} x {funds:,} x {steps:,} x {worlds} = {work:,} "
                f"exceeds the dashboard's cap of {self.max_work:,}; use fewer paths or funds, or run "
                "`basislab simulate` from the command line"
            )


@dataclass
class Job:
    """One queued or finished job, as the page sees it."""

    id: str
    session: str
    label: str
    status: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    message: str = ""
    result: object = None
    created: float = field(default_factory=time.time)


class JobQueue:
    """A bounded queue of jobs run by one worker thread; jobs are kept per session."""

    def __init__(self, max_queue: int = 4, keep: int = 50):
        self.max_queue, self.keep = max_queue, keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="basislab-job")

    def submit(self, session: str, label: str, fn: Callable[[Callable[[float, str], None]], object]) -> Job:
        """Queue ``fn(report)``; ``report(fraction, message)`` updates the job's progress."""
        with self._lock:
            waiting = sum(j.status in ("queued", "running") for j in self._jobs.values())
            if waiting >= self.max_queue:
                raise QueueFull(
                    f"the job queue is full ({waiting} jobs waiting or running); try again shortly"
                )
            job = Job(uuid.uuid4().hex, session, label)
            self._jobs[job.id] = job
            self._trim()
        self._pool.submit(self._run, job, fn)
        return job

    def _trim(self) -> None:
        done = sorted(
            (j for j in self._jobs.values() if j.status in ("done", "failed")), key=lambda j: j.created
        )
        for j in done[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[j.id]

    def _run(self, job: Job, fn) -> None:
        def report(fraction: float, message: str) -> None:
            job.progress, job.message = max(0.0, min(1.0, float(fraction))), message

        job.status, job.message = "running", "starting"
        try:
            job.result = fn(report)
            job.status, job.progress, job.message = "done", 1.0, "finished"
        except BasislabError as exc:
            job.status, job.message = "failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - a crashed run must show an error, not kill the worker
            job.status = "failed"
            job.message = (
                f"the run crashed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
            traceback.print_exc()

    def get(self, session: str, job_id: str) -> Job | None:
        """The job ``job_id`` if it belongs to ``session`` (another session's job is None)."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.session == session else None

    def for_session(self, session: str) -> list[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.session == session), key=lambda j: -j.created)

    def wait(self, job: Job, timeout: float = 60.0) -> Job:
        """Block until ``job`` finishes (tests)."""
        end = time.time() + timeout
        while job.status in ("queued", "running") and time.time() < end:
            time.sleep(0.02)
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
