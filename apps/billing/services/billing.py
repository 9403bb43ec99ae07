"""Billing a session when it stops (and again if late data corrects it)."""

from __future__ import annotations

from apps.billing.models import Tariff, TransactionCost
from apps.billing.selectors import tariff_for_charge_point
from apps.billing.services.calculation import (
    BandSpec,
    CostBreakdown,
    TariffSpec,
    Usage,
    calculate_cost,
)
from apps.events.publisher import publish_event
from apps.transactions.models import Transaction
from apps.transactions.selectors import charging_periods, energy_points
from csms.bulk import flush_staged


def tariff_spec(tariff: Tariff) -> TariffSpec:
    return TariffSpec(
        currency=tariff.currency,
        price_per_kwh=tariff.price_per_kwh,
        price_per_minute=tariff.price_per_minute,
        session_fee=tariff.session_fee,
        idle_fee_per_minute=tariff.idle_fee_per_minute,
        idle_grace_minutes=tariff.idle_grace_minutes,
        timezone=tariff.timezone,
        bands=tuple(
            BandSpec(
                start=band.start_time,
                end=band.end_time,
                price_per_kwh=band.price_per_kwh,
                price_per_minute=band.price_per_minute,
                name=band.name,
            )
            for band in tariff.bands.all()
        ),
    )


def session_usage(transaction: Transaction) -> Usage:
    flush_staged()  # readings and events staged in this batch count
    points = energy_points(transaction)
    return Usage(
        started_at=transaction.started_at,
        stopped_at=transaction.stopped_at,
        energy_points=points,
        charging_periods=charging_periods(transaction, points),
    )


def transaction_bill(
    *, transaction: Transaction, first_time: bool = False
) -> TransactionCost | None:
    """Compute and store the cost of a completed session; publish it.

    Without a tariff (none for the station, no organization default) the
    session is not billed. Billing again (late data) replaces the cost, at
    the tariff of the first bill. ``first_time``: the session has just
    completed, so it has no bill yet (one read fewer).
    """
    existing = (
        None
        if first_time
        else TransactionCost.objects.filter(transaction=transaction)
        .select_related("tariff")
        .first()
    )
    tariff = existing.tariff if existing and existing.tariff else None
    tariff = tariff or tariff_for_charge_point(
        charge_point_id=transaction.charge_point_id,
        organization_id=transaction.organization_id,
    )
    if tariff is None or transaction.stopped_at is None:
        return None
    breakdown = calculate_cost(
        tariff=tariff_spec(tariff), usage=session_usage(transaction)
    )
    cost, _ = TransactionCost.objects.update_or_create(
        transaction=transaction, defaults=_cost_fields(tariff, breakdown)
    )
    publish_event(
        "transaction.billed",
        organization_id=transaction.organization_id,
        data={
            "id": transaction.pk,
            "transaction_id": transaction.transaction_id,
            "charge_point": transaction.charge_point_id,
            "cost": str(cost.total),
            "currency": cost.currency,
            "tariff": tariff.pk,
            "breakdown": cost.breakdown,
        },
    )
    return cost


def _cost_fields(tariff: Tariff, breakdown: CostBreakdown) -> dict:
    return {
        "tariff": tariff,
        "currency": breakdown.currency,
        "session_fee": breakdown.session_fee,
        "energy_cost": breakdown.energy_cost,
        "time_cost": breakdown.time_cost,
        "idle_cost": breakdown.idle_cost,
        "total": breakdown.total,
        "energy_wh": breakdown.energy_wh,
        "charging_seconds": breakdown.charging_seconds,
        "idle_seconds": breakdown.idle_seconds,
        "breakdown": {
            "tariff": {"id": tariff.pk, "name": tariff.name},
            **breakdown.as_dict(),
        },
    }
