"""Id tokens, charging sessions, their 2.0.1 events and their meter values.

Energy is in Wh (Decimal, three places: a kWh reading with three decimals is an
exact Wh value). Every invariant that must never repeat is a unique constraint:
one OCPP transaction id per station, one 2.0.1 event per (transaction, seqNo),
one 1.6 start per (station, connector, token, timestamp, meterStart), one
sampled value per (station, time, EVSE, connector, measurand, phase, location,
context).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.organizations.scoping import TenantQuerySet

ENERGY = {"max_digits": 18, "decimal_places": 3}


class IdTag(models.Model):
    """An identifier a driver presents: RFID card, eMAID, key code..."""

    class Type(models.TextChoices):
        # OCPP 2.0.1 IdTokenEnumType; 1.6 idTags are treated as ISO14443.
        CENTRAL = "Central"
        EMAID = "eMAID"
        ISO14443 = "ISO14443"
        ISO15693 = "ISO15693"
        KEY_CODE = "KeyCode"
        LOCAL = "Local"
        MAC_ADDRESS = "MacAddress"
        NO_AUTHORIZATION = "NoAuthorization"

    class Status(models.TextChoices):
        ACCEPTED = "Accepted"
        BLOCKED = "Blocked"
        EXPIRED = "Expired"
        INVALID = "Invalid"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="id_tags"
    )
    id_tag = models.CharField(
        "id token", max_length=36, help_text="1.6 idTag (≤20) or 2.0.1 idToken (≤36)."
    )
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.ISO14443)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACCEPTED
    )
    expiry_date = models.DateTimeField(null=True, blank=True)
    parent_id_tag = models.CharField(
        "parent / group token",
        max_length=36,
        blank=True,
        help_text="1.6 parentIdTag, 2.0.1 groupIdToken: tokens of one group may "
        "stop each other's transactions.",
    )
    owner_reference = models.CharField(
        max_length=100, blank=True, help_text="The driver or account in your CRM."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "id tag"
        ordering = ["organization", "id_tag"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "id_tag"], name="unique_id_tag_per_organization"
            )
        ]
        indexes = [models.Index(fields=["id_tag"], name="id_tag_lookup")]

    def __str__(self) -> str:
        return self.id_tag


class Transaction(models.Model):
    """A charging session, from its start to its stop, as the station told it."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        COMPLETED = "completed"

    class StoppedBy(models.TextChoices):
        STATION = "station"
        OPERATOR = "operator"

    # Both lead composite indexes below (tx_org_started, tx_station_status):
    # an index of their own would only cost every write.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    charge_point = models.ForeignKey(
        ChargePoint,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    ocpp_version = models.CharField(max_length=8, blank=True)
    # 1.6: an integer we allocate (this row's own id); 2.0.1: the station's string.
    # Null only for the instant between inserting a 1.6 row and numbering it.
    transaction_id = models.CharField(max_length=36, null=True, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )

    id_tag = models.CharField("token", max_length=36, blank=True)
    id_token_type = models.CharField(max_length=20, blank=True)
    token = models.ForeignKey(
        IdTag,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transactions",
        help_text="The registered token that started it, if known.",
    )
    auth_status = models.CharField(max_length=16, blank=True)
    start_authorization = models.JSONField(
        default=dict, blank=True, help_text="What we answered about the start token."
    )
    stop_id_tag = models.CharField("stop token", max_length=36, blank=True)
    stop_authorization = models.JSONField(default=dict, blank=True)
    stop_token_mismatch = models.BooleanField(
        default=False,
        help_text="Stopped with a token that is neither the start token nor of "
        "its group (an anomaly).",
    )

    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)
    stopped_by = models.CharField(max_length=10, choices=StoppedBy.choices, blank=True)
    meter_start = models.DecimalField(null=True, blank=True, **ENERGY)
    meter_stop = models.DecimalField(null=True, blank=True, **ENERGY)
    energy_wh = models.DecimalField(null=True, blank=True, **ENERGY)
    last_meter_wh = models.DecimalField(
        null=True, blank=True, help_text="Latest energy register reading.", **ENERGY
    )
    last_meter_at = models.DateTimeField(null=True, blank=True)
    last_power_w = models.DecimalField(
        max_digits=18, decimal_places=3, null=True, blank=True
    )

    # OCPP 2.0.1 TransactionEvent state.
    charging_state = models.CharField(
        max_length=16, blank=True, help_text="The latest reported chargingState."
    )
    charging_state_at = models.DateTimeField(
        null=True, blank=True, help_text="When the station reported that state."
    )
    time_spent_charging = models.PositiveIntegerField(null=True, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)
    reservation_id = models.IntegerField(null=True, blank=True)
    offline = models.BooleanField(
        default=False, help_text="Some of it happened while the station was offline."
    )
    last_seq_no = models.IntegerField(null=True, blank=True)
    # OCPP 1.6 StartTransaction identity: connector|idTag|timestamp|meterStart.
    start_key = models.CharField(max_length=120, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "transaction_id"],
                name="unique_transaction_id_per_station",
            ),
            models.UniqueConstraint(
                fields=["charge_point", "start_key"],
                condition=~Q(start_key=""),
                name="unique_start_per_station",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-started_at"], name="tx_org_started"),
            models.Index(fields=["charge_point", "status"], name="tx_station_status"),
            models.Index(fields=["id_tag"], name="tx_id_tag"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} #{self.transaction_id or self.pk}"

    @property
    def duration_s(self) -> int | None:
        if self.stopped_at is None:
            return None
        return int((self.stopped_at - self.started_at).total_seconds())


class TransactionEvent(models.Model):
    """One OCPP 2.0.1/2.1 TransactionEventRequest, kept once per seqNo."""

    TENANT_FIELD = "transaction__organization"

    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # leads unique_seq_no_per_transaction
    )
    seq_no = models.IntegerField()
    event_type = models.CharField(max_length=8)
    trigger_reason = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    offline = models.BooleanField(default=False)
    charging_state = models.CharField(max_length=16, blank=True)
    stopped_reason = models.CharField(max_length=32, blank=True)
    id_token = models.CharField(max_length=36, blank=True)
    response = models.JSONField(
        default=dict, blank=True, help_text="What we answered, for repeats."
    )
    received_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["transaction", "seq_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "seq_no"], name="unique_seq_no_per_transaction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} {self.event_type} #{self.seq_no}"


class MeterValue(models.Model):
    """One sampled value, normalized (Wh, W, varh, var, VA) with the raw kept.

    ``evse_id``/``connector_id`` are 0 for the station as a whole; 1.6
    connector N is EVSE N, connector N (as in the station's status model).
    """

    TENANT_FIELD = "charge_point__organization"

    # No database constraints: two foreign-key checks per sampled value were
    # a third of the database's work per meter-value message. Rows are written
    # only for the connected station and its locked session; deleting either
    # deletes the values through Django.
    charge_point = models.ForeignKey(
        ChargePoint,
        on_delete=models.CASCADE,
        related_name="meter_values",
        db_index=False,
        db_constraint=False,
    )
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="meter_values",
        db_index=False,
        db_constraint=False,
    )
    evse_id = models.PositiveIntegerField(default=0)
    connector_id = models.PositiveIntegerField(default=0)
    timestamp = models.DateTimeField()
    measurand = models.CharField(max_length=64)
    phase = models.CharField(max_length=8, blank=True)
    location = models.CharField(max_length=16)
    context = models.CharField(max_length=32)
    unit = models.CharField(max_length=20, blank=True)
    value = models.DecimalField(
        max_digits=24,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="In ``unit``; empty when the raw value is not a number (signed).",
    )
    raw_value = models.TextField()
    raw_unit = models.CharField(max_length=20, blank=True)
    multiplier = models.SmallIntegerField(default=0)
    format = models.CharField(max_length=16, blank=True)
    signed_data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "charge_point",
                    "timestamp",
                    "evse_id",
                    "connector_id",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                ],
                name="unique_sampled_value",
            )
        ]
        # Four rows per message on average: every index is paid on each. A
        # session's readings in time order (the API) use this one's leading
        # column and a sort; billing and charts use all of it.
        indexes = [
            models.Index(
                fields=["transaction", "measurand", "timestamp"], name="mv_tx_measurand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.measurand} {self.value}"
