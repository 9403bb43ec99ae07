import json

from django.contrib import admin
from django.utils.html import format_html

from apps.ocpp.models import CommandLog, MessageLog
from apps.organizations.admin_scoping import TenantScopedAdmin

MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}


@admin.register(MessageLog)
class MessageLogAdmin(TenantScopedAdmin):
    """The message journal: append-only, read by operators, purged by retention."""

    list_display = (
        "created_at",
        "charge_point",
        "direction",
        "message_type_name",
        "action",
        "unique_id",
    )
    list_filter = ("direction", "action")
    search_fields = ("charge_point__id", "unique_id")
    date_hierarchy = "created_at"
    list_select_related = ("charge_point",)
    ordering = ("-created_at", "-id")
    # Counting millions of journal rows on every page is what makes big
    # changelists slow; the paginator shows "more" instead.
    show_full_result_count = False
    fields = (
        "charge_point",
        "direction",
        "message_type_name",
        "unique_id",
        "action",
        "created_at",
        "frame_pretty",
    )
    readonly_fields = fields

    @admin.display(description="Type", ordering="message_type")
    def message_type_name(self, obj: MessageLog) -> str:
        return MESSAGE_TYPES.get(obj.message_type, str(obj.message_type or "—"))

    @admin.display(description="Frame")
    def frame_pretty(self, obj: MessageLog) -> str:
        try:
            text = json.dumps(json.loads(obj.frame), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.frame
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


def _json_block(value) -> str:
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)


@admin.register(CommandLog)
class CommandLogAdmin(TenantScopedAdmin):
    """Every command sent to a station and how it ended: append-only."""

    list_display = (
        "created_at",
        "charge_point",
        "action",
        "outcome",
        "answer_status",
        "requested_by",
        "duration_ms",
    )
    list_filter = ("outcome", "action")
    search_fields = ("charge_point__id", "requested_by", "unique_id", "action")
    date_hierarchy = "created_at"
    list_select_related = ("charge_point",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fields = (
        "charge_point",
        "action",
        "requested_by",
        "unique_id",
        "outcome",
        ("error_code", "error_description"),
        ("created_at", "completed_at", "duration_ms"),
        "payload_pretty",
        "response_pretty",
    )
    readonly_fields = (
        "charge_point",
        "action",
        "requested_by",
        "unique_id",
        "outcome",
        "error_code",
        "error_description",
        "created_at",
        "completed_at",
        "duration_ms",
        "payload_pretty",
        "response_pretty",
    )

    @admin.display(description="Status")
    def answer_status(self, obj: CommandLog) -> str:
        status = (obj.response or {}).get("status")
        return status if isinstance(status, str) else "—"

    @admin.display(description="Payload")
    def payload_pretty(self, obj: CommandLog) -> str:
        return _json_block(obj.payload)

    @admin.display(description="Response")
    def response_pretty(self, obj: CommandLog) -> str:
        return _json_block(obj.response)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser
