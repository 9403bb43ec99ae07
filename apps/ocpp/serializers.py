"""API input and output of commands (API.md "Commands (CSMS -> station)")."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.ocpp.models import CommandLog, CommandRequest
from apps.ocpp.selectors import remote_start_transaction

MAX_TIMEOUT_S = 300


class _Timeout(serializers.Serializer):
    timeout = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=MAX_TIMEOUT_S,
        help_text="Seconds to wait for the station's answer (default: the "
        "CSMS_COMMAND_TIMEOUT setting).",
    )


def _evse_id(help_text: str = "The EVSE (2.0.1); in 1.6 the connector.") -> dict:
    return {"required": False, "min_value": 0, "help_text": help_text}


@extend_schema_field(OpenApiTypes.OBJECT)
class _ObjectField(serializers.JSONField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class RawCommandSerializer(_Timeout):
    action = serializers.CharField(
        max_length=64, help_text="Any CSMS -> station action of the station's version."
    )
    payload = _ObjectField(
        default=dict, help_text="The request payload exactly as on the wire."
    )


class RemoteStartSerializer(_Timeout):
    id_tag = serializers.CharField(max_length=36, help_text="1.6 ≤20 characters.")
    id_token_type = serializers.CharField(
        max_length=20,
        required=False,
        help_text="2.0.1 IdTokenType; default: the registered token's type, "
        "else Central.",
    )
    evse_id = serializers.IntegerField(**_evse_id())
    connector_id = serializers.IntegerField(
        required=False, min_value=1, help_text="1.6 connectorId."
    )
    charging_profile = _ObjectField(
        required=False, help_text="The version's own chargingProfile object."
    )


class RemoteStopSerializer(_Timeout):
    transaction_id = serializers.CharField(
        max_length=36, help_text="The OCPP id: integer in 1.6, string in 2.0.1."
    )


class ResetSerializer(_Timeout):
    type = serializers.ChoiceField(
        choices=("Soft", "Hard", "OnIdle", "Immediate"),
        help_text="2.0.1: Hard is sent as Immediate, Soft as OnIdle.",
    )
    evse_id = serializers.IntegerField(**_evse_id("2.0.1: reset only this EVSE."))


class UnlockSerializer(_Timeout):
    evse_id = serializers.IntegerField(**_evse_id("Required for 2.0.1."))
    connector_id = serializers.IntegerField(min_value=0)


class AvailabilitySerializer(_Timeout):
    evse_id = serializers.IntegerField(**_evse_id("Omit for the whole station."))
    connector_id = serializers.IntegerField(required=False, min_value=0)
    operative = serializers.BooleanField()


class TriggerSerializer(_Timeout):
    message = serializers.CharField(
        max_length=64,
        help_text="The message to send, e.g. StatusNotification, Heartbeat, "
        "MeterValues, BootNotification, TransactionEvent (2.0.1).",
    )
    evse_id = serializers.IntegerField(**_evse_id())
    connector_id = serializers.IntegerField(required=False, min_value=0)


class ClearCacheSerializer(_Timeout):
    pass


class DataTransferSerializer(_Timeout):
    vendor_id = serializers.CharField(max_length=255)
    message_id = serializers.CharField(max_length=50, required=False)
    data = serializers.JSONField(
        required=False, help_text="1.6: a string (other JSON is sent as its text)."
    )


class FirmwareUpdateSerializer(_Timeout):
    location = serializers.URLField(max_length=512)
    retrieve_at = serializers.DateTimeField(
        required=False, help_text="When to download; default now."
    )
    install_at = serializers.DateTimeField(required=False)
    retries = serializers.IntegerField(required=False, min_value=0)
    retry_interval = serializers.IntegerField(required=False, min_value=0)
    signing_certificate = serializers.CharField(max_length=5500, required=False)
    signature = serializers.CharField(max_length=800, required=False)


class DiagnosticsSerializer(_Timeout):
    location = serializers.URLField(max_length=512)
    log_type = serializers.ChoiceField(
        choices=("DiagnosticsLog", "SecurityLog", "DataCollectorLog"),
        default="DiagnosticsLog",
        help_text="1.6: SecurityLog uses the security extension's GetLog.",
    )
    start_time = serializers.DateTimeField(required=False)
    stop_time = serializers.DateTimeField(required=False)
    retries = serializers.IntegerField(required=False, min_value=0)
    retry_interval = serializers.IntegerField(required=False, min_value=0)


class ReportSerializer(_Timeout):
    report_base = serializers.ChoiceField(
        choices=("ConfigurationInventory", "FullInventory", "SummaryInventory"),
        default="FullInventory",
    )


class CommandAnswerSerializer(serializers.Serializer):
    status = serializers.CharField(
        allow_null=True, help_text="The station's status field, if it has one."
    )
    response = serializers.DictField(help_text="The station's answer payload.")
    command_id = serializers.IntegerField(help_text="The CommandLog of this command.")
    action = serializers.CharField(help_text="The OCPP action that was sent.")
    remote_start_id = serializers.IntegerField(
        required=False,
        help_text="Remote start: the 2.0.1 remoteStartId (1.6: the CSMS's record).",
    )
    request_id = serializers.IntegerField(
        required=False,
        help_text="Report, diagnostics, firmware: the requestId the station "
        "reports progress with (1.6 without one: the CSMS's record).",
    )


class CommandLogSerializer(serializers.ModelSerializer):
    request_id = serializers.SerializerMethodField(
        help_text="The id the command handed the station (remoteStartId, "
        "requestId), if any."
    )

    class Meta:
        model = CommandLog
        fields = (
            "id",
            "charge_point",
            "requested_by",
            "action",
            "unique_id",
            "payload",
            "response",
            "outcome",
            "error_code",
            "error_description",
            "created_at",
            "completed_at",
            "duration_ms",
            "request_id",
        )
        read_only_fields = fields

    def get_request_id(self, obj: CommandLog) -> int | None:
        request = _request_of(obj)
        return request.pk if request else None


class CommandLogDetailSerializer(CommandLogSerializer):
    transaction = serializers.SerializerMethodField(
        help_text="Remote start: the transaction it led to (its API id), once "
        "the station started it."
    )

    class Meta(CommandLogSerializer.Meta):
        fields = (*CommandLogSerializer.Meta.fields, "transaction")
        read_only_fields = fields

    def get_transaction(self, obj: CommandLog) -> int | None:
        request = _request_of(obj)
        if request is None or request.kind != CommandRequest.Kind.REMOTE_START:
            return None
        tx = remote_start_transaction(request)
        return tx.pk if tx else None


def _request_of(obj: CommandLog) -> CommandRequest | None:
    try:
        return obj.request
    except CommandRequest.DoesNotExist:
        return None


class _ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ApiErrorSerializer(serializers.Serializer):
    """API.md's error shape; 502 details carry the CallError's code."""

    error = _ErrorBody()
