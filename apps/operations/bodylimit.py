"""The HTTP body limit at the ASGI level, before Django reads a byte.

Django's ASGI handler reads (and spools to disk) the whole body before any
middleware runs, so ``BodySizeLimitMiddleware`` alone would answer 413 only
after receiving, say, a gigabyte. Here a declared Content-Length over the limit
is refused at once, and a chunked body (no Content-Length) is cut off as soon
as it passes the limit. The answer is the API error shape with an X-Request-ID,
as from the middleware.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings

from apps.operations.metrics import HTTP_REQUESTS
from apps.operations.middleware import SAFE_REQUEST_ID, metrics_method, too_large_body


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


def _declared_length(scope) -> int | None:
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # the middleware answers 400


async def _send_413(scope, send, limit: int) -> None:
    given = (_header(scope, b"x-request-id") or b"").decode("latin1")
    request_id = given if SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
    body = json.dumps(too_large_body(limit)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    HTTP_REQUESTS.labels(
        metrics_method(scope.get("method", "")), "unmatched", "413"
    ).inc()


class BodyLimitApp:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if scope["type"] != "http" or limit is None:
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None:
            if declared > limit:
                await _send_413(scope, send, limit)
                return
            # The server delivers no more than the declared length.
            await self.app(scope, receive, send)
            return
        await self._chunked(scope, receive, send, limit)

    async def _chunked(self, scope, receive, send, limit: int) -> None:
        received = 0
        over = False
        started = False

        async def limited_receive():
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if over and not started:
            await _send_413(scope, send, limit)
