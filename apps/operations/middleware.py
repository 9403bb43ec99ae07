"""HTTP middleware: request ids, the body size limit, request metrics."""

import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import JsonResponse

from apps.operations.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


class _Middleware:
    """Base for middleware that works in sync and async stacks alike."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        early = self.before(request)
        response = early or self.get_response(request)
        return self.after(request, response)

    async def _acall(self, request):
        early = self.before(request)
        response = early or await self.get_response(request)
        return self.after(request, response)

    def before(self, request):
        return None

    def after(self, request, response):
        return response


class RequestIdMiddleware(_Middleware):
    """Echo the caller's X-Request-ID (if sane) or make one; log it everywhere."""

    def before(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        request._request_id_token = request_id_var.set(request.request_id)
        return None

    def after(self, request, response):
        response["X-Request-ID"] = request.request_id
        request_id_var.reset(request._request_id_token)
        return response


class BodySizeLimitMiddleware(_Middleware):
    """Refuse bodies over the limit with 413 before anything reads them."""

    def before(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return JsonResponse(
                {
                    "error": {
                        "code": "request_too_large",
                        "message": "The request body is larger than "
                        f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                        "details": {},
                    }
                },
                status=413,
            )
        return None


class HttpMetricsMiddleware(_Middleware):
    def after(self, request, response):
        from apps.operations.metrics import HTTP_REQUESTS

        match = getattr(request, "resolver_match", None)
        route = match.route if match else "unmatched"
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response
