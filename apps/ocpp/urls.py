from django.urls import re_path
from rest_framework.routers import SimpleRouter

from apps.chargepoints.views import STATION_ID_PATTERN
from apps.ocpp import api

router = SimpleRouter()
router.register("commands", api.CommandLogViewSet, basename="command")

STATION = rf"^charge-points/(?P<pk>{STATION_ID_PATTERN})"

OPERATIONS = {
    "remote-start": api.RemoteStartView,
    "remote-stop": api.RemoteStopView,
    "reset": api.ResetView,
    "unlock": api.UnlockView,
    "availability": api.AvailabilityView,
    "trigger": api.TriggerView,
    "clear-cache": api.ClearCacheView,
    "data-transfer": api.DataTransferView,
    "firmware/update": api.FirmwareUpdateView,
    "diagnostics": api.DiagnosticsView,
    "report": api.ReportView,
}

urlpatterns = [
    *router.urls,
    re_path(
        rf"{STATION}/commands/$",
        api.StationCommandListView.as_view(),
        name="charge-point-commands",
    ),
    re_path(
        rf"{STATION}/transactions/(?P<tx_id>[^/]+)/status/$",
        api.TransactionStatusView.as_view(),
        name="charge-point-transaction-status",
    ),
    *(
        re_path(
            rf"{STATION}/{path}/$",
            view.as_view(),
            name=f"charge-point-{path.replace('/', '-')}",
        )
        for path, view in OPERATIONS.items()
    ),
]
