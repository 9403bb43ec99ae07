"""Operations endpoints: ``GET /health/`` and ``GET /metrics``."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from apps.operations.health import OK, run_checks
from apps.operations.runtime import uptime_s


@never_cache
@require_safe
async def health(request: HttpRequest) -> JsonResponse:
    """Readiness of this process: 200 when every check is ok, else 503."""
    checks = await run_checks()
    healthy = all(value == OK for value in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        **checks,
        "uptime_s": uptime_s(),
        "node": settings.NODE_NAME,
        "version": settings.VERSION,
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """This process's metrics in the Prometheus text format."""
    if not _metrics_allowed(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
