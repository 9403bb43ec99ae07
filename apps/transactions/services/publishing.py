"""The domain events of a charging session, through the one publisher."""

from __future__ import annotations

from apps.events.publisher import publish_event
from apps.transactions.models import Transaction


def _number(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def transaction_data(transaction: Transaction) -> dict:
    """The session as events carry it (the API's field names)."""
    return {
        "id": transaction.pk,
        "transaction_id": transaction.transaction_id,
        "charge_point": transaction.charge_point_id,
        "evse_id": transaction.evse_id,
        "connector_id": transaction.connector_id,
        "id_tag": transaction.id_tag,
        "status": transaction.status,
        "started_at": transaction.started_at,
        "stopped_at": transaction.stopped_at,
        "meter_start": _number(transaction.meter_start),
        "meter_stop": _number(transaction.meter_stop),
        "energy_wh": _number(transaction.energy_wh),
        "stop_reason": transaction.stop_reason,
        "stopped_by": transaction.stopped_by,
        "stop_token_mismatch": transaction.stop_token_mismatch,
    }


def publish_started(transaction: Transaction) -> None:
    publish_event(
        "transaction.started",
        organization_id=transaction.organization_id,
        data=transaction_data(transaction),
    )


def publish_stopped(transaction: Transaction, *, corrected: bool = False) -> None:
    data = transaction_data(transaction)
    if corrected:
        data["corrected"] = True
    publish_event(
        "transaction.stopped", organization_id=transaction.organization_id, data=data
    )
