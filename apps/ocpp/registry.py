"""This process's connected stations, their routers and background tasks."""

from __future__ import annotations

import asyncio
import logging
from weakref import WeakSet

from django.conf import settings

from apps.ocpp import journal, presence
from apps.ocpp.db import executor
from apps.ocpp.router import Router
from apps.ocpp.versions import Version

logger = logging.getLogger(__name__)

connected: dict[str, object] = {}
_routers: dict[str, Router] = {}
_tasks: WeakSet = WeakSet()
_flusher: asyncio.Task | None = None
loop: asyncio.AbstractEventLoop | None = None  # the loop holding the connections


def router_for(version: Version) -> Router:
    router = _routers.get(version.number)
    if router is None:
        router = Router(version, _handlers_for(version.number))
        _routers[version.number] = router
    return router


def _handlers_for(number: str) -> object:
    if number == "1.6":
        from apps.ocpp.v16.handlers import V16Handlers

        return V16Handlers()
    if number == "2.0.1":
        from apps.ocpp.v201.handlers import V201Handlers

        return V201Handlers()
    from apps.ocpp.v21.handlers import V21Handlers

    return V21Handlers()


def register(consumer) -> None:
    global loop
    loop = asyncio.get_running_loop()
    connected[consumer.session.charge_point_id] = consumer
    _ensure_flusher()


def unregister(consumer) -> None:
    station_id = consumer.scope["url_route"]["kwargs"]["station_id"]
    if connected.get(station_id) is consumer:
        del connected[station_id]


def spawn(consumer, coro) -> asyncio.Task:
    """Run ``coro`` beside the consumer's receive loop, keeping a reference."""
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    return task


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is None or _flusher.done():
        _flusher = asyncio.get_running_loop().create_task(_flush_periodically())


async def _flush_periodically() -> None:
    """Write journal rows and stamps that no handler's commit carried along."""
    interval = settings.OCPP_JOURNAL_FLUSH_MS / 1000
    while True:
        await asyncio.sleep(interval)
        if journal.has_pending() or presence.has_pending():
            try:
                await executor.flush_soon()
            except Exception:
                logger.exception("Journal flush failed")
