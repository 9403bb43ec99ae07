"""The admin's command forms: one per version-neutral operation.

Each ``AdminOperation`` names the form the operator fills in, the operation
it calls (``apps.ocpp.operations``, the same the API calls), and whether it
needs a confirmation step. A form's cleaned data are the operation's keyword
arguments; empty optional fields are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from apps.chargepoints.models import ChargePoint
from apps.ocpp import operations
from apps.transactions.models import IdTag, Transaction

VERSIONS_201 = ("2.0.1", "2.1")


def _evse_field(help_text: str = "2.0.1 EVSE; in 1.6 the connector.") -> forms.Field:
    return forms.IntegerField(
        label="EVSE", required=False, min_value=0, help_text=help_text
    )


def _connector_field(required: bool = False, min_value: int = 0) -> forms.Field:
    return forms.IntegerField(label="Connector", required=required, min_value=min_value)


class CommandForm(forms.Form):
    def __init__(self, *args, station: ChargePoint, **kwargs):
        super().__init__(*args, **kwargs)
        self.station = station

    def operation_kwargs(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }


class RemoteStartForm(CommandForm):
    id_tag = forms.CharField(label="Token (id tag)", max_length=36)
    evse_id = _evse_field()
    connector_id = _connector_field(min_value=1)
    id_token_type = forms.ChoiceField(
        label="Token type (2.0.1)",
        required=False,
        choices=[("", "The registered token's, else Central")] + IdTag.Type.choices,
    )
    charging_profile = forms.JSONField(
        required=False,
        help_text="Optional: the version's own chargingProfile object (JSON).",
    )


class RemoteStopForm(CommandForm):
    transaction_id = forms.CharField(
        label="Transaction", max_length=36, help_text="The OCPP transaction id."
    )

    def __init__(self, *args, station: ChargePoint, **kwargs):
        super().__init__(*args, station=station, **kwargs)
        active = list(
            Transaction.objects.filter(
                charge_point=station, status=Transaction.Status.ACTIVE
            )
            .exclude(transaction_id=None)
            .values_list("transaction_id", "id_tag")[:20]
        )
        if active:
            self.fields["transaction_id"] = forms.ChoiceField(
                label="Transaction",
                choices=[(tx, f"{tx} ({tag or 'no token'})") for tx, tag in active],
            )


class ResetForm(CommandForm):
    type = forms.ChoiceField(
        choices=[
            ("Soft", "Soft (2.0.1: OnIdle, after transactions end)"),
            ("Hard", "Hard (2.0.1: Immediate)"),
        ]
    )
    evse_id = _evse_field("2.0.1 only: reset this EVSE, not the station.")


class UnlockForm(CommandForm):
    evse_id = _evse_field("Required for 2.0.1.")
    connector_id = _connector_field(required=True)


class AvailabilityForm(CommandForm):
    operative = forms.TypedChoiceField(
        label="Make it",
        choices=[("true", "Operative"), ("false", "Inoperative")],
        coerce=lambda value: value == "true",
    )
    evse_id = _evse_field("Empty: the whole station.")
    connector_id = _connector_field()

    def operation_kwargs(self) -> dict:
        kwargs = super().operation_kwargs()
        kwargs["operative"] = self.cleaned_data["operative"]
        return kwargs


def trigger_messages(version: str | None) -> list[str]:
    adapter = operations.ADAPTERS.get(version or "")
    if adapter is None:
        return []
    return sorted(
        adapter.TRIGGER_MESSAGES | getattr(adapter, "EXTENDED_TRIGGER_MESSAGES", set())
    )


class TriggerForm(CommandForm):
    message = forms.ChoiceField()
    evse_id = _evse_field()
    connector_id = _connector_field()

    def __init__(self, *args, station: ChargePoint, **kwargs):
        super().__init__(*args, station=station, **kwargs)
        self.fields["message"].choices = [
            (m, m) for m in trigger_messages(station.ocpp_version)
        ]


class ClearCacheForm(CommandForm):
    pass


class DataTransferForm(CommandForm):
    vendor_id = forms.CharField(max_length=255)
    message_id = forms.CharField(max_length=50, required=False)
    data = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), strip=False
    )


class FirmwareUpdateForm(CommandForm):
    location = forms.URLField(max_length=512, assume_scheme="https")
    retrieve_at = forms.DateTimeField(
        required=False, help_text="Empty: now. Format 2026-12-01 08:00 (UTC)."
    )
    retries = forms.IntegerField(required=False, min_value=0)
    retry_interval = forms.IntegerField(
        required=False, min_value=0, help_text="Seconds."
    )


class DiagnosticsForm(CommandForm):
    location = forms.URLField(
        max_length=512, assume_scheme="https", help_text="Where to upload."
    )
    log_type = forms.ChoiceField(
        choices=[("DiagnosticsLog", "Diagnostics"), ("SecurityLog", "Security log")]
    )
    start_time = forms.DateTimeField(required=False)
    stop_time = forms.DateTimeField(required=False)
    retries = forms.IntegerField(required=False, min_value=0)
    retry_interval = forms.IntegerField(required=False, min_value=0)


class ReportForm(CommandForm):
    report_base = forms.ChoiceField(
        choices=[
            ("FullInventory", "Full inventory"),
            ("ConfigurationInventory", "Configuration inventory"),
            ("SummaryInventory", "Summary inventory"),
        ]
    )


class TransactionStatusForm(CommandForm):
    transaction_id = forms.CharField(
        label="Transaction",
        max_length=36,
        required=False,
        help_text="Empty: ask whether any transaction messages are queued.",
    )


@dataclass(frozen=True)
class AdminOperation:
    slug: str
    label: str
    form: type[CommandForm]
    run: Callable
    confirm: Callable[[dict], str | None] = lambda data: None
    versions: tuple[str, ...] = ("1.6", "2.0.1", "2.1")

    def available_for(self, station: ChargePoint) -> bool:
        return station.ocpp_version in self.versions


def _always(question: str) -> Callable[[dict], str]:
    return lambda data: question


ADMIN_OPERATIONS = {
    op.slug: op
    for op in (
        AdminOperation(
            "remote-start", "Start charging", RemoteStartForm, operations.remote_start
        ),
        AdminOperation(
            "remote-stop",
            "Stop a transaction",
            RemoteStopForm,
            operations.remote_stop,
            confirm=_always("Stop this transaction? The driver's charge ends."),
        ),
        AdminOperation(
            "reset",
            "Reset",
            ResetForm,
            operations.reset,
            confirm=_always("Reset the station? It reboots and reconnects."),
        ),
        AdminOperation(
            "unlock",
            "Unlock a connector",
            UnlockForm,
            operations.unlock,
            confirm=_always("Unlock this connector? A running charge may stop."),
        ),
        AdminOperation(
            "availability",
            "Change availability",
            AvailabilityForm,
            operations.availability,
            confirm=lambda data: (
                None
                if data["operative"]
                else "Make it inoperative? No driver can charge there until it is "
                "made operative again."
            ),
        ),
        AdminOperation("trigger", "Trigger a message", TriggerForm, operations.trigger),
        AdminOperation(
            "clear-cache",
            "Clear the authorization cache",
            ClearCacheForm,
            operations.clear_cache,
            confirm=_always("Clear the station's authorization cache?"),
        ),
        AdminOperation(
            "data-transfer", "Data transfer", DataTransferForm, operations.data_transfer
        ),
        AdminOperation(
            "firmware-update",
            "Update firmware",
            FirmwareUpdateForm,
            operations.firmware_update,
        ),
        AdminOperation(
            "diagnostics", "Upload diagnostics", DiagnosticsForm, operations.diagnostics
        ),
        AdminOperation(
            "report",
            "Base report",
            ReportForm,
            operations.report,
            versions=VERSIONS_201,
        ),
        AdminOperation(
            "transaction-status",
            "Transaction status",
            TransactionStatusForm,
            operations.get_transaction_status,
            versions=VERSIONS_201,
        ),
    )
}
