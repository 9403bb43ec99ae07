import json

from django.contrib import admin
from django.utils.html import format_html

from apps.ocpp.models import MessageLog
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
