"""What the Part 6 block E cases share: the valid token, the reusable
states that start and suspend charging, and the CSMS's record of a
transaction as the operator's API shows it."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from apps.transactions.models import TransactionEvent
from tests.e2e.charging import VALID, api_transaction, register
from tests.e2e.tx201 import Tx201

ACCEPTED = {"idTokenInfo": {"status": "Accepted"}}


async def register_valid(station_id: str) -> None:
    await sync_to_async(register)(station_id, VALID)


def summary(record: dict) -> tuple:
    """(status, charging_state, stop_reason, evse_id, connector_id)."""
    return (
        record["status"],
        record["charging_state"],
        record["stop_reason"],
        record["evse_id"],
        record["connector_id"],
    )


async def recorded(api, station_id: str, tx: Tx201) -> dict:
    """The transaction as the operator's API shows it, in detail."""
    return await api_transaction(api, station_id, tx.transaction_id)


async def stored_seq_nos(api, station_id: str, tx: Tx201) -> list[int]:
    """The seqNos the CSMS kept, each once."""
    record = await recorded(api, station_id, tx)
    return await sync_to_async(
        lambda: list(
            TransactionEvent.objects.filter(transaction_id=record["id"])
            .order_by("seq_no")
            .values_list("seq_no", flat=True)
        )
    )()


async def charging_session(station, station_id: str) -> Tx201:
    """Reusable state EnergyTransferStarted, with a valid token."""
    await register_valid(station_id)
    tx = Tx201(station, f"{station_id}-TX", id_token=VALID)
    await tx.energy_transfer_started()
    return tx


async def end_with(tx: Tx201, trigger_reason: str, **options) -> dict:
    """An Ended TransactionEvent; the CSMS's answer."""
    answer = await tx.event(trigger_reason, event_type="Ended", **options)
    return answer.payload


async def suspended_session(station, station_id: str) -> Tx201:
    """Reusable state EnergyTransferSuspended."""
    tx = await charging_session(station, station_id)
    await tx.energy_transfer_suspended()
    return tx
