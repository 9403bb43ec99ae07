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

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

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
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        group_send = layer.group_send(
            organization_group(event["organization"]),
            {"type": "domain.event", "event": event},
        )
        _run(group_send)
    except Exception:  # a subscriber's outage must not undo a committed change
        logger.exception("Could not deliver event %s", event["type"])


_server_loop = None


def bind_server_loop(loop) -> None:
    """Remember the server's event loop, so threads can hand events to it."""
    global _server_loop
    _server_loop = loop


def _run(coro) -> None:
    """Run ``coro`` on the server's loop if there is one, else on a new one.

    The in-memory channel layer lives on the server's loop; worker threads
    (ORM work, the batch executor) must not touch it from their own loop.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        running.create_task(coro)
    elif _server_loop is not None and _server_loop.is_running():
        asyncio.run_coroutine_threadsafe(coro, _server_loop)
    else:

        async def _await():
            await coro

        async_to_sync(_await)()
