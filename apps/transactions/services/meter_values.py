"""Sampled values: normalized to base units, written in bulk, raw value kept.

The OCPP mappers turn 1.6 ``sampledValue`` and 2.0.1 ``SampledValueType`` into
``SampledValueInput``; everything after that is version-neutral.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction as db_transaction
from django.utils import timezone

from apps.transactions.models import MeterValue, Transaction
from apps.transactions.services.locking import locked_transaction
from csms.bulk import flush_staged, insert_rows, stage_rows, stage_update

logger = logging.getLogger(__name__)

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER_IMPORT = "Power.Active.Import"
DEFAULT_MEASURAND = ENERGY_REGISTER
DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_LOCATION = "Outlet"
CONTEXT_BEGIN = "Transaction.Begin"
CONTEXT_END = "Transaction.End"

# Unit prefixes folded into the base unit: (base unit, factor).
_SCALED_UNITS = {
    "kWh": ("Wh", Decimal(1000)),
    "kW": ("W", Decimal(1000)),
    "kvarh": ("varh", Decimal(1000)),
    "kvar": ("var", Decimal(1000)),
    "kVA": ("VA", Decimal(1000)),
    "kVAh": ("VAh", Decimal(1000)),
    # 1.6's schema spells it both ways; one spelling in the database.
    "Celcius": ("Celsius", Decimal(1)),
}
# The unit a value without one is in (1.6: "Default = Wh" is meant for the
# default measurand; other measurands have their natural unit).
_DEFAULT_UNITS = (
    ("Energy.Reactive", "varh"),
    ("Energy.Apparent", "VAh"),
    ("Energy", "Wh"),
    ("Power.Reactive", "var"),
    ("Power.Factor", ""),
    ("Power", "W"),
    ("Current", "A"),
    ("Voltage", "V"),
    ("Frequency", "Hz"),
    ("SoC", "Percent"),
    ("Temperature", "Celsius"),
    ("RPM", "RPM"),
)
_QUANTUM = Decimal("0.000001")
_LIMIT = Decimal(10) ** 18


@dataclass(frozen=True)
class SampledValueInput:
    """One sampled value as the station sent it (defaults not yet applied)."""

    timestamp: datetime
    raw_value: str
    measurand: str = ""
    phase: str = ""
    location: str = ""
    context: str = ""
    unit: str = ""
    multiplier: int = 0
    format: str = ""
    signed_data: dict | None = None


def default_unit(measurand: str) -> str:
    for prefix, unit in _DEFAULT_UNITS:
        if measurand.startswith(prefix):
            return unit
    return ""


def normalize(sample: SampledValueInput) -> tuple[Decimal | None, str]:
    """The value in its base unit (kWh -> Wh, kW -> W, x 10^multiplier)."""
    measurand = sample.measurand or DEFAULT_MEASURAND
    unit = sample.unit or default_unit(measurand)
    if sample.format == "SignedData":
        return None, unit
    try:
        value = Decimal(sample.raw_value)
    except (InvalidOperation, ValueError):
        return None, unit
    if not value.is_finite():
        return None, unit
    if sample.multiplier:
        value = value.scaleb(sample.multiplier)
    base, factor = _SCALED_UNITS.get(unit, (unit, Decimal(1)))
    value = (value * factor).quantize(_QUANTUM)
    if abs(value) >= _LIMIT:
        return None, base
    return value, base


@dataclass(frozen=True, slots=True)
class Reading:
    """One sampled value after normalization: what a MeterValue row holds."""

    timestamp: datetime
    measurand: str
    phase: str
    location: str
    context: str
    unit: str
    value: Decimal | None
    raw_value: str
    raw_unit: str
    multiplier: int
    format: str
    signed_data: dict | None


def reading_of(sample: SampledValueInput) -> Reading:
    value, unit = normalize(sample)
    return Reading(
        timestamp=sample.timestamp,
        measurand=sample.measurand or DEFAULT_MEASURAND,
        phase=sample.phase,
        location=sample.location or DEFAULT_LOCATION,
        context=sample.context or DEFAULT_CONTEXT,
        unit=unit,
        value=value,
        raw_value=sample.raw_value,
        raw_unit=sample.unit,
        multiplier=sample.multiplier,
        format=sample.format,
        signed_data=sample.signed_data,
    )


# MeterValue columns in the order ``_row`` gives them.
ROW_FIELDS = (
    "charge_point",
    "transaction",
    "evse_id",
    "connector_id",
    "timestamp",
    "measurand",
    "phase",
    "location",
    "context",
    "unit",
    "value",
    "raw_value",
    "raw_unit",
    "multiplier",
    "format",
    "signed_data",
    "created_at",
)


def _row(reading: Reading, head: tuple, now: datetime) -> tuple:
    return (
        *head,
        reading.timestamp,
        reading.measurand,
        reading.phase,
        reading.location,
        reading.context,
        reading.unit,
        reading.value,
        reading.raw_value,
        reading.raw_unit,
        reading.multiplier,
        reading.format,
        reading.signed_data,
        now,
    )


def is_energy_register(row: Reading | MeterValue) -> bool:
    """The session's main meter: active import register, all phases, Wh."""
    return (
        row.measurand == ENERGY_REGISTER
        and row.phase == ""
        and row.location != "EV"
        and row.unit == "Wh"
        and row.value is not None
    )


def _is_total_power(row: Reading) -> bool:
    return (
        row.measurand == POWER_IMPORT
        and row.phase == ""
        and row.unit == "W"
        and row.value is not None
    )


def meter_values_record(
    *,
    charge_point_id: str,
    samples: list[SampledValueInput] | tuple[SampledValueInput, ...],
    transaction: Transaction | None = None,
    evse_id: int = 0,
    connector_id: int = 0,
    stage: bool = False,
) -> list[Reading]:
    """Store ``samples`` in one bulk insert; keep the latest reading on the session.

    A value already stored (the same message again) is skipped by the unique
    constraint, so a repeated message changes nothing. Updates ``transaction``'s
    ``last_meter_*``/``last_power_w`` in memory and in the database. With
    ``stage`` both writes go in with the group commit's bulk statements
    (``transaction`` must then be locked for the batch).
    """
    readings = [reading_of(sample) for sample in samples]
    if not readings:
        return readings
    head = (
        charge_point_id,
        None if transaction is None else transaction.pk,
        evse_id,
        connector_id,
    )
    now = timezone.now()
    rows = [_row(reading, head, now) for reading in readings]
    if stage:
        stage_rows(MeterValue, ROW_FIELDS, rows, ignore_conflicts=True)
    else:
        insert_rows(MeterValue, ROW_FIELDS, rows, ignore_conflicts=True)
    if transaction is not None:
        changed = _keep_latest_reading(transaction, readings)
        if changed and stage:
            stage_update(transaction, changed)
        elif changed:
            Transaction.objects.filter(pk=transaction.pk).update(
                **{name: getattr(transaction, name) for name in changed}
            )
    return readings


def _keep_latest_reading(
    transaction: Transaction, readings: list[Reading]
) -> list[str]:
    """Move the session's latest reading forward in memory; the fields changed."""
    changed: dict = {}
    registers = [r for r in readings if is_energy_register(r)]
    if registers:
        latest = max(registers, key=lambda r: r.timestamp)
        if (
            transaction.last_meter_at is None
            or latest.timestamp >= transaction.last_meter_at
        ):
            changed["last_meter_wh"] = latest.value.quantize(Decimal("0.001"))
            changed["last_meter_at"] = latest.timestamp
    powers = [r for r in readings if _is_total_power(r)]
    if powers:
        latest_power = max(powers, key=lambda r: r.timestamp)
        if (
            transaction.last_meter_at is None
            or latest_power.timestamp >= transaction.last_meter_at
        ):
            changed["last_power_w"] = latest_power.value.quantize(Decimal("0.001"))
    for name, value in changed.items():
        setattr(transaction, name, value)
    return list(changed)


def register_readings(transaction: Transaction):
    """The session's main-meter readings, oldest first (Wh)."""
    flush_staged()  # readings staged earlier in this batch count too
    return (
        MeterValue.objects.filter(
            transaction=transaction,
            measurand=ENERGY_REGISTER,
            phase="",
            unit="Wh",
            value__isnull=False,
        )
        .exclude(location="EV")
        .order_by("timestamp", "id")
    )


def first_register_value(transaction: Transaction) -> Decimal | None:
    """The Transaction.Begin reading, else the earliest one."""
    readings = register_readings(transaction)
    begin = (
        readings.filter(context=CONTEXT_BEGIN).values_list("value", flat=True).first()
    )
    if begin is not None:
        return begin
    return readings.values_list("value", flat=True).first()


def last_register_value(transaction: Transaction) -> Decimal | None:
    """The Transaction.End reading, else the latest one."""
    readings = register_readings(transaction)
    end = readings.filter(context=CONTEXT_END).values_list("value", flat=True).last()
    if end is not None:
        return end
    return readings.values_list("value", flat=True).last()


@db_transaction.atomic(savepoint=False)
def meter_values_report(
    *,
    charge_point_id: str,
    samples: list[SampledValueInput] | tuple[SampledValueInput, ...],
    evse_id: int = 0,
    connector_id: int = 0,
    transaction_id: str | None = None,
) -> Transaction | None:
    """A MeterValues message: values of a session (1.6 transactionId) or not.

    Values naming an unknown transaction are kept without a session.
    """
    transaction = None
    if transaction_id is not None:
        transaction = locked_transaction(charge_point_id, transaction_id)
        if transaction is None:
            logger.warning(
                "MeterValues for unknown transaction %s on %s",
                transaction_id,
                charge_point_id,
            )
    meter_values_record(
        charge_point_id=charge_point_id,
        samples=samples,
        transaction=transaction,
        evse_id=evse_id,
        connector_id=connector_id,
        stage=True,
    )
    return transaction
