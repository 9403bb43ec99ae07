from django.db import models

from apps.chargepoints.models import ChargePoint
from apps.organizations.scoping import TenantQuerySet


class MessageLog(models.Model):
    """The message journal: every OCPP frame in and out, as it was on the wire."""

    TENANT_FIELD = "charge_point__organization"

    class Direction(models.TextChoices):
        IN = "in", "Station → CSMS"
        OUT = "out", "CSMS → station"

    # No database constraint: a foreign-key check per journal row is the
    # hot path's cost; rows are only ever written for connected stations, and
    # deleting a station deletes its journal through Django.
    charge_point = models.ForeignKey(
        ChargePoint,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        db_constraint=False,
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(null=True)
    unique_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, blank=True)
    frame = models.TextField()
    created_at = models.DateTimeField(db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["charge_point", "-created_at"], name="journal_station_time"
            )
        ]

    def __str__(self) -> str:
        what = self.action or self.message_type
        return f"{self.charge_point_id} {self.direction} {what}"


class CommandLog(models.Model):
    """Every command sent to a station: who asked, what, and how it ended."""

    TENANT_FIELD = "charge_point__organization"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting for the station"
        OK = "ok", "Answered"
        CALL_ERROR = "call_error", "Station answered with CallError"
        TIMEOUT = "timeout", "No answer in time"
        OFFLINE = "offline", "Station offline"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="commands"
    )
    requested_by = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    unique_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    response = models.JSONField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["charge_point", "-created_at"], name="command_station_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} → {self.charge_point_id} ({self.outcome})"


class CommandRequest(models.Model):
    """An id the CSMS hands to a station in a command; the station echoes it later.

    The row's primary key is the id: the ``remoteStartId`` of a 2.0.1
    RequestStartTransaction (the TransactionEvent that starts the session
    carries it, so the transaction links back to the request), or the
    ``requestId`` of GetBaseReport, GetLog and UpdateFirmware. A 1.6 remote
    start has no such id on the wire; its row records the request all the same
    (the transaction is found by token, connector and time).
    """

    TENANT_FIELD = "charge_point__organization"

    class Kind(models.TextChoices):
        REMOTE_START = "remote_start", "Remote start"
        REPORT = "report", "Base report"
        LOG = "log", "Log / diagnostics upload"
        FIRMWARE = "firmware", "Firmware update"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="command_requests"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    command = models.OneToOneField(
        CommandLog,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request",
        help_text="The command that carried the id (also when it failed).",
    )
    requested_by = models.CharField(max_length=150, blank=True)
    id_tag = models.CharField(max_length=36, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["charge_point", "kind", "-created_at"],
                name="command_request_station",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} → {self.charge_point_id}"
