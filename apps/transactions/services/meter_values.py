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

from apps.transactions.models import MeterValue, Transaction

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


def build_meter_value(
    sample: SampledValueInput,
    *,
    charge_point_id: str,
    transaction: Transaction | None,
    evse_id: int,
    connector_id: int,
) -> MeterValue:
    value, unit = normalize(sample)
    return MeterValue(
        charge_point_id=charge_point_id,
        transaction=transaction,
        evse_id=evse_id,
        connector_id=connector_id,
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


def is_energy_register(row: MeterValue) -> bool:
    """The session's main meter: active import register, all phases, Wh."""
    return (
        row.measurand == ENERGY_REGISTER
        and row.phase == ""
        and row.location != "EV"
        and row.unit == "Wh"
        and row.value is not None
    )


def _is_total_power(row: MeterValue) -> bool:
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
) -> list[MeterValue]:
    """Store ``samples`` in one bulk insert; keep the latest reading on the session.

    A value already stored (the same message again) is skipped by the unique
    constraint, so a repeated message changes nothing. Updates ``transaction``'s
    ``last_meter_*``/``last_power_w`` in memory and in the database.
    """
    rows = [
        build_meter_value(
            sample,
            charge_point_id=charge_point_id,
            transaction=transaction,
            evse_id=evse_id,
            connector_id=connector_id,
        )
        for sample in samples
    ]
    if not rows:
        return rows
    MeterValue.objects.bulk_create(rows, ignore_conflicts=True)
    if transaction is not None:
        _keep_latest_reading(transaction, rows)
    return rows


def _keep_latest_reading(transaction: Transaction, rows: list[MeterValue]) -> None:
    changed: dict = {}
    registers = [row for row in rows if is_energy_register(row)]
    if registers:
        latest = max(registers, key=lambda row: row.timestamp)
        if (
            transaction.last_meter_at is None
            or latest.timestamp >= transaction.last_meter_at
        ):
            changed["last_meter_wh"] = latest.value.quantize(Decimal("0.001"))
            changed["last_meter_at"] = latest.timestamp
    powers = [row for row in rows if _is_total_power(row)]
    if powers:
        latest_power = max(powers, key=lambda row: row.timestamp)
        if (
            transaction.last_meter_at is None
            or latest_power.timestamp >= transaction.last_meter_at
        ):
            changed["last_power_w"] = latest_power.value.quantize(Decimal("0.001"))
    if changed:
        for name, value in changed.items():
            setattr(transaction, name, value)
        Transaction.objects.filter(pk=transaction.pk).update(**changed)


def register_readings(transaction: Transaction):
    """The session's main-meter readings, oldest first (Wh)."""
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


@db_transaction.atomic
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
        transaction = (
            Transaction.objects.filter(
                charge_point_id=charge_point_id, transaction_id=transaction_id
            )
            .only("pk", "last_meter_at", "last_meter_wh", "last_power_w")
            .first()
        )
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
    )
    return transaction
