from django.db import models

from apps.chargepoints.models import ChargePoint
from apps.organizations.scoping import TenantQuerySet


class MessageLog(models.Model):
    """The message journal: every OCPP frame in and out, as it was on the wire."""

    TENANT_FIELD = "charge_point__organization"

    class Direction(models.TextChoices):
        IN = "in", "Station → CSMS"
        OUT = "out", "CSMS → station"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="messages", db_index=False
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
