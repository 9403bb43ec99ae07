"""Readiness checks for ``GET /health/``: the database and the channel layer.

Each check answers "ok" or a short error text, and never takes longer than
``settings.HEALTH_CHECK_TIMEOUT``: a load balancer polls this every few seconds
and must get an answer even when a dependency hangs.
"""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

OK = "ok"
_MAX_ERROR_CHARS = 200


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text[:_MAX_ERROR_CHARS]


def _query_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_database(timeout: float) -> str:
    # thread_sensitive: the request's own thread and connection, which Django
    # closes or keeps (CONN_MAX_AGE) at the end of the request as usual.
    try:
        await asyncio.wait_for(sync_to_async(_query_database)(), timeout)
    except TimeoutError:
        return f"timeout after {timeout:g}s"
    except Exception as exc:
        return _describe(exc)
    return OK


async def _round_trip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    # A plain (not process-local "!") name: with channels-redis the message
    # really travels through Redis and back.
    channel = f"csms.health.{uuid.uuid4().hex}"
    nonce = uuid.uuid4().hex
    await layer.send(channel, {"type": "health.ping", "nonce": nonce})
    message = await layer.receive(channel)
    if message.get("nonce") != nonce:
        raise RuntimeError("received a foreign message")


async def check_channel_layer(timeout: float) -> str:
    try:
        await asyncio.wait_for(_round_trip(), timeout)
    except TimeoutError:
        return f"timeout after {timeout:g}s"
    except Exception as exc:
        return _describe(exc)
    return OK


async def run_checks() -> dict[str, str]:
    timeout = settings.HEALTH_CHECK_TIMEOUT
    database, channel_layer = await asyncio.gather(
        check_database(timeout), check_channel_layer(timeout)
    )
    return {"database": database, "channel_layer": channel_layer}
