import re

import pytest
from django.conf import settings as settings_module
from django.core.cache import cache, caches
from django.test import override_settings
from prometheus_client import REGISTRY

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.operations.urls")]

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def test_request_id_is_echoed_when_given(client):
    response = client.get("/health/", headers={"X-Request-ID": "lb-1234.abc_DEF"})

    assert response["X-Request-ID"] == "lb-1234.abc_DEF"


def test_request_id_is_generated_when_absent(client):
    first = client.get("/health/")
    second = client.get("/health/")

    assert HEX_ID.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_unsafe_request_id_is_replaced(client):
    response = client.get("/health/", headers={"X-Request-ID": "a b <script>"})

    assert HEX_ID.match(response["X-Request-ID"])


def test_request_id_is_on_a_404(client):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-404"})

    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-404"


def test_request_id_is_on_an_api_error_in_the_error_shape(client):
    response = client.get("/test-api/private/", headers={"X-Request-ID": "req-401"})

    assert response.status_code == 401
    assert response["X-Request-ID"] == "req-401"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_application_error_becomes_the_api_error_shape(client):
    response = client.get("/test-api/conflict/")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "station_offline",
            "message": "Station CP1 is offline.",
            "details": {},
        }
    }
    assert HEX_ID.match(response["X-Request-ID"])


def test_no_free_database_connection_is_a_503_to_retry_not_a_500(client):
    client.raise_request_exception = False

    response = client.get("/test-api/busy/")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["error"] == {
        "code": "service_busy",
        "message": "The server is busy; retry shortly.",
        "details": {"retry_after_s": 1},
    }


def test_unexpected_api_error_is_a_500_in_the_error_shape(client):
    # given
    client.raise_request_exception = False

    # when
    response = client.get("/test-api/broken/")

    # then
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert HEX_ID.match(response["X-Request-ID"])


def test_body_over_the_limit_is_refused_with_413(client):
    # given
    body = b"x" * (1024 * 1024 + 1)

    # when
    response = client.post(
        "/test-api/echo/",
        data=body,
        content_type="application/json",
        headers={"X-Request-ID": "req-413"},
    )

    # then
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "request_too_large",
            "message": "The request body is larger than 1048576 bytes.",
            "details": {"max_bytes": 1048576},
        }
    }
    assert response["X-Request-ID"] == "req-413"
    assert (
        REGISTRY.get_sample_value(
            "csms_http_requests_total",
            {"method": "POST", "route": "unmatched", "status": "413"},
        )
        >= 1
    )


def test_body_at_the_limit_is_accepted(client):
    pad = "x" * (1024 * 1024 - len('{"pad": ""}'))
    body = f'{{"pad": "{pad}"}}'

    response = client.post(
        "/test-api/echo/", data=body, content_type="application/json"
    )

    assert len(body) == 1024 * 1024
    assert response.status_code == 200
    assert response.json() == {"pad_length": len(pad)}


def test_api_rate_limit_answers_429_in_the_error_shape(client, settings):
    # given: a tiny rate, in a cache of this test's own
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "rate-limit-test",
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/min"},
    }
    cache.clear()

    # when
    statuses = [client.get("/test-api/echo/").status_code for _ in range(2)]
    limited = client.get("/test-api/echo/")

    # then
    assert statuses == [200, 200]
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "rate_limited"
    assert 0 < error["details"]["retry_after_s"] <= 60
    assert int(limited["Retry-After"]) > 0
    assert HEX_ID.match(limited["X-Request-ID"])


def test_cors_header_is_sent_to_an_allowed_origin(client):
    origin = "https://app.example.com"
    with override_settings(CORS_ALLOWED_ORIGINS=[origin]):
        allowed = client.get("/health/", headers={"Origin": origin})
        other = client.get("/health/", headers={"Origin": "https://evil.example"})

    assert allowed["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        pytest.param(
            "csms.cache.RedisCache",
            marks=pytest.mark.skipif(
                not settings_module.REDIS_URL, reason="no Redis configured"
            ),
        ),
    ],
)
def test_the_rate_limit_keeps_a_count_not_a_history(client, settings, backend):
    # given: a generous rate, as integrators get
    settings.CACHES = {
        "default": {"BACKEND": backend, "LOCATION": _cache_location(backend)}
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/hour"},
    }
    caches["default"].clear()

    # when: many requests
    statuses = {client.get("/test-api/echo/").status_code for _ in range(50)}

    # then: what the cache holds for the caller is one number, whatever the rate
    stored = {
        key: caches["default"].get(key) for key in _throttle_keys(caches["default"])
    }
    assert statuses == {200}
    assert list(stored.values()) == [50], stored


def _cache_location(backend: str) -> str:
    if "redis" in backend.lower():
        return settings_module.REDIS_URL.rsplit("/", 1)[0] + "/15"
    return "rate-count-test"


def _throttle_keys(backend) -> list[str]:
    if hasattr(backend, "_cache") and hasattr(backend._cache, "get_client"):
        raw = backend._cache.get_client().keys("*throttle_api_*")
        return [key.decode().split(":", 2)[-1] for key in raw]
    return [key.split(":", 2)[-1] for key in backend._cache if "throttle_api_" in key]
