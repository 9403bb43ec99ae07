"""Admin: local authorization lists, station groups, and the station action
"push local authorization list" (``LocalListStationAdminMixin``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.authlists.models import LocalAuthList, StationLocalList
from apps.authlists.services import local_list_entries, local_list_status
from apps.chargepoints.models import ChargePoint, StationGroup
from apps.ocpp.local_list import local_list_push
from apps.organizations.admin_scoping import (
    TenantScopedAdmin,
    is_action_confirmed,
    render_action_confirmation,
)
from csms.errors import ApplicationError

_PUSH = "push_local_list"


def _same_organization(form: forms.ModelForm, field: str, related) -> None:
    organization = form.cleaned_data["organization"]
    foreign = [str(obj) for obj in related if obj.organization_id != organization.pk]
    if foreign:
        form.add_error(field, f"Not of {organization}: {', '.join(sorted(foreign))}.")


class StationGroupForm(forms.ModelForm):
    class Meta:
        model = StationGroup
        fields = ("organization", "name", "description", "charge_points")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("organization"):
            _same_organization(
                self, "charge_points", cleaned.get("charge_points") or []
            )
        return cleaned


@admin.register(StationGroup)
class StationGroupAdmin(TenantScopedAdmin):
    form = StationGroupForm
    list_display = ("name", "organization", "stations", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "description")
    list_select_related = ("organization",)
    autocomplete_fields = ("charge_points",)
    add_role = "operator"
    delete_role = "operator"

    @admin.display(description="Stations")
    def stations(self, obj: StationGroup) -> int:
        return obj.charge_points.count()


class LocalAuthListForm(forms.ModelForm):
    class Meta:
        model = LocalAuthList
        fields = ("organization", "name", "station_group", "all_id_tags", "id_tags")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("organization"):
            group = cleaned.get("station_group")
            _same_organization(self, "station_group", [group] if group else [])
            _same_organization(self, "id_tags", cleaned.get("id_tags") or [])
        return cleaned


@admin.register(LocalAuthList)
class LocalAuthListAdmin(TenantScopedAdmin):
    """Which id tags stations may authorize offline; pushed from the station
    list ("Push local authorization list") or on boot when the organization
    syncs lists automatically."""

    form = LocalAuthListForm
    list_display = (
        "name",
        "organization",
        "station_group",
        "all_id_tags",
        "version",
        "updated_at",
    )
    list_filter = ("organization", "all_id_tags")
    search_fields = ("name",)
    list_select_related = ("organization", "station_group")
    autocomplete_fields = ("id_tags",)
    readonly_fields = ("version", "content", "updated_at")
    fields = (
        "organization",
        "name",
        "station_group",
        "all_id_tags",
        "id_tags",
        "version",
        "content",
        "updated_at",
    )
    add_role = "operator"
    delete_role = "operator"

    @admin.display(description="Current content")
    def content(self, obj: LocalAuthList) -> str:
        if obj.pk is None:
            return "—"
        entries = local_list_entries(local_list=obj)
        return f"{len(entries)} id tag(s)"


class LocalListStationAdminMixin:
    """For the ChargePoint admin: the list action and the station's list state."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            function = type(self).push_local_list
            actions[_PUSH] = (function, _PUSH, function.short_description)
        return actions

    @admin.display(description="Push local authorization list")
    def push_local_list(self, request, queryset):
        queryset = self.writable_queryset(request, queryset)
        if not queryset:
            self.message_user(request, "No selected station may be changed by you.")
            return None
        if not is_action_confirmed(request):
            return render_action_confirmation(
                self,
                request,
                queryset,
                action=_PUSH,
                title="Push local authorization list",
                question="Send these stations their local authorization list "
                "(the difference where the station's content is known, else "
                "the full list)?",
            )
        who = f"user:{request.user.get_username()}"
        for station in queryset:
            try:
                result = local_list_push(station.pk, requested_by=who)
            except ApplicationError as error:
                self.message_user(
                    request, f"{station.pk}: {error.message}", messages.ERROR
                )
                continue
            level = (
                messages.SUCCESS
                if result.status in ("Accepted", "UpToDate")
                else messages.WARNING
            )
            self.message_user(
                request,
                f"{station.pk}: {result.status} ({result.update_type or '-'} "
                f"update to version {result.version}, {result.messages} "
                "message(s)).",
                level,
            )
        return None

    @admin.display(description="Local authorization list")
    def local_list(self, obj: ChargePoint) -> str:
        if obj._state.adding:
            return "—"
        status = local_list_status(charge_point=obj)
        state: StationLocalList | None = status["state"]
        held = state.version if state else 0
        sync = "up to date" if status["up_to_date"] else "not up to date"
        return format_html(
            "{} v{} ({} id tags); the station holds v{}: {}{}",
            status["local_list"],
            status["current_version"],
            status["entries"],
            held,
            sync,
            f" (last answer: {state.last_status})"
            if state and state.last_status
            else "",
        )
