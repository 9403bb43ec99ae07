import asyncio
import gc
import logging

import pytest
from django.conf import settings
from django.test import override_settings

from apps.events import publisher
from apps.operations import lifespan
from apps.operations.lifespan import LifespanApp


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    gc.unfreeze()


class InnerApp:
    def __init__(self):
        self.scopes = []

    async def __call__(self, scope, receive, send):
        self.scopes.append(scope["type"])


class LifespanDriver:
    """Plays the server's side of the ASGI lifespan protocol."""

    def __init__(self, app):
        self.inbox = asyncio.Queue()
        self.outbox = asyncio.Queue()
        self.task = asyncio.create_task(
            app({"type": "lifespan"}, self.inbox.get, self.outbox.put)
        )

    async def ask(self, message_type: str) -> dict:
        await self.inbox.put({"type": message_type})
        return await asyncio.wait_for(self.outbox.get(), 10)


@override_settings(RUN_PERIODIC_IN_PROCESS=True, GC_FREEZE_INTERVAL=300)
async def test_lifespan_starts_the_process_work_and_stops_it():
    # given
    app = LifespanApp(InnerApp())
    server = LifespanDriver(app)

    # when
    started = await server.ask("lifespan.startup")
    tasks = list(app._tasks)
    loop_bound = publisher._server_loop
    frozen = gc.get_freeze_count()
    stopped = await server.ask("lifespan.shutdown")
    await asyncio.wait_for(server.task, 10)

    # then
    assert started == {"type": "lifespan.startup.complete"}
    assert stopped == {"type": "lifespan.shutdown.complete"}
    assert loop_bound is asyncio.get_running_loop()
    assert frozen > 0
    assert gc.get_threshold()[:2] == (
        settings.GC_THRESHOLD_YOUNG,
        settings.GC_THRESHOLD_MIDDLE,
    )
    assert len(tasks) == 2  # periodic gc.freeze and the scheduler
    assert app.scheduler is not None
    assert {job.name for job in app.scheduler.jobs} >= {"mark-stale-stations-offline"}
    assert all(task.cancelled() for task in tasks)
    assert app._tasks == []


@override_settings(RUN_PERIODIC_IN_PROCESS=False, GC_FREEZE_INTERVAL=0)
async def test_without_periodic_settings_no_background_task_is_started():
    app = LifespanApp(InnerApp())
    server = LifespanDriver(app)

    started = await server.ask("lifespan.startup")

    assert started == {"type": "lifespan.startup.complete"}
    assert app._tasks == []
    assert app.scheduler is None
    await server.ask("lifespan.shutdown")


async def test_a_failing_startup_is_reported_to_the_server(monkeypatch):
    # given
    def broken(loop):
        raise RuntimeError("no loop for you")

    monkeypatch.setattr(publisher, "bind_server_loop", broken)

    server = LifespanDriver(LifespanApp(InnerApp()))

    # when
    answer = await server.ask("lifespan.startup")

    # then
    assert answer == {"type": "lifespan.startup.failed", "message": "no loop for you"}
    await asyncio.wait_for(server.task, 10)


@override_settings(RUN_PERIODIC_IN_PROCESS=True)
async def test_without_lifespan_the_first_scope_starts_the_work_once(monkeypatch):
    # given: daphne, which sends no lifespan scope
    inner = InnerApp()
    app = LifespanApp(inner)
    starts = []
    original = app.startup

    def counting_startup():
        starts.append(True)
        original()

    monkeypatch.setattr(app, "startup", counting_startup)

    # when
    await app({"type": "http"}, None, None)
    await app({"type": "websocket"}, None, None)

    # then
    assert inner.scopes == ["http", "websocket"]
    assert starts == [True]
    assert app.scheduler is not None
    assert publisher._server_loop is asyncio.get_running_loop()
    await app.shutdown()


def test_a_new_event_loop_gets_its_own_start_up():
    app = LifespanApp(InnerApp())

    async def scope():
        await app({"type": "http"}, None, None)
        return app._loop, list(app._tasks)

    first_loop, first_tasks = asyncio.run(scope())
    second_loop, second_tasks = asyncio.run(scope())

    assert first_loop is not second_loop
    assert all(t.get_loop() is second_loop for t in second_tasks)


@override_settings(CORS_ALLOW_ALL_ORIGINS=True)
async def test_startup_warns_when_cors_allows_every_origin(monkeypatch, caplog):
    monkeypatch.setattr(lifespan, "_process_started", False)
    caplog.set_level(logging.WARNING, logger="apps.operations.lifespan")

    server = LifespanDriver(LifespanApp(InnerApp()))

    await server.ask("lifespan.startup")

    assert "CORS allows every origin" in caplog.text
    await server.ask("lifespan.shutdown")
