from rest_framework import serializers

from apps.billing.models import Tariff, TariffBand
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization


class TariffBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffBand
        fields = ("name", "start_time", "end_time", "price_per_kwh", "price_per_minute")


class TariffSerializer(serializers.ModelSerializer):
    """Prices are decimal strings in ``currency``; bands replace the list on write."""

    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="May be omitted when the caller belongs to exactly one organization.",
    )
    bands = TariffBandSerializer(many=True, required=False)
    charge_points = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=ChargePoint.objects.none(),
        help_text="Stations using this tariff (a station has at most one; listing "
        "it here moves it from its previous tariff).",
    )

    class Meta:
        model = Tariff
        fields = (
            "id",
            "organization",
            "name",
            "currency",
            "price_per_kwh",
            "price_per_minute",
            "session_fee",
            "idle_fee_per_minute",
            "idle_grace_minutes",
            "timezone",
            "is_default",
            "bands",
            "charge_points",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")
        validators = []  # (organization, name) is checked by the service

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["organization"].queryset = Organization.objects.visible_to(
                request.user
            )
            self.fields[
                "charge_points"
            ].child_relation.queryset = ChargePoint.objects.visible_to(request.user)

    def to_representation(self, instance: Tariff) -> dict:
        data = super().to_representation(instance)
        data["charge_points"] = sorted(
            link.charge_point_id for link in instance.station_links.all()
        )
        return data
