"""API: commands to stations, raw and version-neutral (API.md "Commands").

Every endpoint needs the operator role in the station's organization (viewers
get 403; other tenants' stations are 404), validates its input (400 naming the
field), calls one operation and answers 200 with the station's answer.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, viewsets
from rest_framework.response import Response

from apps.chargepoints.models import ChargePoint
from apps.ocpp import operations
from apps.ocpp.dispatch import STATION_FIELDS, send_command
from apps.ocpp.models import CommandLog
from apps.ocpp.selectors import command_list
from apps.ocpp.serializers import (
    ApiErrorSerializer,
    AvailabilitySerializer,
    ClearCacheSerializer,
    CommandAnswerSerializer,
    CommandLogDetailSerializer,
    CommandLogSerializer,
    DataTransferSerializer,
    DiagnosticsSerializer,
    FirmwareUpdateSerializer,
    RawCommandSerializer,
    RemoteStartSerializer,
    RemoteStopSerializer,
    ReportSerializer,
    ResetSerializer,
    TriggerSerializer,
    UnlockSerializer,
)
from apps.organizations.authentication import ApiKeyPrincipal

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, "Invalid input for the station."),
    403: OpenApiResponse(ApiErrorSerializer, "Your role does not allow commands."),
    404: OpenApiResponse(ApiErrorSerializer, "No such station."),
    409: OpenApiResponse(ApiErrorSerializer, "The station is offline."),
    502: OpenApiResponse(ApiErrorSerializer, "The station answered a CallError."),
    504: OpenApiResponse(ApiErrorSerializer, "The station did not answer in time."),
}
ANSWER = {200: CommandAnswerSerializer, **ERRORS}


def requested_by(request) -> str:
    """Who asked, as CommandLog records it: ``user:<name>`` or ``api-key:<prefix>``."""
    user = request.user
    if isinstance(user, ApiKeyPrincipal):
        return user.username
    return f"user:{user.get_username()}"


class CommandLogFilter(filters.FilterSet):
    charge_point = filters.CharFilter(field_name="charge_point_id")
    action = filters.CharFilter()
    outcome = filters.ChoiceFilter(choices=CommandLog.Outcome.choices)
    requested_by = filters.CharFilter()
    created_after = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte"
    )
    created_before = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt"
    )

    class Meta:
        model = CommandLog
        fields = (
            "charge_point",
            "action",
            "outcome",
            "requested_by",
            "created_after",
            "created_before",
        )


class CommandLogViewSet(viewsets.ReadOnlyModelViewSet):
    """Every command sent to the caller's stations, newest first."""

    serializer_class = CommandLogSerializer
    filterset_class = CommandLogFilter
    search_fields = ("charge_point__id", "action", "requested_by", "unique_id")
    ordering_fields = ("created_at", "duration_ms", "id")
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return command_list(actor=self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CommandLogDetailSerializer
        return CommandLogSerializer


class _StationMixin:
    """The station of the URL: visible (else 404), then the role (else 403)."""

    def get_station(self) -> ChargePoint:
        station = get_object_or_404(
            ChargePoint.objects.visible_to(self.request.user).only(
                "organization_id", *STATION_FIELDS
            ),
            pk=self.kwargs["pk"],
        )
        self.check_object_permissions(self.request, station)
        return station


class StationCommandListView(_StationMixin, generics.ListAPIView):
    """GET: the station's commands. POST: send any action of its version."""

    serializer_class = CommandLogSerializer
    filterset_class = CommandLogFilter
    search_fields = ()
    ordering_fields = ("created_at", "duration_ms", "id")
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CommandLog.objects.none()
        station = self.get_station()
        return command_list(actor=self.request.user).filter(charge_point=station)

    @extend_schema(
        request=RawCommandSerializer,
        responses=ANSWER,
        description="Any CSMS -> station action of the station's OCPP version, "
        "its payload validated against that version's schema.",
    )
    def post(self, request, pk: str):
        station = self.get_station()
        serializer = RawCommandSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = send_command(
            station.pk,
            data["action"],
            data["payload"],
            timeout=data.get("timeout"),
            requested_by=requested_by(request),
            station=station,
        )
        return Response(
            {
                "status": result.status,
                "response": result.response,
                "command_id": result.log_id,
                "action": result.action,
            }
        )


class OperationView(_StationMixin, generics.GenericAPIView):
    """POST: validate, run ``operation`` on the station, answer with its reply.

    The serializer's fields are the operation's keyword arguments.
    """

    operation = None  # a function of apps.ocpp.operations, as a staticmethod

    @extend_schema(responses=ANSWER)
    def post(self, request, pk: str):
        station = self.get_station()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = self.operation(
            station.pk, **serializer.validated_data, requested_by=requested_by(request)
        )
        return Response(result.as_dict())


class RemoteStartView(OperationView):
    """Start charging for a token: 1.6 RemoteStartTransaction, 2.0.1
    RequestStartTransaction with a remoteStartId that links the transaction."""

    serializer_class = RemoteStartSerializer
    operation = staticmethod(operations.remote_start)


class RemoteStopView(OperationView):
    """Stop a transaction: 1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction."""

    serializer_class = RemoteStopSerializer
    operation = staticmethod(operations.remote_stop)


class ResetView(OperationView):
    """Reset the station, or one EVSE (2.0.1): Soft/Hard, 2.0.1 OnIdle/Immediate."""

    serializer_class = ResetSerializer
    operation = staticmethod(operations.reset)


class UnlockView(OperationView):
    """Unlock a connector (2.0.1: of an EVSE)."""

    serializer_class = UnlockSerializer
    operation = staticmethod(operations.unlock)


class AvailabilityView(OperationView):
    """Make the station, an EVSE or a connector operative or inoperative."""

    serializer_class = AvailabilitySerializer
    operation = staticmethod(operations.availability)


class TriggerView(OperationView):
    """Ask the station to send a message: TriggerMessage (1.6
    ExtendedTriggerMessage for LogStatusNotification and certificates)."""

    serializer_class = TriggerSerializer
    operation = staticmethod(operations.trigger)


class ClearCacheView(OperationView):
    """Clear the station's authorization cache."""

    serializer_class = ClearCacheSerializer
    operation = staticmethod(operations.clear_cache)


class DataTransferView(OperationView):
    """Send a vendor-specific DataTransfer."""

    serializer_class = DataTransferSerializer
    operation = staticmethod(operations.data_transfer)


class FirmwareUpdateView(OperationView):
    """Update the firmware: 1.6 UpdateFirmware (SignedUpdateFirmware when
    signed), 2.0.1 UpdateFirmware."""

    serializer_class = FirmwareUpdateSerializer
    operation = staticmethod(operations.firmware_update)


class DiagnosticsView(OperationView):
    """Upload diagnostics or logs: 1.6 GetDiagnostics (GetLog for a
    SecurityLog), 2.0.1 GetLog."""

    serializer_class = DiagnosticsSerializer
    operation = staticmethod(operations.diagnostics)


class ReportView(OperationView):
    """Ask a 2.0.1 station for a base report (GetBaseReport)."""

    serializer_class = ReportSerializer
    operation = staticmethod(operations.report)


class TransactionStatusView(_StationMixin, generics.GenericAPIView):
    """Ask a 2.0.1 station about a transaction (GetTransactionStatus)."""

    # A GET, but it commands the station: operators only.
    read_role = "operator"
    serializer_class = CommandAnswerSerializer

    @extend_schema(responses=ANSWER)
    def get(self, request, pk: str, tx_id: str):
        station = self.get_station()
        result = operations.get_transaction_status(
            station.pk, transaction_id=tx_id, requested_by=requested_by(request)
        )
        return Response(result.as_dict())
