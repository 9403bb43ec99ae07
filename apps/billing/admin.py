"""Tariffs with their time-of-day bands and stations; session costs."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from apps.billing.models import StationTariff, Tariff, TariffBand, TransactionCost
from apps.billing.services.tariffs import tariff_make_default
from apps.organizations.admin_scoping import TenantScopedAdmin, TenantScopedInline


class TariffBandInline(TenantScopedInline):
    model = TariffBand
    extra = 0
    fields = ("name", "start_time", "end_time", "price_per_kwh", "price_per_minute")


class StationTariffInline(TenantScopedInline):
    model = StationTariff
    extra = 0
    raw_id_fields = ("charge_point",)
    verbose_name = "station"
    verbose_name_plural = "stations using this tariff"


class TariffForm(forms.ModelForm):
    class Meta:
        model = Tariff
        fields = (
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
        )

    def validate_unique(self):
        # Saving a tariff as default moves the flag from the previous default
        # (one per organization), so that constraint is not a form error.
        exclude = self._get_validation_exclusions() | {"is_default"}
        try:
            self.instance.validate_unique(exclude=exclude)
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(Tariff)
class TariffAdmin(TenantScopedAdmin):
    form = TariffForm
    list_display = (
        "name",
        "organization",
        "currency",
        "price_per_kwh",
        "price_per_minute",
        "session_fee",
        "idle_fee_per_minute",
        "is_default",
    )
    list_filter = ("organization", "currency", "is_default")
    search_fields = ("name",)
    list_select_related = ("organization",)
    inlines = (TariffBandInline, StationTariffInline)
    add_role = "operator"
    delete_role = "operator"

    def save_model(self, request, obj, form, change):
        if obj.is_default:
            tariff_make_default(tariff=obj)
        super().save_model(request, obj, form, change)


@admin.register(TransactionCost)
class TransactionCostAdmin(TenantScopedAdmin):
    list_display = (
        "transaction",
        "total",
        "currency",
        "energy_wh",
        "tariff",
        "computed_at",
    )
    list_filter = ("currency",)
    search_fields = ("transaction__transaction_id", "transaction__charge_point__id")
    list_select_related = ("transaction", "tariff")
    readonly_fields = [f.name for f in TransactionCost._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
