from django.urls import re_path

from apps.authlists.views import ChargePointLocalListView
from apps.chargepoints.views import STATION_ID_PATTERN

urlpatterns = [
    re_path(
        rf"^charge-points/(?P<pk>{STATION_ID_PATTERN})/local-list/$",
        ChargePointLocalListView.as_view(),
        name="charge-point-local-list",
    ),
]
