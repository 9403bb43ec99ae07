import io
import sys
import types

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from twisted.internet.endpoints import serverFromString

from apps.operations.management.commands.serve import (
    daphne_endpoint,
    daphne_kwargs,
    resolve_options,
    uvicorn_kwargs,
)

SERVER_SETTINGS = {
    "SERVER": "uvicorn",
    "SERVER_HOST": "10.1.2.3",
    "SERVER_PORT": 9000,
    "SERVER_WORKERS": 1,
    "SERVER_BACKLOG": 8192,
    "WS_PING_INTERVAL": 25.0,
    "WS_PING_TIMEOUT": 15.0,
    "OCPP_MAX_FRAME_BYTES": 65536,
}
REDIS_LAYER = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def server_settings(settings):
    for name, value in SERVER_SETTINGS.items():
        setattr(settings, name, value)
    settings.CHANNEL_LAYERS = REDIS_LAYER
    return settings


def test_uvicorn_gets_the_settings():
    kwargs = uvicorn_kwargs(resolve_options())

    assert kwargs == {
        "app": "csms.asgi:application",
        "host": "10.1.2.3",
        "port": 9000,
        "workers": 1,
        "backlog": 8192,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "apps.operations.wsprotocol:StationWebSocketProtocol",
        "ws_max_size": 65536,
        "ws_ping_interval": 25.0,
        "ws_ping_timeout": 15.0,
        "lifespan": "on",
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": 30,
    }


def test_command_line_overrides_the_settings():
    options = resolve_options(
        server="uvicorn", host="127.0.0.2", port=9100, workers=4, access_log=True
    )

    kwargs = uvicorn_kwargs(options)

    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.2", 9100, 4)
    assert kwargs["access_log"] is True


def test_zero_ping_settings_turn_pings_off(settings):
    settings.WS_PING_INTERVAL = 0
    settings.WS_PING_TIMEOUT = 0

    kwargs = uvicorn_kwargs(resolve_options())

    assert kwargs["ws_ping_interval"] is None
    assert kwargs["ws_ping_timeout"] is None


def test_daphne_gets_the_settings_with_its_backlog_in_the_endpoint():
    kwargs = daphne_kwargs(resolve_options(server="daphne"))

    assert kwargs == {
        "endpoints": ["tcp:port=9000:interface=10.1.2.3:backlog=8192"],
        "ping_interval": 25.0,
        "ping_timeout": 15.0,
        "websocket_timeout": -1,
        "websocket_max_message_size": 65536,
        "websocket_max_frame_size": 65536,
        "action_logger": None,
    }


def test_daphne_endpoint_is_understood_by_twisted_with_the_backlog():
    endpoint = serverFromString(object(), daphne_endpoint(resolve_options()))

    assert endpoint._port == 9000
    assert endpoint._interface == "10.1.2.3"
    assert endpoint._backlog == 8192


def test_daphne_endpoint_escapes_an_ipv6_host():
    endpoint = serverFromString(
        object(), daphne_endpoint(resolve_options(host="[::1]"))
    )

    assert endpoint._interface == "::1"


def test_daphne_cannot_run_several_workers():
    with pytest.raises(CommandError, match="daphne runs one process"):
        resolve_options(server="daphne", workers=2)


def test_several_workers_need_a_shared_channel_layer(settings):
    settings.CHANNEL_LAYERS = MEMORY_LAYER

    with pytest.raises(CommandError, match="REDIS_URL"):
        resolve_options(workers=2)
    assert resolve_options(workers=1).workers == 1


@pytest.mark.parametrize("workers", [0, -1])
def test_workers_must_be_positive(workers):
    with pytest.raises(CommandError, match="at least 1"):
        resolve_options(workers=workers)


def test_unknown_server_setting_is_refused(settings):
    settings.SERVER = "gunicorn"

    with pytest.raises(CommandError, match="Unknown server"):
        resolve_options()


def test_serve_command_starts_uvicorn_with_those_arguments(monkeypatch):
    # given
    calls = []
    monkeypatch.setitem(
        sys.modules, "uvicorn", types.SimpleNamespace(run=lambda **kw: calls.append(kw))
    )

    # when
    call_command("serve", "--server", "uvicorn", "--port", "9200", stdout=io.StringIO())

    # then
    assert len(calls) == 1
    assert calls[0]["port"] == 9200
    assert calls[0]["ws_max_size"] == 65536


def test_serve_command_starts_daphne_with_those_arguments(monkeypatch):
    # given
    created = []

    class FakeServer:
        def __init__(self, application, **kwargs):
            created.append((application, kwargs))

        def run(self):
            created.append("ran")

    application = object()
    monkeypatch.setitem(
        sys.modules, "csms.asgi", types.SimpleNamespace(application=application)
    )
    monkeypatch.setattr("daphne.server.Server", FakeServer)

    # when
    with override_settings(SERVER="daphne"):
        call_command("serve", "--host", "127.0.0.1", stdout=io.StringIO())

    # then
    assert created[0][0] is application
    assert created[0][1]["endpoints"] == [
        "tcp:port=9000:interface=127.0.0.1:backlog=8192"
    ]
    assert created[1] == "ran"
