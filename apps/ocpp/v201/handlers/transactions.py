"""OCPP 2.0.1 blocks C, E, J: Authorize, TransactionEvent, MeterValues (2.1 too)."""

from __future__ import annotations

from ocpp.routing import on

from apps.ocpp.db import run_db, run_db_staged
from apps.ocpp.v201 import mappers_transactions as mappers
from apps.transactions.services import authorization, locking
from apps.transactions.services.authorization import authorize_at_station
from apps.transactions.services.events import (
    likely_routine,
    transaction_event_record,
)
from apps.transactions.services.meter_values import meter_values_report


class TransactionHandlers:
    @on("Authorize")
    async def on_authorize(self, session, payload: dict) -> dict:
        # No ISO 15118 certificate check (C07): the token decides.
        token = payload["idToken"]
        result = await run_db(
            authorize_at_station,
            organization_id=session.organization_id,
            id_tag=token["idToken"],
            token_type=token["type"],
        )
        return {"idTokenInfo": mappers.id_token_info(result)}

    @on("TransactionEvent")
    async def on_transaction_event(self, session, payload: dict) -> dict:
        event = mappers.transaction_event_input(payload)
        station = {
            "charge_point_id": session.charge_point_id,
            "organization_id": session.organization_id,
            "ocpp_version": session.ocpp_version,
        }
        if likely_routine(event):
            result = await run_db_staged(
                transaction_event_record,
                preload=(locking.KIND, (session.charge_point_id, event.transaction_id)),
                event=event,
                **station,
            )
        else:
            session_key = (session.charge_point_id, event.transaction_id)
            result = await run_db(
                transaction_event_record,
                preload=[
                    (locking.KIND_WHOLE, session_key),
                    authorization.preload_key(session.organization_id, event.id_token),
                ],
                event=event,
                **station,
            )
        return mappers.transaction_event_response(result)

    @on("MeterValues")
    async def on_meter_values(self, session, payload: dict) -> dict:
        # J01: values outside transactions (clock-aligned, evseId 0 = main meter).
        await run_db_staged(
            meter_values_report,
            charge_point_id=session.charge_point_id,
            samples=mappers.sampled_values(payload["meterValue"]),
            evse_id=payload["evseId"],
        )
        return {}
