"""Admin: commanding stations, one at a time or in bulk.

``StationCommandsAdminMixin`` gives the station admin:

- a "Commands" section on the change page, linking to a form per
  version-neutral operation (``<station>/commands/<operation>/``). The form
  calls the same operation as the API, asks for confirmation first where the
  operation is destructive, and shows the station's answer or the error;
- bulk actions on the station list: reset, clear cache, trigger a message.

Only operators (the role that changes a station) see or run them; viewers
get 403 (``has_change_permission``, the tenant-scoped role check).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.chargepoints.admin_command_forms import (
    ADMIN_OPERATIONS,
    AdminOperation,
    trigger_messages,
)
from apps.chargepoints.models import ChargePoint
from apps.ocpp import operations
from apps.organizations.admin_scoping import is_action_confirmed
from csms.errors import ApplicationError

COMMAND_TEMPLATE = "admin/chargepoints/chargepoint/command.html"
BULK_TEMPLATE = "admin/chargepoints/chargepoint/bulk_command.html"
BULK_ACTIONS = ["reset_stations", "clear_cache_stations", "trigger_stations"]


def requested_by(request) -> str:
    return f"admin:{request.user.get_username()}"


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


class StationCommandsAdminMixin:
    """For the ChargePoint admin: command pages, their links, bulk actions."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/commands/<slug:operation>/",
                self.admin_site.admin_view(self.command_view),
                name="{}_{}_command".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The change page, with the Commands section for those who may command."""
        extra_context = dict(extra_context or {})
        station = self.get_object(request, unquote(object_id))
        if station is not None and self.has_change_permission(request, station):
            extra_context["station_commands"] = self.command_links(station)
        return super().change_view(request, object_id, form_url, extra_context)

    def command_links(self, station: ChargePoint) -> list[tuple[str, str]]:
        """(label, url) of each operation the station's version has."""
        if not station.ocpp_version:
            return []
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_command"
        return [
            (op.label, reverse(name, args=[station.pk, op.slug]))
            for op in ADMIN_OPERATIONS.values()
            if op.available_for(station)
        ]

    # --- one station -------------------------------------------------------

    def command_view(self, request, object_id: str, operation: str):
        op = ADMIN_OPERATIONS.get(operation)
        station = self.get_object(request, unquote(object_id))
        if op is None or station is None or not op.available_for(station):
            raise Http404("No such station or command.")
        if not self.has_change_permission(request, station):
            raise PermissionDenied
        form = op.form(request.POST or None, station=station)
        context = {"form": form, "question": None, "result": None, "error": None}
        if request.method == "POST" and form.is_valid():
            question = op.confirm(form.cleaned_data)
            if question and request.POST.get("confirmed") != "yes":
                context["question"] = question
            else:
                context.update(self._run(request, op, station, form))
        return TemplateResponse(
            request,
            COMMAND_TEMPLATE,
            {
                **self.admin_site.each_context(request),
                **context,
                "title": f"{op.label}: {station.pk}",
                "opts": self.opts,
                "original": station,
                "station": station,
                "operation": op,
                "media": self.media + form.media,
            },
        )

    def _run(self, request, op: AdminOperation, station, form) -> dict:
        try:
            result = op.run(
                station.pk,
                **form.operation_kwargs(),
                requested_by=requested_by(request),
            )
        except ApplicationError as error:
            return {
                "error": error,
                "error_details": _pretty(error.details) if error.details else "",
            }
        return {
            "result": result,
            "response": _pretty(result.response),
            "command_url": reverse(
                "admin:ocpp_commandlog_change", args=[result.command_id]
            ),
        }

    # --- bulk actions --------------------------------------------------------

    def _bulk(self, request, queryset, *, action, title, form=None, run):
        """Intermediate page (a form and/or "are you sure"), then run per station.

        Stations run one after another; each answers within the command
        timeout, an offline one at once.
        """
        stations = self.writable_queryset(request, queryset)
        if not stations:
            self.message_user(request, "No selected station may be commanded by you.")
            return None
        bound = form(request.POST) if form and is_action_confirmed(request) else None
        if not is_action_confirmed(request) or (bound and not bound.is_valid()):
            return TemplateResponse(
                request,
                BULK_TEMPLATE,
                {
                    **self.admin_site.each_context(request),
                    "title": title,
                    "objects": list(stations),
                    "form": bound or (form() if form else None),
                    "opts": self.opts,
                    "action": action,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "media": self.media,
                },
            )
        options = bound.cleaned_data if bound else {}
        for station in stations:
            self._bulk_one(request, station, run, options)
        return None

    def _bulk_one(self, request, station, run, options) -> None:
        try:
            result = run(station.pk, **options, requested_by=requested_by(request))
        except ApplicationError as error:
            self.message_user(request, f"{station.pk}: {error.message}", messages.ERROR)
            return
        level = messages.SUCCESS if result.status == "Accepted" else messages.WARNING
        answer = result.status or result.response
        self.message_user(
            request, f"{station.pk}: {result.action} answered {answer}", level
        )

    @admin.action(description="Reset selected stations", permissions=["change"])
    def reset_stations(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            action="reset_stations",
            title="Reset stations",
            form=BulkResetForm,
            run=operations.reset,
        )

    @admin.action(
        description="Clear authorization cache of selected stations",
        permissions=["change"],
    )
    def clear_cache_stations(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            action="clear_cache_stations",
            title="Clear the authorization cache",
            run=operations.clear_cache,
        )

    @admin.action(
        description="Trigger a message on selected stations", permissions=["change"]
    )
    def trigger_stations(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            action="trigger_stations",
            title="Trigger a message",
            form=BulkTriggerForm,
            run=operations.trigger,
        )


class BulkResetForm(forms.Form):
    type = forms.ChoiceField(
        choices=[("Soft", "Soft (2.0.1: OnIdle)"), ("Hard", "Hard (2.0.1: Immediate)")]
    )


class BulkTriggerForm(forms.Form):
    message = forms.ChoiceField(
        help_text="Stations whose OCPP version lacks the message answer an error.",
        choices=[
            (m, m)
            for m in sorted(
                set(trigger_messages("1.6")) | set(trigger_messages("2.0.1"))
            )
        ],
    )
