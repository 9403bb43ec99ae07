from django.urls import re_path
from rest_framework.routers import SimpleRouter

from apps.chargepoints.views import (
    STATION_ID_PATTERN,
    ChargePointMessageListView,
    ChargePointViewSet,
)
from apps.chargepoints.views_configuration import ChargePointConfigurationView

router = SimpleRouter()
router.register("charge-points", ChargePointViewSet, basename="charge-point")

urlpatterns = [
    *router.urls,
    re_path(
        rf"^charge-points/(?P<pk>{STATION_ID_PATTERN})/messages/$",
        ChargePointMessageListView.as_view(),
        name="charge-point-messages",
    ),
    re_path(
        rf"^charge-points/(?P<pk>{STATION_ID_PATTERN})/configuration/$",
        ChargePointConfigurationView.as_view(),
        name="charge-point-configuration",
    ),
]
