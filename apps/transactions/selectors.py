"""Reads shared by the API, the admin and billing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from apps.transactions.models import IdTag, MeterValue, Transaction
from apps.transactions.services.meter_values import (
    ENERGY_REGISTER,
    POWER_IMPORT,
    register_readings,
)

CHARGING = "Charging"


def transaction_list(*, actor) -> QuerySet[Transaction]:
    return Transaction.objects.visible_to(actor).select_related(
        "charge_point", "billing"
    )


def id_tag_list(*, actor) -> QuerySet[IdTag]:
    return IdTag.objects.visible_to(actor)


def transaction_meter_values(*, transaction: Transaction) -> QuerySet[MeterValue]:
    return MeterValue.objects.filter(transaction=transaction).order_by(
        "timestamp", "id"
    )


def energy_points(transaction: Transaction) -> tuple[tuple[datetime, Decimal], ...]:
    """The register curve of a completed session, from its start to its stop."""
    tx = transaction
    if tx.meter_start is None or tx.meter_stop is None or tx.stopped_at is None:
        return ()
    inside = (
        register_readings(tx)
        .filter(timestamp__gt=tx.started_at, timestamp__lt=tx.stopped_at)
        .values_list("timestamp", "value")
    )
    return (
        (tx.started_at, tx.meter_start),
        *((moment, value) for moment, value in inside),
        (tx.stopped_at, tx.meter_stop),
    )


def charging_periods(
    transaction: Transaction, points: tuple[tuple[datetime, Decimal], ...]
) -> tuple[tuple[datetime, datetime], ...]:
    """When the session was charging.

    From the reported charging states (2.0.1 TransactionEvent chargingState)
    where there are any; else from the meter: while the register rose (1.6
    reports no charging state with its transactions). With neither, the whole
    session counts as charging.
    """
    tx = transaction
    start, stop = tx.started_at, tx.stopped_at
    states = list(
        tx.events.exclude(charging_state="")
        .order_by("timestamp", "seq_no")
        .values_list("timestamp", "charging_state")
    )
    if states:
        periods, since = [], None
        for moment, state in states:
            moment = min(max(moment, start), stop)
            if state == CHARGING and since is None:
                since = moment
            elif state != CHARGING and since is not None:
                periods.append((since, moment))
                since = None
        if since is not None:
            periods.append((since, stop))
        return tuple((a, b) for a, b in periods if b > a)
    if not points:
        return ((start, stop),) if stop > start else ()
    periods = []
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if v1 > v0 and t1 > t0:
            if periods and periods[-1][1] == t0:
                periods[-1] = (periods[-1][0], t1)
            else:
                periods.append((t0, t1))
    return tuple(periods)


def chart_series(
    *, transaction: Transaction
) -> dict[str, list[tuple[datetime, Decimal]]]:
    """Power (W) and energy (Wh) over time, for the admin chart."""
    rows = (
        MeterValue.objects.filter(
            transaction=transaction,
            measurand__in=(ENERGY_REGISTER, POWER_IMPORT),
            phase="",
            value__isnull=False,
        )
        .exclude(location="EV")
        .order_by("timestamp")
        .values_list("timestamp", "measurand", "unit", "value")
    )
    series: dict[str, list] = {"energy": [], "power": []}
    for moment, measurand, unit, value in rows:
        if measurand == ENERGY_REGISTER and unit == "Wh":
            series["energy"].append((moment, value))
        elif measurand == POWER_IMPORT and unit == "W":
            series["power"].append((moment, value))
    return series
