import asyncio
import threading
from datetime import timedelta

import pytest
from celery.schedules import crontab, schedule
from django.conf import settings
from prometheus_client import REGISTRY

from apps.operations.scheduler import Job, Scheduler, jobs_from_schedule
from tests.operations import jobs


@pytest.fixture(autouse=True)
def _reset_jobs():
    jobs.calls.clear()
    jobs.release.clear()
    yield
    jobs.release.set()


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_job(task: str, interval: float = 10.0, **kwargs) -> Job:
    return Job(name=task.rsplit(".", 1)[1], task=task, interval=interval, **kwargs)


async def wait_idle(scheduler: Scheduler) -> None:
    await asyncio.gather(*scheduler._tasks)


def test_the_beat_schedule_becomes_jobs_first_due_after_one_interval():
    found = jobs_from_schedule(settings.CELERY_BEAT_SCHEDULE, now=100.0)

    by_name = {job.name: job for job in found}
    entry = settings.CELERY_BEAT_SCHEDULE["mark-stale-stations-offline"]
    job = by_name["mark-stale-stations-offline"]
    assert job.task == entry["task"]
    assert job.interval == entry["schedule"].total_seconds()
    assert job.next_run == 100.0 + job.interval
    assert set(by_name) == set(settings.CELERY_BEAT_SCHEDULE)


def test_interval_kinds_are_understood_and_crontab_is_skipped(caplog):
    found = jobs_from_schedule(
        {
            "td": {"task": "a.b", "schedule": timedelta(minutes=2)},
            "seconds": {"task": "a.b", "schedule": 30, "kwargs": {"x": 1}},
            "celery": {
                "task": "a.b",
                "schedule": schedule(run_every=timedelta(seconds=5)),
            },
            "cron": {"task": "a.b", "schedule": crontab(minute="*/5")},
        },
        now=0.0,
    )

    assert [(j.name, j.interval) for j in found] == [
        ("td", 120.0),
        ("seconds", 30.0),
        ("celery", 5.0),
    ]
    assert found[1].kwargs == {"x": 1}
    assert "skips 'cron'" in caplog.text


async def test_a_due_job_runs_in_a_worker_thread():
    # given
    clock = Clock(0.0)
    job = make_job(
        "tests.operations.jobs.record_run", kwargs={"who": "beat"}, next_run=10
    )
    scheduler = Scheduler([job], clock=clock)

    # when: not yet due, then due
    clock.now = 9.9
    early = scheduler.start_due()
    clock.now = 10.0
    started = scheduler.start_due()
    await wait_idle(scheduler)

    # then
    assert early == []
    assert started == [job]
    assert len(jobs.calls) == 1
    assert jobs.calls[0]["who"] == "beat"
    assert jobs.calls[0]["thread"] != threading.current_thread().name
    assert job.next_run == 20.0
    assert job.running is False


async def test_a_failing_job_is_logged_counted_and_runs_again(caplog):
    # given
    clock = Clock(10.0)
    job = make_job("tests.operations.jobs.fail", next_run=10)
    scheduler = Scheduler([job], clock=clock)
    before = REGISTRY.get_sample_value(
        "csms_scheduled_job_runs_total", {"job": "fail", "outcome": "failed"}
    )

    # when
    scheduler.start_due()
    await wait_idle(scheduler)
    clock.now = 20.0
    again = scheduler.start_due()
    await wait_idle(scheduler)

    # then
    assert again == [job]
    assert "Scheduled job fail (tests.operations.jobs.fail) failed" in caplog.text
    assert "job failed on purpose" in caplog.text
    after = REGISTRY.get_sample_value(
        "csms_scheduled_job_runs_total", {"job": "fail", "outcome": "failed"}
    )
    assert after == (before or 0) + 2


async def test_a_job_that_cannot_be_imported_is_a_logged_failure(caplog):
    job = make_job("tests.operations.jobs.no_such_task", next_run=0)
    scheduler = Scheduler([job], clock=Clock(0.0))

    scheduler.start_due()
    await wait_idle(scheduler)

    assert "Scheduled job no_such_task" in caplog.text
    assert job.running is False


async def test_a_job_still_running_is_skipped_not_doubled():
    # given
    clock = Clock(10.0)
    job = make_job("tests.operations.jobs.block", next_run=10)
    scheduler = Scheduler([job], clock=clock)
    scheduler.start_due()

    # when
    clock.now = 20.0
    second = scheduler.start_due()

    # then
    assert second == []
    assert job.next_run == 30.0
    jobs.release.set()
    await wait_idle(scheduler)
    assert job.running is False


def test_a_long_sleep_runs_a_job_once_and_keeps_its_rhythm():
    clock = Clock(0.0)
    job = make_job("tests.operations.jobs.record_run", next_run=10)
    scheduler = Scheduler([job], clock=clock)
    clock.now = 55.0

    assert scheduler.seconds_until_next() == 0.05

    async def tick():
        started = scheduler.start_due()
        await wait_idle(scheduler)
        return started

    assert asyncio.run(tick()) == [job]
    assert job.next_run == 60.0
    assert len(jobs.calls) == 1


async def test_run_forever_keeps_running_jobs_until_cancelled():
    # given
    job = make_job("tests.operations.jobs.record_run", interval=0.05)
    scheduler = Scheduler(jobs_from_schedule({}, now=0.0) + [job])
    job.next_run = scheduler.clock() + 0.05
    task = asyncio.create_task(scheduler.run_forever())

    # when
    for _ in range(100):
        await asyncio.sleep(0.02)
        if len(jobs.calls) >= 2:
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    # then
    assert len(jobs.calls) >= 2
    assert task.cancelled()
