"""API plumbing shared by every endpoint: pagination, errors, throttling."""

from __future__ import annotations

import logging
import math

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.signals import got_request_exception
from django.http import Http404
from psycopg_pool import PoolTimeout
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from csms.errors import ApplicationError

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def error_response(status_code: int, code: str, message: str, details=None) -> Response:
    return Response(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status_code,
    )


_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def exception_handler(exc, context):
    """Every API error in the shape of API.md: {"error": {code, message, details}}."""
    if isinstance(exc, ApplicationError):
        return error_response(exc.status, exc.code, exc.message, exc.details)
    if _pool_exhausted(exc):
        return _busy(context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return _server_error(exc, context)
    code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        details = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail}
        )
        fields = ", ".join(details) if isinstance(details, dict) else ""
        message = f"Invalid input: {fields}." if fields else "Invalid input."
        response.data = {
            "error": {"code": "invalid", "message": message, "details": details}
        }
    else:
        detail = getattr(exc, "detail", None)
        message = str(detail) if detail else str(exc)
        response.data = {"error": {"code": code, "message": message, "details": {}}}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        wait = getattr(exc, "wait", None)
        response.data["error"]["details"] = {
            "retry_after_s": math.ceil(wait) if wait is not None else None
        }
    return response


BUSY_RETRY_AFTER_S = 1


def _pool_exhausted(exc: BaseException) -> bool:
    """No database connection came free in time (Django wraps the pool's error)."""
    return isinstance(exc, PoolTimeout) or isinstance(exc.__cause__, PoolTimeout)


def _busy(context) -> Response:
    """Overload, not a fault: the caller may retry shortly (503, Retry-After)."""
    logger.warning(
        "No database connection free for %s: answered 503",
        context.get("view").__class__.__name__,
    )
    response = error_response(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "service_busy",
        "The server is busy; retry shortly.",
        {"retry_after_s": BUSY_RETRY_AFTER_S},
    )
    response["Retry-After"] = str(BUSY_RETRY_AFTER_S)
    return response


def _server_error(exc: Exception, context) -> Response:
    """An unexpected failure: logged with its traceback, answered in the API shape.

    ``got_request_exception`` is still sent, as Django does for an uncaught
    exception, so error reporters and the test client see it.
    """
    request = context.get("request")
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    got_request_exception.send(sender=None, request=getattr(request, "_request", None))
    return error_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", "Internal server error."
    )


class ApiRateThrottle(SimpleRateThrottle):
    """One rate per caller: the API key, the user, or the client address.

    The client address is the connection's peer (``NUM_PROXIES`` = 0): behind a
    load balancer the ASGI server resolves X-Forwarded-For from trusted proxies
    only (uvicorn's ``--forwarded-allow-ips``), so a client cannot pick its own
    bucket by sending that header.

    A counter per caller and window (the rate's period, aligned to the clock):
    one cache round trip per request whatever the rate. DRF's own throttle
    keeps the time of every request of the last period in one cache entry,
    read and written whole each time: at 50 requests/s, 3,000 timestamps
    unpickled and pickled per request (0.9 ms of the server's CPU).
    """

    scope = "api"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window = int(self.timer() // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        count = count_in_window(f"{key}:{window}", self.duration)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends_at - self.timer(), 1.0)

    def get_rate(self) -> str | None:
        # Read at request time, not at import as DRF's class attribute does,
        # so the setting can change under override_settings and reloads.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or None

    def get_cache_key(self, request, view):
        auth = request.auth
        prefix = getattr(auth, "prefix", None)
        if prefix:
            ident = f"key:{prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def count_in_window(key: str, seconds: int) -> int:
    """Count one more request under ``key``, which lives for ``seconds``;
    the count so far. One round trip on Redis."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        name = backend.make_and_validate_key(key)
        client = backend._cache.get_client(name, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(name, 0, ex=seconds + 1, nx=True)
        pipe.incr(name)
        return int(pipe.execute()[1])
    backend.add(key, 0, seconds + 1)
    try:
        return backend.incr(key)
    except ValueError:  # expired between the two calls: a new window
        backend.add(key, 1, seconds + 1)
        return 1
