"""``manage.py serve``: run the ASGI server the settings choose.

uvicorn (uvloop + httptools, websockets sans-I/O) is the production server: it
took 10,000 stations cleanly where daphne's default listen backlog of 50
overflowed in a connection storm (DESIGN.md, Known traps). daphne remains the
embedded default because it needs nothing compiled.

Both get: WebSocket ping interval/timeout (``WS_PING_INTERVAL``/``WS_PING_TIMEOUT``,
0 = no pings), the largest OCPP frame (``OCPP_MAX_FRAME_BYTES``), the listen
backlog (``SERVER_BACKLOG``, passed to daphne through its Twisted endpoint
string; the kernel caps it at ``net.core.somaxconn``), and no access log unless
``--access-log``. daphne also gets no WebSocket lifetime limit (its default
closes every connection after 24 hours) and no ``--workers``: it is one process.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ASGI_APP = "csms.asgi:application"
SERVERS = ("daphne", "uvicorn")
# uvicorn: how long shutdown waits for open connections (stations reconnect).
GRACEFUL_SHUTDOWN_S = 30
# daphne has no "no pings" value: an interval nobody reaches stands in.
_DAPHNE_NO_PING = 10**9


@dataclass(frozen=True)
class ServeOptions:
    server: str
    host: str
    port: int
    workers: int
    backlog: int
    ping_interval: float
    ping_timeout: float
    max_frame_bytes: int
    access_log: bool


def resolve_options(
    *,
    server: str | None = None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    access_log: bool = False,
) -> ServeOptions:
    """The settings, overridden by what the command line gave; validated."""
    options = ServeOptions(
        server=(server or settings.SERVER).lower(),
        host=host or settings.SERVER_HOST,
        port=settings.SERVER_PORT if port is None else port,
        workers=settings.SERVER_WORKERS if workers is None else workers,
        backlog=settings.SERVER_BACKLOG,
        ping_interval=settings.WS_PING_INTERVAL,
        ping_timeout=settings.WS_PING_TIMEOUT,
        max_frame_bytes=settings.OCPP_MAX_FRAME_BYTES,
        access_log=access_log,
    )
    if options.server not in SERVERS:
        raise CommandError(f"Unknown server {options.server!r}; use one of {SERVERS}.")
    if options.workers < 1:
        raise CommandError("--workers must be at least 1.")
    if options.workers > 1 and options.server == "daphne":
        raise CommandError(
            "daphne runs one process: use --server uvicorn, or start several "
            "`serve` processes on different ports behind the load balancer."
        )
    if options.workers > 1 and _in_memory_channel_layer():
        raise CommandError(
            "Several workers need a shared channel layer (set REDIS_URL): with the "
            "in-memory layer a command could not reach a station held by another "
            "worker."
        )
    return options


def _in_memory_channel_layer() -> bool:
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    return backend.endswith("InMemoryChannelLayer")


def _seconds_or_none(value: float) -> float | None:
    return value if value > 0 else None


def uvicorn_kwargs(options: ServeOptions) -> dict:
    """Keyword arguments for ``uvicorn.run``."""
    return {
        "app": ASGI_APP,
        "host": options.host,
        "port": options.port,
        "workers": options.workers,
        "backlog": options.backlog,
        "loop": "uvloop",
        "http": "httptools",
        # uvicorn's sans-I/O implementation (it supports the ASGI
        # denial-response extension: HTTP 401 to a station before the
        # WebSocket opens), lighter per connection.
        "ws": "apps.operations.wsprotocol:StationWebSocketProtocol",
        "ws_max_size": options.max_frame_bytes,
        "ws_ping_interval": _seconds_or_none(options.ping_interval),
        "ws_ping_timeout": _seconds_or_none(options.ping_timeout),
        "lifespan": "on",
        "access_log": options.access_log,
        # Django's LOGGING stays in charge; uvicorn's loggers propagate to it.
        "log_config": None,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }


def daphne_endpoint(options: ServeOptions) -> str:
    """A Twisted endpoint string; unlike daphne's CLI it can carry the backlog."""
    interface = options.host.strip("[]").replace(":", r"\:")
    return f"tcp:port={options.port}:interface={interface}:backlog={options.backlog}"


def daphne_kwargs(options: ServeOptions) -> dict:
    """Keyword arguments for ``daphne.server.Server`` (without the application)."""
    ping_interval = (
        options.ping_interval if options.ping_interval > 0 else _DAPHNE_NO_PING
    )
    kwargs = {
        "endpoints": [daphne_endpoint(options)],
        "ping_interval": ping_interval,
        "ping_timeout": options.ping_timeout if options.ping_timeout > 0 else None,
        # Stations stay connected for days; daphne's default is 86,400 s.
        "websocket_timeout": -1,
        "websocket_max_message_size": options.max_frame_bytes,
        "websocket_max_frame_size": options.max_frame_bytes,
        "action_logger": None,
    }
    if options.access_log:
        from daphne.access import AccessLogGenerator

        kwargs["action_logger"] = AccessLogGenerator(sys.stdout)
    return kwargs


class Command(BaseCommand):
    help = "Run the CSMS's ASGI server (daphne or uvicorn, from settings.SERVER)."
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", choices=SERVERS, help="Default: CSMS_SERVER.")
        parser.add_argument("--host", help="Default: CSMS_HOST.")
        parser.add_argument("--port", type=int, help="Default: CSMS_PORT.")
        parser.add_argument(
            "--workers", type=int, help="uvicorn processes. Default: CSMS_WORKERS."
        )
        parser.add_argument(
            "--access-log", action="store_true", help="Log every HTTP request."
        )

    def handle(self, *args, **opts) -> None:
        options = resolve_options(
            server=opts["server"],
            host=opts["host"],
            port=opts["port"],
            workers=opts["workers"],
            access_log=opts["access_log"],
        )
        self.check(display_num_errors=False)
        if options.workers > 1 and settings.RUN_PERIODIC_IN_PROCESS:
            self.stderr.write(
                "Warning: CSMS_RUN_PERIODIC_IN_PROCESS with several workers runs "
                "every periodic job once per worker; prefer celery beat."
            )
        address = f"{options.host}:{options.port}"
        self.stdout.write(
            f"Serving CSMS with {options.server} on http://{address}/ (stations: "
            f"ws://{address}/{settings.OCPP_PATH_PREFIX}/<station id>)"
        )
        self.stdout.flush()
        if options.server == "uvicorn":
            import uvicorn

            uvicorn.run(**uvicorn_kwargs(options))
        else:
            from daphne.server import Server

            from csms.asgi import application

            Server(application=application, **daphne_kwargs(options)).run()
