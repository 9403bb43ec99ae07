"""HTTP middleware: request metrics, request ids, the body size limit.

Order in settings.MIDDLEWARE: metrics outermost (so every answer, a 413 too, is
counted and timed), then the request id (so every answer carries one), then the
body limit.
"""

from __future__ import annotations

import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from apps.operations.logging import request_id_var
from apps.operations.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
# Methods outside this set share one label: a client must not be able to grow
# the metric's label set at will.
_KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


class _Middleware:
    """Base for middleware that works in sync and async stacks alike.

    ``before`` may answer early; ``after`` sees every response; ``finish``
    runs even when an exception escapes the inner layers.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        try:
            response = self.before(request) or self.get_response(request)
            return self.after(request, response)
        finally:
            self.finish(request)

    async def _acall(self, request):
        try:
            response = self.before(request) or await self.get_response(request)
            return self.after(request, response)
        finally:
            self.finish(request)

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponseBase):
        return response

    def finish(self, request: HttpRequest) -> None:
        return None


class RequestIdMiddleware(_Middleware):
    """Echo the caller's X-Request-ID (if sane) or make one; log it everywhere."""

    def before(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        request._request_id_token = request_id_var.set(request.request_id)
        return None

    def after(self, request, response):
        response["X-Request-ID"] = request.request_id
        return response

    def finish(self, request):
        token = getattr(request, "_request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
            request._request_id_token = None


def metrics_method(method: str) -> str:
    return method if method in _KNOWN_METHODS else "OTHER"


def too_large_body(limit: int) -> dict:
    return {
        "error": {
            "code": "request_too_large",
            "message": f"The request body is larger than {limit} bytes.",
            "details": {"max_bytes": limit},
        }
    }


class BodySizeLimitMiddleware(_Middleware):
    """Refuse bodies over the limit with 413 before any view or parser sees them.

    The limit is ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``CSMS_MAX_BODY_BYTES``), judged
    by Content-Length: Django's request reads no body without one. Under ASGI,
    ``apps.operations.bodylimit`` refuses such bodies earlier, before they are
    received; this covers WSGI-style callers such as the test client.
    """

    def before(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return None
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return JsonResponse(
                {
                    "error": {
                        "code": "invalid",
                        "message": "The Content-Length header is not a number.",
                        "details": {},
                    }
                },
                status=400,
            )
        if length > limit:
            return JsonResponse(too_large_body(limit), status=413)
        return None


class HttpMetricsMiddleware(_Middleware):
    """Count and time every response by method, route pattern and status."""

    def before(self, request):
        request._metrics_started = time.perf_counter()
        return None

    def after(self, request, response):
        method = metrics_method(request.method)
        match = getattr(request, "resolver_match", None)
        # The route pattern, never the raw path: ids must not become labels.
        route = match.route if match else "unmatched"
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        HTTP_REQUEST_SECONDS.labels(method, route).observe(
            time.perf_counter() - request._metrics_started
        )
        return response
