"""ASGI entry point: HTTP (admin, API, operations) and WebSockets (OCPP, events)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")

from csms.http_handler import get_http_application  # noqa: E402

django_asgi_app = get_http_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.events.routing import websocket_urlpatterns as event_routes  # noqa: E402
from apps.ocpp.routing import websocket_urlpatterns as ocpp_routes  # noqa: E402
from apps.operations.lifespan import LifespanApp  # noqa: E402

application = LifespanApp(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": URLRouter(ocpp_routes + event_routes),
        }
    )
)
