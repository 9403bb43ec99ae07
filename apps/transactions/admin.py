"""The operator's view of tokens and sessions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from apps.organizations.admin_scoping import (
    TenantScopedAdmin,
    adopt_saved_instance,
    is_action_confirmed,
    render_action_confirmation,
)
from apps.transactions.charts import power_energy_svg
from apps.transactions.models import IdTag, Transaction
from apps.transactions.selectors import chart_series, transaction_meter_values
from apps.transactions.services.id_tags import (
    ID_TAG_FIELDS,
    id_tag_create,
    id_tag_update,
    id_tags_set_status,
)
from apps.transactions.services.stop import transaction_force_stop
from csms.errors import ApplicationError

METER_VALUE_ROWS = 500


@admin.register(IdTag)
class IdTagAdmin(TenantScopedAdmin):
    list_display = (
        "id_tag",
        "type",
        "status",
        "expiry_date",
        "parent_id_tag",
        "owner_reference",
        "organization",
    )
    list_filter = ("status", "type", "organization")
    search_fields = ("id_tag", "parent_id_tag", "owner_reference")
    list_select_related = ("organization",)
    readonly_fields = ("created_at", "updated_at")
    actions = ("block_selected", "unblock_selected")
    add_role = "operator"
    delete_role = "operator"

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in ID_TAG_FIELDS
            if name in form.cleaned_data
        }
        if change:
            id_tag_update(tag=obj, **fields)
        else:
            fields.pop("id_tag", None)
            saved = id_tag_create(
                organization=obj.organization, id_tag=obj.id_tag, **fields
            )
            adopt_saved_instance(obj, saved)

    def _set_status(self, request, queryset, status: str) -> None:
        changed = id_tags_set_status(
            queryset=self.writable_queryset(request, queryset), status=status
        )
        self.message_user(
            request, f"{changed} id tag(s) now {status}.", messages.SUCCESS
        )

    @admin.action(description="Block selected id tags", permissions=["change"])
    def block_selected(self, request, queryset):
        self._set_status(request, queryset, IdTag.Status.BLOCKED)

    @admin.action(description="Unblock selected id tags", permissions=["change"])
    def unblock_selected(self, request, queryset):
        self._set_status(request, queryset, IdTag.Status.ACCEPTED)


@admin.register(Transaction)
class TransactionAdmin(TenantScopedAdmin):
    """What stations reported is read-only; operators may force-stop."""

    change_form_template = "admin/transactions/transaction/change_form.html"
    list_display = (
        "__str__",
        "charge_point",
        "connector",
        "id_tag",
        "started_at",
        "duration",
        "energy_kwh",
        "cost",
        "status",
    )
    list_filter = (
        "status",
        "stopped_by",
        "stop_token_mismatch",
        "offline",
        "ocpp_version",
        "organization",
    )
    date_hierarchy = "started_at"
    search_fields = ("transaction_id", "id_tag", "stop_id_tag", "charge_point__id")
    list_select_related = ("charge_point", "billing")
    raw_id_fields = ("token",)
    actions = ("force_stop_selected",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organization",
                    "charge_point",
                    "transaction_id",
                    "ocpp_version",
                    "evse_id",
                    "connector_id",
                    "status",
                )
            },
        ),
        (
            "Token",
            {
                "fields": (
                    "id_tag",
                    "id_token_type",
                    "token",
                    "auth_status",
                    "stop_id_tag",
                    "stop_token_mismatch",
                )
            },
        ),
        (
            "Time and energy",
            {
                "fields": (
                    "started_at",
                    "stopped_at",
                    "stop_reason",
                    "stopped_by",
                    "meter_start",
                    "meter_stop",
                    "energy_wh",
                    "last_meter_wh",
                    "last_meter_at",
                    "last_power_w",
                )
            },
        ),
        (
            "OCPP 2.x",
            {
                "classes": ("collapse",),
                "fields": (
                    "charging_state",
                    "time_spent_charging",
                    "remote_start_id",
                    "reservation_id",
                    "offline",
                    "last_seq_no",
                ),
            },
        ),
        ("Cost", {"fields": ("cost_summary",)}),
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # sessions are billing records

    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    @admin.display(description="connector")
    def connector(self, obj: Transaction) -> str:
        if obj.evse_id is None:
            return "-"
        if obj.evse_id == obj.connector_id or obj.connector_id is None:
            return str(obj.evse_id)
        return f"{obj.evse_id}/{obj.connector_id}"

    @admin.display(description="duration")
    def duration(self, obj: Transaction) -> str:
        seconds = obj.duration_s
        if seconds is None:
            return "running"
        hours, rest = divmod(seconds, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"

    @admin.display(description="kWh", ordering="energy_wh")
    def energy_kwh(self, obj: Transaction) -> str:
        return "-" if obj.energy_wh is None else f"{obj.energy_wh / 1000:.3f}"

    @admin.display(description="cost")
    def cost(self, obj: Transaction) -> str:
        billing = getattr(obj, "billing", None)
        return f"{billing.total} {billing.currency}" if billing else "-"

    @admin.display(description="cost")
    def cost_summary(self, obj: Transaction) -> str:
        billing = getattr(obj, "billing", None)
        if billing is None:
            return "not billed"
        return format_html(
            "{} {} = session fee {} + energy {} + time {} + idle {}",
            billing.total,
            billing.currency,
            billing.session_fee,
            billing.energy_cost,
            billing.time_cost,
            billing.idle_cost,
        )

    @admin.action(
        description="Force-stop selected transactions", permissions=["change"]
    )
    def force_stop_selected(self, request, queryset):
        active = self.writable_queryset(request, queryset).filter(
            status=Transaction.Status.ACTIVE
        )
        if not is_action_confirmed(request):
            return render_action_confirmation(
                self,
                request,
                active,
                action="force_stop_selected",
                title="Force-stop transactions",
                question=(
                    "Close these sessions without the station? Each keeps the energy "
                    "of its latest meter reading and is billed now."
                ),
            )
        stopped = 0
        for tx in active:
            try:
                transaction_force_stop(transaction=tx)
            except ApplicationError as error:
                self.message_user(request, f"{tx}: {error.message}", messages.WARNING)
            else:
                stopped += 1
        self.message_user(
            request, f"{stopped} transaction(s) stopped.", messages.SUCCESS
        )
        return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        tx = self.get_object(request, object_id)
        if tx is not None:
            values = transaction_meter_values(transaction=tx)
            extra_context["chart_svg"] = mark_safe(  # noqa: S308 (numbers only)
                power_energy_svg(**chart_series(transaction=tx))
            )
            extra_context["meter_values"] = values[:METER_VALUE_ROWS]
            extra_context["meter_value_count"] = values.count()
            extra_context["meter_value_limit"] = METER_VALUE_ROWS
            extra_context["transaction_events"] = tx.events.order_by("seq_no")
        return super().change_view(request, object_id, form_url, extra_context)
