"""The one publisher of domain events.

``publish_event`` is called inside the service that changed the data; the event
leaves only after that transaction commits (``on_commit``), so a subscriber never
hears of a change that was rolled back. Subscribers: the operator WebSocket
(a channel-layer group per organization); webhooks and others as they arrive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# Events sent to one group in one channel-layer message, at most. A group_send
# costs three Redis commands whatever it carries: one per event cost 5% of the
# server's CPU with 10,000 stations (bench/README.md).
MAX_BATCH = 100

EVENT_TYPES = (
    "charge_point.connected",
    "charge_point.disconnected",
    "charge_point.status_changed",
    "transaction.started",
    "transaction.stopped",
    "transaction.billed",
)


def organization_group(organization_id: int) -> str:
    return f"events.org.{organization_id}"


def _jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def build_event(event_type: str, organization_id: int, data: dict) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "organization": organization_id,
        "data": _jsonable(data),
    }


def publish_event(event_type: str, *, organization_id: int, data: dict) -> dict:
    """Publish after the current transaction commits (at once outside one)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")
    event = build_event(event_type, organization_id, data)
    transaction.on_commit(lambda: _deliver(event))
    return event


def _deliver(event: dict) -> None:
    """Hand a committed event to its subscribers, in publication order."""
    loop = _server_loop
    if loop is not None and loop.is_running() and _queue is not None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _queue.put_nowait(event)
        else:
            loop.call_soon_threadsafe(_queue.put_nowait, event)
        return
    # No server loop (a Celery worker, a management command): send right
    # here; callbacks run one after another, so order is kept.
    async_to_sync(_send)([event])


async def _send(events: list[dict]) -> None:
    """Send ``events`` (of one organization) to its subscribers, in one message."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            organization_group(events[0]["organization"]),
            {"type": "domain.events", "events": events},
        )
    except Exception:  # a subscriber's outage must not undo a committed change
        logger.exception(
            "Could not deliver %d events (%s...)", len(events), events[0]["type"]
        )


_server_loop: asyncio.AbstractEventLoop | None = None
_queue: asyncio.Queue | None = None
_sender: asyncio.Task | None = None


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Deliver events from ``loop`` (the server's), through one sender task.

    One task sending from one queue keeps events in the order they were
    published: a transaction's "stopped" always reaches subscribers before its
    "billed". Call it on that loop.
    """
    global _server_loop, _queue, _sender
    if _server_loop is loop and _sender is not None and not _sender.done():
        return
    _server_loop = loop
    _queue = asyncio.Queue()
    _sender = loop.create_task(_send_in_order(_queue))


async def _send_in_order(queue: asyncio.Queue) -> None:
    """Send what is queued, a run of one organization's events per message:
    whatever was published while the last message went out goes together."""
    while True:
        events = [await queue.get()]
        while len(events) < MAX_BATCH and not queue.empty():
            events.append(queue.get_nowait())
        for run in _runs_of_one_organization(events):
            await _send(run)


def _runs_of_one_organization(events: list[dict]) -> list[list[dict]]:
    return [list(run) for _, run in groupby(events, key=itemgetter("organization"))]
