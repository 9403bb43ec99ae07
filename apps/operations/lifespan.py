"""Start-up and shutdown work of a server process, for uvicorn and daphne alike.

uvicorn sends the ASGI ``lifespan`` scope; daphne has none, so the same
start-up runs lazily when the first HTTP or WebSocket scope arrives (and
shutdown then runs at interpreter exit, as far as it can without a loop).

Start-up, on the server's event loop:

- bind the events publisher to this loop (threads hand events to it);
- a shorter GIL switch interval (``GIL_SWITCH_INTERVAL_MS``), a larger
  young-generation GC threshold (``GC_THRESHOLD_YOUNG``) and a smaller one for
  the middle generation (``GC_THRESHOLD_MIDDLE``);
- measure GC pauses (``apps.operations.gctracker``);
- ``gc.freeze()`` once now, every ``GC_FREEZE_INTERVAL`` seconds and when a
  wave of ``GC_FREEZE_AFTER_CONNECTIONS`` new connections has settled;
- with ``RUN_PERIODIC_IN_PROCESS``, the in-process scheduler of
  ``CELERY_BEAT_SCHEDULE`` (``apps.operations.scheduler``);
- warn when CORS lets every origin in.

Shutdown: stop those tasks and drain the OCPP edge's group-commit thread.

Being the outermost ASGI layer, it also applies the HTTP body limit before
Django reads a body (``apps.operations.bodylimit``).

The loop-bound part is redone when a scope arrives on another event loop than
the one it ran on (tests run each case on a fresh loop); a server has one loop.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import logging
import sys
import threading
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from apps.operations import gctracker
from apps.operations.bodylimit import BodyLimitApp
from apps.operations.scheduler import Scheduler

logger = logging.getLogger(__name__)

# How often the freeze schedule looks at the connection count.
FREEZE_CHECK_S = 2.0

_process_lock = threading.Lock()
_process_started = False


def _start_process_once() -> None:
    """The part of start-up that belongs to the process, not to a loop."""
    global _process_started
    with _process_lock:
        if _process_started:
            return
        _process_started = True
    # Python hands the GIL over every 5 ms by default: a group-commit worker
    # back from a database round trip would wait that long for the event loop
    # to let go, many times per batch. A shorter interval keeps them moving.
    sys.setswitchinterval(settings.GIL_SWITCH_INTERVAL_MS / 1000)
    # A youngest-generation collection every 700 allocations promotes whatever
    # a batch in flight holds; the old generation then fills with garbage and
    # full collections (hundreds of ms with thousands of stations) follow
    # every few seconds. A larger first threshold lets that garbage die young.
    # The middle generation then holds what survived a few such collections;
    # collected every 3 young ones instead of 10, it pauses a third as long.
    _, _, oldest = gc.get_threshold()
    gc.set_threshold(settings.GC_THRESHOLD_YOUNG, settings.GC_THRESHOLD_MIDDLE, oldest)
    gctracker.install()
    # The first freeze does a full collection, once: start-up garbage stays out
    # of the permanent generation. Later freezes are per loop and cheap.
    frozen = gctracker.freeze(full_collect=True)
    logger.info("gc.freeze() after start-up: %d objects frozen", frozen)
    if getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False):
        logger.warning(
            "CORS allows every origin (CSMS_CORS_ALLOWED_ORIGINS contains '*'): any "
            "web page may call the API with a user's token; list the origins instead."
        )
    atexit.register(_drain_group_commit)


def _drain_group_commit() -> None:
    from apps.ocpp.db import executor

    executor.shutdown()


async def _freeze_periodically(interval: float) -> None:
    from apps.ocpp import registry

    schedule = gctracker.FreezeSchedule(
        interval, settings.GC_FREEZE_AFTER_CONNECTIONS, time.monotonic()
    )
    while True:
        await asyncio.sleep(min(FREEZE_CHECK_S, interval))
        if not schedule.due(time.monotonic(), len(registry.connected)):
            continue
        try:
            frozen = gctracker.freeze(full_collect=False)
            logger.debug("gc.freeze(): %d objects in the permanent generation", frozen)
        except Exception:
            logger.exception("Periodic gc.freeze() failed")


class LifespanApp:
    """Wrap an ASGI app with the process's start-up and shutdown work."""

    def __init__(self, app) -> None:
        self.app = BodyLimitApp(app)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self.scheduler: Scheduler | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self._loop is not asyncio.get_running_loop():
            try:
                self.startup()
            except Exception:  # serve anyway: a station must still get in
                logger.exception("Start-up failed")
        await self.app(scope, receive, send)

    def startup(self) -> None:
        """Run start-up on the running loop. Synchronous, so scopes never race it."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        self._cancel_tasks()
        self._loop = loop  # first: a failing start-up is not retried per scope
        _start_process_once()

        from apps.events.publisher import bind_server_loop

        bind_server_loop(loop)
        interval = float(settings.GC_FREEZE_INTERVAL)
        if interval > 0:
            self._tasks.append(loop.create_task(_freeze_periodically(interval)))
        if settings.RUN_PERIODIC_IN_PROCESS:
            self.scheduler = Scheduler.from_settings()
            self._tasks.append(loop.create_task(self.scheduler.run_forever()))

    async def shutdown(self) -> None:
        tasks = self._cancel_tasks()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sync_to_async(_drain_group_commit, thread_sensitive=False)()

    def _cancel_tasks(self) -> list[asyncio.Task]:
        """Cancel this wrapper's tasks; return those of the running loop."""
        tasks, self._tasks = self._tasks, []
        current = asyncio.get_running_loop()
        mine = []
        for task in tasks:
            loop = task.get_loop()
            if task.done() or loop.is_closed():
                continue  # gone with its loop
            if loop is current:
                task.cancel()
                mine.append(task)
            else:
                loop.call_soon_threadsafe(task.cancel)
        return mine

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.startup()
                except Exception as exc:
                    logger.exception("Start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as exc:
                    logger.exception("Shutdown failed")
                    await send(
                        {"type": "lifespan.shutdown.failed", "message": str(exc)}
                    )
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return
