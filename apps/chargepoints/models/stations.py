"""Stations, their EVSEs and connectors, status history and groups."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.organizations.models import Organization
from apps.organizations.scoping import TenantQuerySet

# OCPP-J: the identity is the last URL path segment; with Basic auth it must not
# contain ':' (it is the username). 2.0.1 allows up to 48 characters.
station_id_validator = RegexValidator(
    r"^[A-Za-z0-9._~\-*]{1,48}$",
    "Use 1-48 of: letters, digits and . _ ~ - *",
)


class OcppVersion(models.TextChoices):
    V16 = "1.6", "OCPP 1.6J"
    V201 = "2.0.1", "OCPP 2.0.1"
    V21 = "2.1", "OCPP 2.1"


class ChargePoint(models.Model):
    class RegistrationStatus(models.TextChoices):
        ACCEPTED = "Accepted"
        PENDING = "Pending"
        REJECTED = "Rejected"

    class SecurityProfile(models.IntegerChoices):
        NONE = 0, "0: no authentication (testing only)"
        BASIC = 1, "1: HTTP Basic"
        BASIC_TLS = 2, "2: TLS with HTTP Basic"
        CLIENT_CERT = 3, "3: TLS with client certificate"

    id = models.CharField(
        "OCPP identity",
        max_length=48,
        primary_key=True,
        validators=[station_id_validator],
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="charge_points",
        db_index=False,  # leads the (organization, is_online) index
    )
    description = models.CharField(max_length=200, blank=True)
    ocpp_version = models.CharField(
        max_length=8, choices=OcppVersion.choices, null=True, blank=True
    )
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    iccid = models.CharField(max_length=20, blank=True)
    imsi = models.CharField(max_length=20, blank=True)
    meter_type = models.CharField(max_length=25, blank=True)
    meter_serial_number = models.CharField(max_length=25, blank=True)
    registration_status = models.CharField(
        max_length=8,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.ACCEPTED,
    )
    security_profile = models.PositiveSmallIntegerField(
        choices=SecurityProfile.choices, default=SecurityProfile.BASIC
    )
    password_hash = models.CharField(max_length=128, blank=True, editable=False)
    heartbeat_interval = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty uses the organization's."
    )
    # Station-wide state: OCPP 1.6 StatusNotification for connector 0.
    status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    is_online = models.BooleanField(default=False, db_index=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    node_name = models.CharField(max_length=100, blank=True)
    channel_name = models.CharField(max_length=200, blank=True)
    remote_address = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "is_online"])]

    def __str__(self) -> str:
        return self.id

    def effective_heartbeat_interval(self) -> int:
        return (
            self.heartbeat_interval
            or self.organization.heartbeat_interval
            or settings.OCPP_HEARTBEAT_INTERVAL
        )


class Evse(models.Model):
    """An EVSE (2.0.1); in 1.6 each connector is shown as an EVSE of its own."""

    TENANT_FIELD = "charge_point__organization"

    charge_point = models.ForeignKey(
        ChargePoint,
        on_delete=models.CASCADE,
        related_name="evses",
        db_index=False,  # leads unique_evse_per_station
    )
    evse_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "EVSE"
        ordering = ["charge_point", "evse_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "evse_id"], name="unique_evse_per_station"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id}"


class Connector(models.Model):
    TENANT_FIELD = "evse__charge_point__organization"

    evse = models.ForeignKey(
        Evse,
        on_delete=models.CASCADE,
        related_name="connectors",
        db_index=False,  # leads unique_connector_per_evse
    )
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["evse", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evse", "connector_id"], name="unique_connector_per_evse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.evse}/{self.connector_id}"


class StatusChange(models.Model):
    """Every status a station reported for itself, an EVSE or a connector.

    Append-only; the basis for uptime analytics. ``evse_id`` and
    ``connector_id`` are 0 for the station as a whole (OCPP 1.6 connector 0).
    """

    TENANT_FIELD = "charge_point__organization"

    charge_point = models.ForeignKey(
        ChargePoint,
        on_delete=models.CASCADE,
        related_name="status_changes",
        db_index=False,  # leads status_change_lookup
    )
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    previous_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    occurred_at = models.DateTimeField(help_text="As reported by the station")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["charge_point", "evse_id", "connector_id", "-occurred_at"],
                name="status_change_lookup",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.charge_point_id}/{self.evse_id}/{self.connector_id}: {self.status}"
        )


class StationGroup(models.Model):
    """Stations an operator handles together (a site, a customer, a fleet).

    Used to give a group its own local authorization list.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="station_groups"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    charge_points = models.ManyToManyField(
        ChargePoint, related_name="groups", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_station_group_name"
            )
        ]

    def __str__(self) -> str:
        return self.name
