"""OCPP 1.6 Core, charging: Authorize, Start/StopTransaction, MeterValues."""

from __future__ import annotations

from decimal import Decimal

from ocpp.routing import on

from apps.ocpp.db import run_db, run_db_staged
from apps.ocpp.timeutil import parse_ocpp_datetime
from apps.ocpp.v16 import mappers_transactions as mappers
from apps.transactions.services import authorization, locking
from apps.transactions.services.authorization import authorize_at_station
from apps.transactions.services.meter_values import meter_values_report
from apps.transactions.services.start import transaction_start
from apps.transactions.services.stop import transaction_stop_reported


class TransactionHandlers:
    @on("Authorize")
    async def on_authorize(self, session, payload: dict) -> dict:
        result = await run_db(
            authorize_at_station,
            organization_id=session.organization_id,
            id_tag=payload["idTag"],
        )
        return {"idTagInfo": mappers.id_tag_info(result)}

    @on("StartTransaction")
    async def on_start_transaction(self, session, payload: dict) -> dict:
        token = authorization.preload_key(session.organization_id, payload["idTag"])
        result = await run_db(
            transaction_start,
            preload=token,
            charge_point_id=session.charge_point_id,
            organization_id=session.organization_id,
            ocpp_version=session.ocpp_version,
            connector_id=payload["connectorId"],
            id_tag=payload["idTag"],
            meter_start=payload["meterStart"],
            timestamp=parse_ocpp_datetime(payload["timestamp"]),
            reservation_id=payload.get("reservationId"),
        )
        return {
            "transactionId": result.transaction_id,
            "idTagInfo": mappers.id_tag_info(result.authorization),
        }

    @on("StopTransaction")
    async def on_stop_transaction(self, session, payload: dict) -> dict:
        transaction_id = str(payload["transactionId"])
        token = payload.get("idTag")
        report = await run_db(
            transaction_stop_reported,
            preload=[
                (locking.KIND_WHOLE, (session.charge_point_id, transaction_id)),
                authorization.preload_key(session.organization_id, token),
            ],
            charge_point_id=session.charge_point_id,
            organization_id=session.organization_id,
            transaction_id=transaction_id,
            stopped_at=parse_ocpp_datetime(payload["timestamp"]),
            meter_stop=Decimal(payload["meterStop"]),
            reason=payload.get("reason", ""),
            id_tag=token or "",
            samples=mappers.sampled_values(payload.get("transactionData", [])),
        )
        if report.authorization is None:
            return {}
        return {"idTagInfo": mappers.id_tag_info(report.authorization)}

    @on("MeterValues")
    async def on_meter_values(self, session, payload: dict) -> dict:
        station = session.charge_point_id
        transaction_id = payload.get("transactionId")
        preload = None
        if transaction_id is not None:
            transaction_id = str(transaction_id)
            preload = (locking.KIND, (station, transaction_id))
        # 1.6 connector N is EVSE N (connector 0: the station's main meter).
        await run_db_staged(
            meter_values_report,
            preload=preload,
            charge_point_id=session.charge_point_id,
            samples=mappers.sampled_values(payload["meterValue"]),
            evse_id=payload["connectorId"],
            connector_id=payload["connectorId"],
            transaction_id=transaction_id,
        )
        return {}
