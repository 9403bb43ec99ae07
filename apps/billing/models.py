"""Tariffs, which station uses which, and what each session cost.

A station's tariff is its ``StationTariff`` link, else its organization's default
tariff (``Tariff.is_default``). Links live here, so stations and organizations
need no billing columns.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.organizations.scoping import TenantQuerySet
from apps.transactions.models import Transaction

PRICE = {"max_digits": 12, "decimal_places": 4, "validators": [MinValueValidator(0)]}
MONEY = {"max_digits": 12, "decimal_places": 2}
currency_validator = RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code, e.g. EUR.")


class Tariff(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tariffs"
    )
    name = models.CharField(max_length=100)
    currency = models.CharField(
        max_length=3, default="EUR", validators=[currency_validator]
    )
    price_per_kwh = models.DecimalField(default=0, **PRICE)
    price_per_minute = models.DecimalField(
        default=0, help_text="Per minute of charging.", **PRICE
    )
    session_fee = models.DecimalField(
        default=0, validators=[MinValueValidator(0)], **MONEY
    )
    idle_fee_per_minute = models.DecimalField(
        null=True,
        blank=True,
        help_text="Per minute the vehicle stays plugged in after charging ended.",
        **PRICE,
    )
    idle_grace_minutes = models.PositiveIntegerField(
        default=0, help_text="Free minutes after charging ended."
    )
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA zone of the time-of-day bands."
    )
    is_default = models.BooleanField(
        default=False, help_text="Used by the organization's stations without a tariff."
    )
    charge_points = models.ManyToManyField(
        ChargePoint, through="StationTariff", related_name="tariffs", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_tariff_name"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_default=True),
                name="one_default_tariff_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class TariffBand(models.Model):
    """A time-of-day window with its own prices (empty price: the tariff's).

    ``end_time`` at or before ``start_time`` crosses midnight (22:00-06:00).
    """

    TENANT_FIELD = "tariff__organization"

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="bands")
    name = models.CharField(max_length=50, blank=True)
    start_time = models.TimeField()
    end_time = models.TimeField()
    price_per_kwh = models.DecimalField(null=True, blank=True, **PRICE)
    price_per_minute = models.DecimalField(null=True, blank=True, **PRICE)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "time-of-day band"
        ordering = ["tariff", "start_time"]

    def __str__(self) -> str:
        label = self.name or "band"
        return f"{label} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class StationTariff(models.Model):
    """The tariff a station uses (at most one)."""

    TENANT_FIELD = "tariff__organization"

    charge_point = models.OneToOneField(
        ChargePoint, on_delete=models.CASCADE, related_name="station_tariff"
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.CASCADE, related_name="station_links"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "station tariff"

    def __str__(self) -> str:
        return f"{self.charge_point_id} → {self.tariff}"

    def clean(self) -> None:
        if (
            self.charge_point_id
            and self.tariff_id
            and self.charge_point.organization_id != self.tariff.organization_id
        ):
            raise ValidationError(
                {"charge_point": "The station belongs to another organization."}
            )


class TransactionCost(models.Model):
    """What a session cost, with its breakdown; one per session."""

    TENANT_FIELD = "transaction__organization"

    transaction = models.OneToOneField(
        Transaction, on_delete=models.CASCADE, related_name="billing"
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.SET_NULL, null=True, blank=True, related_name="costs"
    )
    currency = models.CharField(max_length=3)
    session_fee = models.DecimalField(**MONEY)
    energy_cost = models.DecimalField(**MONEY)
    time_cost = models.DecimalField(**MONEY)
    idle_cost = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    energy_wh = models.DecimalField(max_digits=18, decimal_places=3)
    charging_seconds = models.PositiveIntegerField()
    idle_seconds = models.PositiveIntegerField()
    breakdown = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "session cost"

    def __str__(self) -> str:
        return f"{self.total} {self.currency}"
