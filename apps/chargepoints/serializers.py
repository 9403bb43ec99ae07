import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.chargepoints.models import ChargePoint, Connector, Evse, station_id_validator
from apps.chargepoints.services.management import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    station_password_errors,
)
from apps.ocpp.models import MessageLog
from apps.organizations.models import Organization


class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = (
            "connector_id",
            "status",
            "error_code",
            "info",
            "vendor_error_code",
            "updated_at",
        )
        read_only_fields = fields


class EvseSerializer(serializers.ModelSerializer):
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = Evse
        fields = ("evse_id", "status", "updated_at", "connectors")
        read_only_fields = fields


class ChargePointSerializer(serializers.ModelSerializer):
    """A station as the API shows it; see the input serializers for writes."""

    evses = EvseSerializer(many=True, read_only=True)
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = ChargePoint
        fields = (
            "id",
            "organization",
            "description",
            "ocpp_version",
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "meter_type",
            "meter_serial_number",
            "registration_status",
            "security_profile",
            "has_password",
            "heartbeat_interval",
            "status",
            "error_code",
            "is_online",
            "last_seen_at",
            "last_boot_at",
            "connected_at",
            "disconnected_at",
            "node_name",
            "created_at",
            "updated_at",
            "evses",
        )
        read_only_fields = fields

    def get_has_password(self, obj: ChargePoint) -> bool:
        return bool(obj.password_hash)


def _password_field() -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        help_text="HTTP Basic password of security profiles 1 and 2 (16-40 "
        "characters); stored hashed, never returned. null clears it.",
    )


def _heartbeat_interval_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=86400,
        help_text="Seconds; null uses the organization's interval.",
    )


class _PasswordValidation:
    def validate_password(self, value: str | None) -> str | None:
        if value is not None:
            errors = station_password_errors(value)
            if errors:
                raise serializers.ValidationError(errors)
        return value


class ChargePointCreateSerializer(_PasswordValidation, serializers.Serializer):
    id = serializers.CharField(
        max_length=48,
        validators=[station_id_validator],
        help_text="The OCPP identity: the last path segment of the station's URL.",
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="May be omitted when the caller belongs to exactly one.",
    )
    description = serializers.CharField(max_length=200, allow_blank=True, default="")
    security_profile = serializers.ChoiceField(
        choices=ChargePoint.SecurityProfile.choices,
        default=ChargePoint.SecurityProfile.BASIC,
    )
    registration_status = serializers.ChoiceField(
        choices=ChargePoint.RegistrationStatus.choices,
        default=ChargePoint.RegistrationStatus.ACCEPTED,
    )
    heartbeat_interval = _heartbeat_interval_field()
    password = _password_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A foreign organization looks exactly like a missing one.
            self.fields["organization"].queryset = Organization.objects.visible_to(
                request.user
            )


class ChargePointUpdateSerializer(_PasswordValidation, serializers.Serializer):
    """PATCH, every field optional. ``id`` and ``organization`` may be sent back
    unchanged (clients often echo the whole object), not changed."""

    id = serializers.CharField(required=False)
    organization = serializers.IntegerField(required=False)
    description = serializers.CharField(
        max_length=200, allow_blank=True, required=False
    )
    security_profile = serializers.ChoiceField(
        choices=ChargePoint.SecurityProfile.choices, required=False
    )
    registration_status = serializers.ChoiceField(
        choices=ChargePoint.RegistrationStatus.choices, required=False
    )
    heartbeat_interval = _heartbeat_interval_field()
    password = _password_field()

    def validate_id(self, value: str) -> str:
        if value != self.instance.id:
            raise serializers.ValidationError("A station's identity cannot change.")
        return value

    def validate_organization(self, value: int) -> int:
        if value != self.instance.organization_id:
            raise serializers.ValidationError(
                "Moving a station to another organization is not supported."
            )
        return value


class MessageLogSerializer(serializers.ModelSerializer):
    frame = serializers.SerializerMethodField(
        help_text="The frame as JSON, or the raw text if it was not valid JSON."
    )

    class Meta:
        model = MessageLog
        fields = (
            "id",
            "direction",
            "message_type",
            "unique_id",
            "action",
            "frame",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.ANY)
    def get_frame(self, obj: MessageLog) -> object:
        try:
            return json.loads(obj.frame)
        except ValueError:
            return obj.frame
