"""Admin: a station's configuration page (1.6 keys, 2.0.1 device model).

``StationConfigurationAdminMixin`` gives the station admin a page at
``<station>/configuration/``: the stored configuration as a table, a button
that asks the station again (or for a base report), and for each writable
value a field that sets it on the station and shows the station's answer,
"RebootRequired" included. Viewers see the page; operators act on it.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.chargepoints.models import ChargePoint, DeviceModelReport, VariableAttribute
from apps.chargepoints.serializers_configuration import configuration_item
from apps.chargepoints.services.configuration import configuration_keys
from apps.chargepoints.services.device_model import device_model_attributes
from apps.ocpp.configuration import (
    REPORT_BASES,
    ConfigurationChange,
    configuration_get,
    configuration_set,
    device_model_report_request,
    parse_refs,
)
from apps.organizations.admin_scoping import TenantScopedAdmin
from csms.errors import ApplicationError

_ANSWER_LEVELS = {
    "Accepted": messages.SUCCESS,
    "RebootRequired": messages.WARNING,
}


class RefreshForm(forms.Form):
    report = forms.ChoiceField(
        required=False,
        choices=[("", "Current values (GetConfiguration / GetVariables)")]
        + [(base, f"{base} report (GetBaseReport)") for base in REPORT_BASES],
    )


class SetValueForm(forms.Form):
    key = forms.CharField(max_length=250)
    attribute_type = forms.ChoiceField(
        required=False, choices=[("", "")] + VariableAttribute.Type.choices
    )
    value = forms.CharField(required=False, max_length=2500, strip=False)


def _who(request) -> str:
    return f"user:{request.user.get_username()}"


class StationConfigurationAdminMixin:
    """For the ChargePoint admin: the configuration page and a link to it."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_configuration"
        return [
            path(
                "<path:object_id>/configuration/",
                self.admin_site.admin_view(self.configuration_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Configuration")
    def configuration(self, obj: ChargePoint) -> str:
        if obj._state.adding:
            return "—"
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_configuration",
            args=[obj.pk],
        )
        return format_html('<a href="{}">Configuration of {}</a>', url, obj.pk)

    def configuration_view(self, request, object_id: str):
        station = self.get_object(request, object_id)
        if station is None or not self.has_view_permission(request, station):
            raise Http404("No such station.")
        if request.method == "POST":
            if not self.has_change_permission(request, station):
                raise PermissionDenied
            self._configuration_action(request, station)
            return HttpResponseRedirect(request.path)
        return TemplateResponse(
            request,
            "admin/chargepoints/chargepoint/configuration.html",
            self._configuration_context(request, station),
        )

    def _configuration_context(self, request, station: ChargePoint) -> dict:
        if station.ocpp_version == "1.6":
            rows = configuration_keys(charge_point_id=station.pk)
            reports = []
        else:
            rows = device_model_attributes(charge_point_id=station.pk)
            reports = DeviceModelReport.objects.filter(charge_point=station)[:5]
        items = [configuration_item(row) for row in rows]
        for item in items:
            item["writable"] = not item["readonly"] and item["mutability"] != "ReadOnly"
        return {
            **self.admin_site.each_context(request),
            "title": f"Configuration of {station.pk}",
            "opts": self.opts,
            "original": station,
            "station": station,
            "items": items,
            "reports": reports,
            "can_change": self.has_change_permission(request, station),
            "refresh_form": RefreshForm(),
            "is_device_model": station.ocpp_version not in (None, "1.6"),
        }

    def _configuration_action(self, request, station: ChargePoint) -> None:
        try:
            if request.POST.get("action") == "set":
                self._set_value(request, station)
            else:
                self._refresh(request, station)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    def _refresh(self, request, station: ChargePoint) -> None:
        form = RefreshForm(request.POST)
        report = form.cleaned_data["report"] if form.is_valid() else ""
        if report:
            result = device_model_report_request(
                station.pk,
                report_base=report,
                requested_by=_who(request),
                wait=settings.OCPP_REPORT_WAIT,
            )
            level = messages.SUCCESS if result.complete else messages.WARNING
            state = "complete" if result.complete else "not complete yet"
            self.message_user(
                request,
                f"The station answered {result.status}; the report is {state}.",
                level,
            )
            return
        result = configuration_get(station.pk, requested_by=_who(request))
        state = "" if result.complete else " (the report is not complete yet)"
        self.message_user(
            request, f"Configuration read from the station{state}.", messages.SUCCESS
        )

    def _set_value(self, request, station: ChargePoint) -> None:
        form = SetValueForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Invalid value.", messages.ERROR)
            return
        data = form.cleaned_data
        if station.ocpp_version == "1.6":
            change = ConfigurationChange(value=data["value"], key=data["key"])
        else:
            change = ConfigurationChange(
                value=data["value"],
                ref=parse_refs([data["key"]])[0],
                attribute_type=data["attribute_type"] or None,
            )
        (result,) = configuration_set(station.pk, [change], requested_by=_who(request))
        text = (
            f"{data['key']} = {data['value']!r}: the station answered {result.status}."
        )
        if result.status == "RebootRequired":
            text += " The new value takes effect after the station reboots."
        if result.status_info:
            text += f" ({result.status_info})"
        self.message_user(
            request, text, _ANSWER_LEVELS.get(result.status, messages.ERROR)
        )


@admin.register(DeviceModelReport)
class DeviceModelReportAdmin(TenantScopedAdmin):
    """Reports stations sent (NotifyReport), as they were assembled: read-only."""

    list_display = (
        "charge_point",
        "request_id",
        "report_base",
        "status",
        "station_status",
        "parts_received",
        "items_received",
        "requested_at",
        "completed_at",
    )
    list_filter = ("status", "report_base")
    search_fields = ("charge_point__id",)
    list_select_related = ("charge_point",)
    readonly_fields = [field.name for field in DeviceModelReport._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
