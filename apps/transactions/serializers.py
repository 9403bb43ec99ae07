from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.organizations.models import Organization
from apps.transactions.models import IdTag, MeterValue, Transaction


@extend_schema_field(OpenApiTypes.NUMBER)
class WhField(serializers.DecimalField):
    """Energy in Wh as a JSON number (an integer when it is whole)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=18, decimal_places=3, **kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        value = Decimal(value)
        return int(value) if value == value.to_integral_value() else float(value)


class IdTagSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="May be omitted when the caller belongs to exactly one organization.",
    )

    class Meta:
        model = IdTag
        fields = (
            "id",
            "id_tag",
            "type",
            "status",
            "expiry_date",
            "parent_id_tag",
            "owner_reference",
            "organization",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")
        # Uniqueness per organization is checked by the service (the
        # organization may be implied), answering 400 like a field error.
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["organization"].queryset = Organization.objects.visible_to(
                request.user
            )


class TransactionSerializer(serializers.ModelSerializer):
    transaction_id = serializers.SerializerMethodField(
        help_text="The OCPP id: an integer for 1.6, a string for 2.0.1/2.1."
    )
    meter_start = WhField()
    meter_stop = WhField()
    energy_wh = serializers.SerializerMethodField(
        help_text="Wh delivered; while active, up to the latest meter reading."
    )
    last_meter_wh = WhField()
    cost = serializers.SerializerMethodField(help_text="Decimal string, or null.")
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Transaction
        fields = (
            "id",
            "transaction_id",
            "organization",
            "charge_point",
            "ocpp_version",
            "evse_id",
            "connector_id",
            "id_tag",
            "auth_status",
            "status",
            "started_at",
            "stopped_at",
            "duration_s",
            "meter_start",
            "meter_stop",
            "energy_wh",
            "last_meter_wh",
            "last_meter_at",
            "stop_reason",
            "stopped_by",
            "stop_id_tag",
            "stop_token_mismatch",
            "charging_state",
            "offline",
            "remote_start_id",
            "reservation_id",
            "cost",
            "currency",
        )
        read_only_fields = fields

    def get_transaction_id(self, obj: Transaction) -> int | str | None:
        if obj.transaction_id is not None and obj.ocpp_version == "1.6":
            return int(obj.transaction_id)
        return obj.transaction_id

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_energy_wh(self, obj: Transaction):
        value = obj.energy_wh
        live = obj.status == Transaction.Status.ACTIVE and value is None
        if live and obj.meter_start is not None and obj.last_meter_wh is not None:
            value = max(Decimal(0), obj.last_meter_wh - obj.meter_start)
        return WhField().to_representation(value)

    def _billing(self, obj: Transaction):
        return getattr(obj, "billing", None)

    def get_cost(self, obj: Transaction) -> str | None:
        billing = self._billing(obj)
        return str(billing.total) if billing else None

    def get_currency(self, obj: Transaction) -> str | None:
        billing = self._billing(obj)
        return billing.currency if billing else None


class TransactionDetailSerializer(TransactionSerializer):
    cost_breakdown = serializers.SerializerMethodField()

    class Meta(TransactionSerializer.Meta):
        fields = (*TransactionSerializer.Meta.fields, "cost_breakdown")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_cost_breakdown(self, obj: Transaction) -> dict | None:
        billing = self._billing(obj)
        return billing.breakdown if billing else None


class ForceStopSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=32, default="Other")


class MeterValueSerializer(serializers.ModelSerializer):
    value = serializers.DecimalField(
        max_digits=24, decimal_places=6, coerce_to_string=False, read_only=True
    )

    class Meta:
        model = MeterValue
        fields = (
            "id",
            "timestamp",
            "evse_id",
            "connector_id",
            "measurand",
            "phase",
            "location",
            "context",
            "value",
            "unit",
            "raw_value",
            "raw_unit",
            "multiplier",
            "format",
            "signed_data",
        )
        read_only_fields = fields
