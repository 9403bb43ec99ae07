"""A station's OCPP 2.0.1 device model: components, variables, attributes.

Stored as last known: from reports (NotifyReport parts of a GetBaseReport or
GetReport, assembled by requestId/seqNo), from GetVariables answers and from
values the station accepted through SetVariables. Writes are bulk per call, so
a report part of hundreds of variables costs a handful of queries.

A variable is named in the API and the admin by a *reference*:
``Component[instance]@evse:connector.Variable[instance]``, every part but the
two names optional (``OCPPCommCtrlr.OfflineThreshold``,
``DeviceDataCtrlr.ItemsPerMessage[GetVariables]``, ``EVSE@1.AvailabilityState``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.chargepoints.models import (
    Component,
    DeviceModelReport,
    DeviceModelReportPart,
    Variable,
    VariableAttribute,
    VariableCharacteristics,
)

_REF = re.compile(
    r"^(?P<component>[^\[\]@.]+)(?:\[(?P<component_instance>[^\]]*)\])?"
    r"(?:@(?P<evse_id>\d+)(?::(?P<connector_id>\d+))?)?"
    r"(?:\.(?P<variable>[^\[\]]+)(?:\[(?P<variable_instance>[^\]]*)\])?)?$"
)
# Answers after which the station holds the value we sent (B05).
VALUE_TAKEN = frozenset({"Accepted", "RebootRequired"})
# GetVariables answers saying the variable does not exist (B06.FR.06/07).
UNKNOWN = frozenset({"UnknownComponent", "UnknownVariable"})
FULL_INVENTORY = "FullInventory"


@dataclass(frozen=True)
class VariableRef:
    """Which variable (or, without ``variable``, which component)."""

    component: str
    variable: str = ""
    component_instance: str = ""
    variable_instance: str = ""
    evse_id: int | None = None
    connector_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> VariableRef:
        match = _REF.match(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r} is no variable reference "
                "(Component[instance]@evse:connector.Variable[instance])."
            )
        parts = match.groupdict()
        return cls(
            component=parts["component"],
            variable=parts["variable"] or "",
            component_instance=parts["component_instance"] or "",
            variable_instance=parts["variable_instance"] or "",
            evse_id=int(parts["evse_id"]) if parts["evse_id"] else None,
            connector_id=int(parts["connector_id"]) if parts["connector_id"] else None,
        )

    def __str__(self) -> str:
        text = self.component
        if self.component_instance:
            text += f"[{self.component_instance}]"
        if self.evse_id is not None:
            text += f"@{self.evse_id}"
            if self.connector_id is not None:
                text += f":{self.connector_id}"
        if self.variable:
            text += f".{self.variable}"
            if self.variable_instance:
                text += f"[{self.variable_instance}]"
        return text

    @property
    def component_key(self) -> tuple:
        return (
            self.component,
            self.component_instance,
            self.evse_id,
            self.connector_id,
        )

    @classmethod
    def of(cls, variable: Variable) -> VariableRef:
        component = variable.component
        return cls(
            component=component.name,
            variable=variable.name,
            component_instance=component.instance,
            variable_instance=variable.instance,
            evse_id=component.evse_id,
            connector_id=component.connector_id,
        )


@dataclass(frozen=True)
class ReportedAttribute:
    """An attribute value; ``None`` fields were not reported and are kept."""

    type: str = VariableAttribute.Type.ACTUAL
    value: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    reboot_required: bool = False


@dataclass(frozen=True)
class ReportedCharacteristics:
    data_type: str
    supports_monitoring: bool
    unit: str = ""
    min_limit: float | None = None
    max_limit: float | None = None
    max_elements: int | None = None
    values_list: str = ""


@dataclass(frozen=True)
class ReportedVariable:
    ref: VariableRef
    attributes: tuple[ReportedAttribute, ...] = ()
    characteristics: ReportedCharacteristics | None = None


@dataclass(frozen=True)
class VariableResult:
    """One GetVariables or SetVariables result."""

    ref: VariableRef
    attribute_type: str
    status: str
    value: str | None = None
    status_info: dict = field(default_factory=dict)


# --- reads ---------------------------------------------------------------------


def device_model_attributes(*, charge_point_id: str) -> QuerySet[VariableAttribute]:
    """Every stored attribute of the station, with its variable and component."""
    return (
        VariableAttribute.objects.filter(
            variable__component__charge_point_id=charge_point_id
        )
        .select_related("variable__component", "variable__characteristics")
        .order_by(
            "variable__component__name",
            "variable__component__instance",
            F("variable__component__evse_id").asc(nulls_first=True),
            F("variable__component__connector_id").asc(nulls_first=True),
            "variable__name",
            "variable__instance",
            "type",
        )
    )


def refs_filter(refs: Iterable[VariableRef], prefix: str = "variable__") -> Q:
    """A filter matching any of ``refs`` (a component-only ref: all its variables)."""
    query = Q(pk__in=[])
    for ref in refs:
        condition = Q(
            **{
                f"{prefix}component__name": ref.component,
                f"{prefix}component__instance": ref.component_instance,
                f"{prefix}component__evse_id": ref.evse_id,
                f"{prefix}component__connector_id": ref.connector_id,
            }
        )
        if ref.variable:
            condition &= Q(
                **{
                    f"{prefix}name": ref.variable,
                    f"{prefix}instance": ref.variable_instance,
                }
            )
        query |= condition
    return query


# --- writes --------------------------------------------------------------------


def _components(charge_point_id: str, keys: set[tuple]) -> dict[tuple, Component]:
    existing = {
        (c.name, c.instance, c.evse_id, c.connector_id): c
        for c in Component.objects.filter(
            charge_point_id=charge_point_id, name__in={key[0] for key in keys}
        )
    }
    missing = [
        Component(
            charge_point_id=charge_point_id,
            name=name,
            instance=instance,
            evse_id=evse_id,
            connector_id=connector_id,
        )
        for (name, instance, evse_id, connector_id) in keys - existing.keys()
    ]
    for component in Component.objects.bulk_create(missing):
        existing[
            (
                component.name,
                component.instance,
                component.evse_id,
                component.connector_id,
            )
        ] = component
    return existing


def _variables(
    components: dict[tuple, Component], refs: set[VariableRef], now: datetime
) -> dict[VariableRef, Variable]:
    by_key = {
        (v.component_id, v.name, v.instance): v
        for v in Variable.objects.filter(
            component__in=[components[r.component_key] for r in refs]
        )
    }
    rows, missing = {}, []
    for ref in refs:
        key = (components[ref.component_key].pk, ref.variable, ref.variable_instance)
        row = by_key.get(key)
        if row is None:
            row = Variable(
                component_id=key[0], name=key[1], instance=key[2], updated_at=now
            )
            missing.append(row)
            by_key[key] = row
        rows[ref] = row
    Variable.objects.bulk_create(missing)
    created = {id(row) for row in missing}
    known = [row.pk for row in rows.values() if id(row) not in created]
    Variable.objects.filter(pk__in=known).update(updated_at=now)
    return rows


def _attributes(
    rows: dict[VariableRef, Variable],
    reported: list[ReportedVariable],
    now: datetime,
) -> None:
    existing = {
        (a.variable_id, a.type): a
        for a in VariableAttribute.objects.filter(
            variable__in=[row.pk for row in rows.values()]
        )
    }
    new, changed = {}, {}
    for item in reported:
        variable = rows[item.ref]
        for attribute in item.attributes:
            key = (variable.pk, attribute.type)
            row = existing.get(key) or new.get(key)
            if row is None:
                row = VariableAttribute(variable=variable, type=attribute.type)
                new[key] = row
            elif key in existing:
                changed[key] = row
            row.value = attribute.value
            row.reboot_required = attribute.reboot_required
            row.updated_at = now
            for name in ("mutability", "persistent", "constant"):
                if getattr(attribute, name) is not None:
                    setattr(row, name, getattr(attribute, name))
    VariableAttribute.objects.bulk_create(new.values())
    VariableAttribute.objects.bulk_update(
        changed.values(),
        [
            "value",
            "mutability",
            "persistent",
            "constant",
            "reboot_required",
            "updated_at",
        ],
    )


_CHARACTERISTICS_FIELDS = (
    "data_type",
    "supports_monitoring",
    "unit",
    "min_limit",
    "max_limit",
    "max_elements",
    "values_list",
)


def _characteristics(
    rows: dict[VariableRef, Variable],
    reported: list[ReportedVariable],
    now: datetime,
) -> None:
    described = {
        rows[item.ref].pk: item.characteristics
        for item in reported
        if item.characteristics is not None
    }
    if not described:
        return
    existing = {
        c.variable_id: c
        for c in VariableCharacteristics.objects.filter(variable__in=described)
    }
    new, changed = [], []
    for variable_id, reported_characteristics in described.items():
        row = existing.get(variable_id)
        if row is None:
            row = VariableCharacteristics(variable_id=variable_id)
            new.append(row)
        else:
            changed.append(row)
        for name in _CHARACTERISTICS_FIELDS:
            setattr(row, name, getattr(reported_characteristics, name))
        row.updated_at = now
    VariableCharacteristics.objects.bulk_create(new)
    VariableCharacteristics.objects.bulk_update(
        changed, [*_CHARACTERISTICS_FIELDS, "updated_at"]
    )


@transaction.atomic
def device_model_store(
    *, charge_point_id: str, variables: Iterable[ReportedVariable]
) -> int:
    """Insert or update what was reported of these variables; returns how many."""
    reported = list({item.ref: item for item in variables}.values())
    if not reported:
        return 0
    now = timezone.now()
    components = _components(
        charge_point_id, {item.ref.component_key for item in reported}
    )
    rows = _variables(components, {item.ref for item in reported}, now)
    _attributes(rows, reported, now)
    _characteristics(rows, reported, now)
    return len(reported)


def _attribute_rows(charge_point_id: str, result: VariableResult) -> QuerySet:
    return VariableAttribute.objects.filter(
        refs_filter([result.ref]),
        variable__component__charge_point_id=charge_point_id,
        type=result.attribute_type,
    )


@transaction.atomic
def device_model_values_read(
    *, charge_point_id: str, results: Iterable[VariableResult]
) -> None:
    """Store a GetVariables answer: accepted values; forget unknown variables."""
    results = list(results)
    device_model_store(
        charge_point_id=charge_point_id,
        variables=[
            ReportedVariable(
                r.ref, (ReportedAttribute(type=r.attribute_type, value=r.value),)
            )
            for r in results
            if r.status == "Accepted"
        ],
    )
    for result in results:
        if result.status in UNKNOWN:
            _attribute_rows(charge_point_id, result).delete()


def device_model_values_set(
    *, charge_point_id: str, results: Iterable[VariableResult]
) -> None:
    """Store the values a SetVariables answer says the station took."""
    device_model_store(
        charge_point_id=charge_point_id,
        variables=[
            ReportedVariable(
                r.ref,
                (
                    ReportedAttribute(
                        type=r.attribute_type,
                        value=r.value,
                        reboot_required=r.status == "RebootRequired",
                    ),
                ),
            )
            for r in results
            if r.status in VALUE_TAKEN
        ],
    )


# --- reports -------------------------------------------------------------------


def device_model_report_start(
    *,
    charge_point_id: str,
    request_id: int,
    report_base: str = "",
    criteria: dict | None = None,
    requested_by: str = "",
) -> DeviceModelReport:
    """Record a report request before it is sent: its parts may come at once."""
    report, _ = DeviceModelReport.objects.update_or_create(
        charge_point_id=charge_point_id,
        request_id=request_id,
        defaults={
            "report_base": report_base,
            "criteria": criteria or {},
            "requested_by": requested_by[:150],
            "status": DeviceModelReport.Status.REQUESTED,
        },
    )
    return report


@transaction.atomic
def device_model_report_answered(
    *, charge_point_id: str, request_id: int, station_status: str | None
) -> DeviceModelReport | None:
    """The station's answer to GetBaseReport/GetReport; None: it gave none."""
    report = (
        DeviceModelReport.objects.select_for_update()
        .filter(charge_point_id=charge_point_id, request_id=request_id)
        .first()
    )
    if report is None:
        return None
    Status = DeviceModelReport.Status
    report.station_status = station_status or ""
    if station_status is None:
        report.status = Status.FAILED
    elif station_status != "Accepted":
        report.status = Status.REFUSED
    elif report.status == Status.REQUESTED:  # parts may have arrived first
        report.status = Status.ACCEPTED
    report.save(update_fields=["station_status", "status"])
    return report


@transaction.atomic
def device_model_report_part(
    *,
    charge_point_id: str,
    request_id: int,
    seq_no: int,
    tbc: bool,
    generated_at: datetime | None,
    variables: list[ReportedVariable],
) -> DeviceModelReport:
    """Apply one NotifyReport part, once per seqNo; complete the report at its end.

    A part for a requestId nobody recorded (a raw command) starts a report.
    """
    report, _ = DeviceModelReport.objects.select_for_update().get_or_create(
        charge_point_id=charge_point_id,
        request_id=request_id,
        defaults={"status": DeviceModelReport.Status.RECEIVING},
    )
    _, created = DeviceModelReportPart.objects.get_or_create(
        report=report, seq_no=seq_no, defaults={"tbc": tbc, "items": len(variables)}
    )
    if not created:  # a repeat (B07.FR.10): applied already
        return report
    device_model_store(charge_point_id=charge_point_id, variables=variables)
    report.parts_received += 1
    report.items_received += len(variables)
    if not tbc:
        report.last_seq_no = seq_no
    if generated_at and (not report.generated_at or generated_at > report.generated_at):
        report.generated_at = generated_at
    if report.last_seq_no is not None and report.parts_received > report.last_seq_no:
        report.status = DeviceModelReport.Status.COMPLETE
        report.completed_at = timezone.now()
        if report.report_base == FULL_INVENTORY:
            _prune(charge_point_id, before=report.requested_at)
    elif report.status != DeviceModelReport.Status.REFUSED:
        report.status = DeviceModelReport.Status.RECEIVING
    report.save()
    return report


def _prune(charge_point_id: str, *, before: datetime) -> None:
    """After a complete full inventory: what it did not list is gone."""
    Variable.objects.filter(
        component__charge_point_id=charge_point_id, updated_at__lt=before
    ).delete()
    Component.objects.filter(
        charge_point_id=charge_point_id, variables__isnull=True
    ).delete()
