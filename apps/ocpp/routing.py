"""WebSocket routes of the OCPP edge.

``/<prefix>/<station id>``, and ``/<prefix>/<organization slug>/<station id>``
for stations that register themselves into an organization. OCPP-J: the
identity is the last path segment.
"""

from django.conf import settings
from django.urls import re_path

from apps.ocpp.consumer import OcppConsumer

_prefix = settings.OCPP_PATH_PREFIX
_station = r"(?P<station_id>[A-Za-z0-9._~\-*]{1,48})"

websocket_urlpatterns = [
    re_path(rf"^{_prefix}/{_station}/?$", OcppConsumer.as_asgi()),
    re_path(
        rf"^{_prefix}/(?P<organization_slug>[-\w]+)/{_station}/?$",
        OcppConsumer.as_asgi(),
    ),
]
