from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.authlists.admin import LocalListStationAdminMixin
from apps.chargepoints.admin_commands import BULK_ACTIONS, StationCommandsAdminMixin
from apps.chargepoints.admin_configuration import StationConfigurationAdminMixin
from apps.chargepoints.models import ChargePoint, Evse
from apps.chargepoints.selectors import CONNECTORS_PREFETCH
from apps.chargepoints.services.management import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    STATION_UPDATABLE_FIELDS,
    station_create,
    station_generate_password,
    station_password_errors,
    station_set_password,
    station_set_registration_status,
    station_update,
)
from apps.organizations.admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInline,
    adopt_saved_instance,
    is_action_confirmed,
    render_action_confirmation,
)

# What the station reports about itself, or the edge records: never typed in.
REPORTED_FIELDS = (
    "ocpp_version",
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
    "status",
    "error_code",
    "is_online",
    "last_seen_at",
    "last_boot_at",
    "connected_at",
    "disconnected_at",
    "node_name",
    "channel_name",
    "remote_address",
    "created_at",
    "updated_at",
)


class ChargePointAdminForm(forms.ModelForm):
    new_password = forms.CharField(
        label="New password",
        required=False,
        strip=False,
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="HTTP Basic password (security profiles 1 and 2), 16-40 "
        "characters. Stored hashed; leave empty to keep the current one.",
    )
    generate_password = forms.BooleanField(
        label="Generate a password",
        required=False,
        help_text="Set a new random password and show it once after saving.",
    )

    class Meta:
        model = ChargePoint
        fields = (
            "id",
            "organization",
            "description",
            "registration_status",
            "security_profile",
            "heartbeat_interval",
        )

    def clean_new_password(self) -> str:
        password = self.cleaned_data["new_password"]
        if password:
            errors = station_password_errors(password)
            if errors:
                raise forms.ValidationError(errors)
        return password

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password") and cleaned.get("generate_password"):
            raise forms.ValidationError(
                "Either type a new password or generate one, not both."
            )
        return cleaned


def _connectors_table(evse: Evse) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (c.connector_id, c.status or "—", c.error_code or "—", c.updated_at or "—")
            for c in evse.connectors.all()
        ),
    )
    if not rows:
        return "—"
    return format_html(
        "<table><thead><tr><th>Connector</th><th>Status</th><th>Error</th>"
        "<th>Updated</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


class EvseInline(TenantScopedInline):
    """EVSEs and their connectors as the station reported them: read-only."""

    model = Evse
    fields = ("evse_id", "status", "updated_at", "connectors")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(CONNECTORS_PREFETCH)

    @admin.display(description="Connectors")
    def connectors(self, obj: Evse) -> str:
        return _connectors_table(obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChargePoint)
class ChargePointAdmin(
    StationCommandsAdminMixin,
    StationConfigurationAdminMixin,
    LocalListStationAdminMixin,
    TenantScopedAdmin,
):
    form = ChargePointAdminForm
    list_display = (
        "online",
        "id",
        "organization",
        "ocpp_version",
        "vendor",
        "model",
        "firmware_version",
        "registration_status",
        "last_seen_at",
    )
    list_display_links = ("id",)
    list_filter = (
        "is_online",
        "ocpp_version",
        "registration_status",
        "organization",
        "security_profile",
    )
    search_fields = ("id", "vendor", "model", "serial_number", "description")
    list_select_related = ("organization",)
    ordering = ("id",)
    inlines = [EvseInline]
    actions = ["accept_registration", "reject_registration", *BULK_ACTIONS]
    # Same as the API: operators register, configure and remove stations.
    add_role = "operator"
    delete_role = "operator"

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "organization",
                    "description",
                    "registration_status",
                    "heartbeat_interval",
                    "journal",
                    "configuration",
                    "local_list",
                )
            },
        ),
        (
            "Security",
            {
                "fields": (
                    "security_profile",
                    "password_state",
                    "new_password",
                    "generate_password",
                )
            },
        ),
        (
            "Reported by the station",
            {
                "fields": (
                    "ocpp_version",
                    ("vendor", "model"),
                    ("serial_number", "firmware_version"),
                    ("iccid", "imsi"),
                    ("meter_type", "meter_serial_number"),
                    ("status", "error_code"),
                )
            },
        ),
        (
            "Connection",
            {
                "fields": (
                    ("is_online", "last_seen_at"),
                    ("connected_at", "disconnected_at"),
                    "last_boot_at",
                    ("node_name", "channel_name"),
                    "remote_address",
                    ("created_at", "updated_at"),
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = (
            *REPORTED_FIELDS,
            "password_state",
            "journal",
            "configuration",
            "local_list",
        )
        if obj is not None:  # the identity is the primary key
            fields = ("id", "organization", *fields)
        return fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # nothing reported yet
            return self.fieldsets[:2]
        return self.fieldsets

    @admin.display(description="Online", ordering="is_online")
    def online(self, obj: ChargePoint) -> str:
        color, label = (
            ("#2e7d32", "online") if obj.is_online else ("#9e9e9e", "offline")
        )
        return format_html(
            '<span style="display:inline-block;padding:1px 8px;border-radius:8px;'
            'color:#fff;background:{}">{}</span>',
            color,
            label,
        )

    @admin.display(description="Password")
    def password_state(self, obj: ChargePoint) -> str:
        return "set (hashed)" if obj.password_hash else "not set"

    @admin.display(description="Message journal")
    def journal(self, obj: ChargePoint) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:ocpp_messagelog_changelist")
        return format_html(
            '<a href="{}?charge_point__id__exact={}">Messages of {}</a>',
            url,
            obj.pk,
            obj.pk,
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        password = data.get("new_password") or None
        if data.get("generate_password"):
            password = station_generate_password()
        if not change:
            station = station_create(
                organization=obj.organization,
                id=obj.id,
                password=password,
                description=obj.description,
                security_profile=obj.security_profile,
                registration_status=obj.registration_status,
                heartbeat_interval=obj.heartbeat_interval,
            )
            adopt_saved_instance(obj, station)
        else:
            changed = {
                name: getattr(obj, name)
                for name in form.changed_data
                if name in STATION_UPDATABLE_FIELDS
            }
            with transaction.atomic():
                station_update(charge_point=obj, **changed)
                if password:
                    station_set_password(charge_point=obj, password=password)
        if data.get("generate_password"):
            messages.warning(
                request,
                format_html(
                    "The password of {} is <code>{}</code>. Configure the "
                    "station with it now: it is shown only this once.",
                    obj.pk,
                    password,
                ),
            )

    def _set_registration(self, request, queryset, *, status: str, action: str):
        queryset = self.writable_queryset(request, queryset).exclude(
            registration_status=status
        )
        if not queryset:
            self.message_user(request, f"No selected station needs {status}.")
            return None
        if not is_action_confirmed(request):
            verb = (
                "Accept"
                if status == ChargePoint.RegistrationStatus.ACCEPTED
                else "Reject"
            )
            return render_action_confirmation(
                self,
                request,
                queryset,
                action=action,
                title=f"{verb} registration",
                question=f"Set the registration of these stations to {status}? "
                "They get the new status at their next BootNotification.",
            )
        for station in queryset:
            station_set_registration_status(charge_point=station, status=status)
        self.message_user(
            request,
            f"{len(queryset)} station(s) set to {status}.",
            messages.SUCCESS,
        )
        return None

    @admin.action(description="Accept registration", permissions=["change"])
    def accept_registration(self, request, queryset):
        return self._set_registration(
            request,
            queryset,
            status=ChargePoint.RegistrationStatus.ACCEPTED,
            action="accept_registration",
        )

    @admin.action(description="Reject registration", permissions=["change"])
    def reject_registration(self, request, queryset):
        return self._set_registration(
            request,
            queryset,
            status=ChargePoint.RegistrationStatus.REJECTED,
            action="reject_registration",
        )
