import asyncio

import pytest
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0"}]},
    }
}


class HangingChannelLayer(InMemoryChannelLayer):
    async def receive(self, channel):
        await asyncio.sleep(3600)


def test_health_is_ok_when_database_and_channel_layer_answer(client):
    # when
    response = client.get("/health/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["channel_layer"] == "ok"
    assert isinstance(body["uptime_s"], float)
    assert body["uptime_s"] >= 0
    assert body["node"] == settings.NODE_NAME
    assert body["version"] == settings.VERSION
    assert "no-cache" in response["Cache-Control"]


def test_health_is_degraded_when_the_channel_layer_is_unreachable(client):
    # given
    with override_settings(CHANNEL_LAYERS=UNREACHABLE_REDIS_LAYER):
        # when
        response = client.get("/health/")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["channel_layer"] != "ok"
    assert "Error" in body["channel_layer"]


def test_health_reports_a_hanging_channel_layer_as_a_timeout(client):
    # given
    layer = {"default": {"BACKEND": f"{__name__}.HangingChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=layer, HEALTH_CHECK_TIMEOUT=0.2):
        # when
        response = client.get("/health/")

    # then
    assert response.status_code == 503
    assert response.json()["channel_layer"] == "timeout after 0.2s"


def test_health_is_degraded_when_the_database_fails(client, monkeypatch):
    # given
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr("apps.operations.health._query_database", refuse)

    # when
    response = client.get("/health/")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "OperationalError: connection refused"
    assert body["channel_layer"] == "ok"


def test_health_refuses_post(client):
    response = client.post("/health/")

    assert response.status_code == 405
