"""The in-process scheduler of the embedded run: Celery beat without Celery.

It reads the same ``CELERY_BEAT_SCHEDULE`` that beat uses in production and
runs each entry at its interval inside the server process. Each job runs in a
worker thread (the server's event loop never blocks on it); a job still running
when it is due again is skipped, not doubled; a failure is logged and counted,
and the job runs again at its next turn.

Interval schedules only (``timedelta``, seconds, or Celery's ``schedule``): a
crontab entry is skipped with a warning. Like beat, a job first runs one
interval after start-up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils.module_loading import import_string

from apps.operations.metrics import SCHEDULED_JOB_RUNS

logger = logging.getLogger(__name__)

_MIN_SLEEP = 0.05
_MAX_SLEEP = 60.0


@dataclass
class Job:
    name: str
    task: str
    interval: float
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    next_run: float = 0.0
    running: bool = False


def _interval_seconds(schedule: Any) -> float | None:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    run_every = getattr(schedule, "run_every", None)  # celery.schedules.schedule
    if isinstance(run_every, timedelta):
        return run_every.total_seconds()
    return None


def jobs_from_schedule(schedule: dict[str, dict], *, now: float) -> list[Job]:
    """One Job per usable beat entry, first due one interval from ``now``."""
    jobs = []
    for name, entry in schedule.items():
        interval = _interval_seconds(entry.get("schedule"))
        if interval is None or interval <= 0:
            logger.warning(
                "In-process scheduler skips %r: only positive interval schedules "
                "are supported (got %r)",
                name,
                entry.get("schedule"),
            )
            continue
        jobs.append(
            Job(
                name=name,
                task=entry["task"],
                interval=interval,
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
                next_run=now + interval,
            )
        )
    return jobs


def _run_in_thread(job: Job) -> None:
    # Like Celery's Django fix-up: no stale or broken connection into the job,
    # none left open past CONN_MAX_AGE after it.
    close_old_connections()
    try:
        task = import_string(job.task)
        # Calling a Celery task object runs its body here, synchronously.
        task(*job.args, **job.kwargs)
    finally:
        close_old_connections()


class Scheduler:
    def __init__(
        self,
        jobs: list[Job],
        *,
        clock: Callable[[], float] = time.monotonic,
        runner: Callable[[Job], None] = _run_in_thread,
    ) -> None:
        self.jobs = jobs
        self.clock = clock
        self.runner = runner
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def from_settings(cls) -> Scheduler:
        from django.conf import settings

        return cls(
            jobs_from_schedule(settings.CELERY_BEAT_SCHEDULE, now=time.monotonic())
        )

    def start_due(self) -> list[Job]:
        """Start every job that is due and not still running; return them."""
        now = self.clock()
        started = []
        for job in self.jobs:
            if job.next_run > now:
                continue
            # Next turn counted from the due time, so runs do not drift; a
            # process that slept through several turns runs once, not N times.
            while job.next_run <= now:
                job.next_run += job.interval
            if job.running:
                logger.warning(
                    "Scheduled job %s still running; skipping a turn", job.name
                )
                SCHEDULED_JOB_RUNS.labels(job.name, "skipped").inc()
                continue
            job.running = True
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(job)
        return started

    async def _run(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            await sync_to_async(self.runner, thread_sensitive=False)(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Scheduled job %s (%s) failed", job.name, job.task)
            SCHEDULED_JOB_RUNS.labels(job.name, "failed").inc()
        else:
            logger.debug(
                "Scheduled job %s done in %.3fs",
                job.name,
                time.perf_counter() - started,
            )
            SCHEDULED_JOB_RUNS.labels(job.name, "succeeded").inc()
        finally:
            job.running = False

    def seconds_until_next(self) -> float:
        if not self.jobs:
            return _MAX_SLEEP
        wait = min(job.next_run for job in self.jobs) - self.clock()
        return min(max(wait, _MIN_SLEEP), _MAX_SLEEP)

    async def run_forever(self) -> None:
        names = ", ".join(f"{j.name} every {j.interval:g}s" for j in self.jobs)
        logger.info("In-process scheduler started: %s", names or "no jobs")
        try:
            while True:
                await asyncio.sleep(self.seconds_until_next())
                try:
                    self.start_due()
                except Exception:  # never let a bug stop the other jobs
                    logger.exception("In-process scheduler tick failed")
        finally:
            for task in list(self._tasks):
                task.cancel()
