"""ASGI entry point: HTTP (admin, API, operations) and WebSockets (OCPP, events)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")
django_asgi_app = get_asgi_application()

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
