"""What a station is configured with: OCPP 1.6 keys, the OCPP 2.0.1 device model.

Both are the last known state as the station reported it (GetConfiguration,
GetVariables, NotifyReport) or accepted it (ChangeConfiguration, SetVariables).
"""

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from apps.chargepoints.models.stations import ChargePoint
from apps.organizations.scoping import TenantQuerySet


class StationConfigurationKey(models.Model):
    """An OCPP 1.6 configuration key as the station last reported or accepted it."""

    TENANT_FIELD = "charge_point__organization"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="configuration_keys"
    )
    key = models.CharField(max_length=50)
    # null: the station reported the key without a value (unknown or unset).
    value = models.CharField(max_length=500, null=True, blank=True)
    readonly = models.BooleanField(default=False)
    reboot_required = models.BooleanField(
        default=False,
        help_text="Changed with the answer RebootRequired: in effect after a reboot.",
    )
    updated_at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "configuration key"
        ordering = ["charge_point", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "key"], name="unique_configuration_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}: {self.key}"


class Component(models.Model):
    """A 2.0.1 device model component of one station (OCPP 2.0.1 Part 1 §4)."""

    TENANT_FIELD = "charge_point__organization"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="components"
    )
    name = models.CharField(max_length=50)
    instance = models.CharField(max_length=50, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["charge_point", "name", "instance", "evse_id", "connector_id"]
        constraints = [
            # An absent EVSE or connector is part of the identity: compare
            # them as -1, since NULLs never collide in a unique index.
            models.UniqueConstraint(
                F("charge_point"),
                F("name"),
                F("instance"),
                Coalesce(F("evse_id"), Value(-1)),
                Coalesce(F("connector_id"), Value(-1)),
                name="unique_component_per_station",
            )
        ]

    def __str__(self) -> str:
        label = f"{self.name}[{self.instance}]" if self.instance else self.name
        if self.evse_id is not None:
            label += f"@{self.evse_id}"
            if self.connector_id is not None:
                label += f":{self.connector_id}"
        return label


class Variable(models.Model):
    TENANT_FIELD = "component__charge_point__organization"

    component = models.ForeignKey(
        Component, on_delete=models.CASCADE, related_name="variables"
    )
    name = models.CharField(max_length=50)
    instance = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["component", "name", "instance"]
        constraints = [
            models.UniqueConstraint(
                fields=["component", "name", "instance"],
                name="unique_variable_per_component",
            )
        ]

    def __str__(self) -> str:
        label = f"{self.name}[{self.instance}]" if self.instance else self.name
        return f"{self.component}.{label}"


class VariableAttribute(models.Model):
    """One attribute (Actual, Target, MinSet, MaxSet) of a variable."""

    TENANT_FIELD = "variable__component__charge_point__organization"

    class Type(models.TextChoices):
        ACTUAL = "Actual"
        TARGET = "Target"
        MIN_SET = "MinSet"
        MAX_SET = "MaxSet"

    class Mutability(models.TextChoices):
        READ_ONLY = "ReadOnly"
        WRITE_ONLY = "WriteOnly"
        READ_WRITE = "ReadWrite"

    variable = models.ForeignKey(
        Variable, on_delete=models.CASCADE, related_name="attributes"
    )
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.ACTUAL)
    value = models.CharField(max_length=2500, null=True, blank=True)
    # Blank: not reported yet (learnt from GetVariables/SetVariables only).
    mutability = models.CharField(max_length=9, choices=Mutability.choices, blank=True)
    persistent = models.BooleanField(null=True, blank=True)
    constant = models.BooleanField(null=True, blank=True)
    reboot_required = models.BooleanField(
        default=False,
        help_text="Set with the answer RebootRequired: in effect after a reboot.",
    )
    updated_at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["variable", "type"]
        constraints = [
            models.UniqueConstraint(
                fields=["variable", "type"], name="unique_attribute_type_per_variable"
            )
        ]

    def __str__(self) -> str:
        return f"{self.variable} ({self.type})"


class VariableCharacteristics(models.Model):
    """Fixed, read-only facts about a variable, as a report gave them."""

    TENANT_FIELD = "variable__component__charge_point__organization"

    class DataType(models.TextChoices):
        STRING = "string"
        DECIMAL = "decimal"
        INTEGER = "integer"
        DATETIME = "dateTime"
        BOOLEAN = "boolean"
        OPTION_LIST = "OptionList"
        SEQUENCE_LIST = "SequenceList"
        MEMBER_LIST = "MemberList"

    variable = models.OneToOneField(
        Variable, on_delete=models.CASCADE, related_name="characteristics"
    )
    unit = models.CharField(max_length=16, blank=True)
    data_type = models.CharField(max_length=12, choices=DataType.choices)
    min_limit = models.FloatField(null=True, blank=True)
    max_limit = models.FloatField(null=True, blank=True)
    max_elements = models.PositiveIntegerField(
        null=True, blank=True, help_text="OCPP 2.1 only."
    )
    values_list = models.CharField(max_length=1000, blank=True)
    supports_monitoring = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "variable characteristics"

    def __str__(self) -> str:
        return f"{self.variable}: {self.data_type}"


class DeviceModelReport(models.Model):
    """A report the station sends in NotifyReport parts, by its requestId.

    Requested with GetBaseReport or GetReport (B07/B08); the parts (``seqNo``
    from 0, ``tbc`` until the last) are applied to the device model as they
    arrive, each once.
    """

    TENANT_FIELD = "charge_point__organization"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted, waiting for the report"
        RECEIVING = "receiving", "Receiving parts"
        COMPLETE = "complete", "Complete"
        REFUSED = "refused", "Refused by the station"
        FAILED = "failed", "Request failed"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="device_model_reports"
    )
    request_id = models.IntegerField()
    report_base = models.CharField(
        max_length=24, blank=True, help_text="Empty for a custom report (GetReport)."
    )
    criteria = models.JSONField(
        default=dict, blank=True, help_text="GetReport: what the report is limited to."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    station_status = models.CharField(
        max_length=20, blank=True, help_text="The station's answer to the request."
    )
    requested_by = models.CharField(max_length=150, blank=True)
    parts_received = models.PositiveIntegerField(default=0)
    items_received = models.PositiveIntegerField(default=0)
    last_seq_no = models.IntegerField(
        null=True, blank=True, help_text="seqNo of the part without tbc."
    )
    generated_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "request_id"], name="unique_report_request_id"
            )
        ]

    def __str__(self) -> str:
        kind = self.report_base or "custom report"
        return f"{self.charge_point_id} {kind} #{self.request_id}"


class DeviceModelReportPart(models.Model):
    """One NotifyReport received; a repeated seqNo is applied only once."""

    TENANT_FIELD = "report__charge_point__organization"

    report = models.ForeignKey(
        DeviceModelReport, on_delete=models.CASCADE, related_name="parts"
    )
    seq_no = models.IntegerField()
    tbc = models.BooleanField(default=False)
    items = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["report", "seq_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "seq_no"], name="unique_report_part"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report} part {self.seq_no}"
