"""OCPP 2.0.1 blocks B and G: BootNotification, Heartbeat, StatusNotification."""

from __future__ import annotations

from ocpp.routing import on

from apps.chargepoints.services import status
from apps.chargepoints.services.lifecycle import (
    BootInfo,
    preload_key,
    station_boot,
)
from apps.ocpp import presence
from apps.ocpp.db import run_db, run_db_staged
from apps.ocpp.timeutil import now_ocpp, parse_ocpp_datetime


class CoreHandlers:
    @on("BootNotification")
    async def on_boot_notification(self, session, payload: dict) -> dict:
        station = payload["chargingStation"]
        modem = station.get("modem", {})
        info = BootInfo(
            vendor=station["vendorName"],
            model=station["model"],
            serial_number=station.get("serialNumber", ""),
            firmware_version=station.get("firmwareVersion", ""),
            iccid=modem.get("iccid", ""),
            imsi=modem.get("imsi", ""),
        )
        result = await run_db(
            station_boot,
            preload=preload_key(session.charge_point_id),
            charge_point_id=session.charge_point_id,
            ocpp_version=session.ocpp_version,
            info=info,
        )
        session.registration_status = result.status
        return {
            "currentTime": now_ocpp(),
            "interval": result.interval,
            "status": result.status,
        }

    @on("Heartbeat")
    async def on_heartbeat(self, session, payload: dict) -> dict:
        presence.touch(session.charge_point_id)
        return {"currentTime": now_ocpp()}

    @on("StatusNotification")
    async def on_status_notification(self, session, payload: dict) -> dict:
        await run_db_staged(
            status.status_report,
            preload=status.preload_key(session.charge_point_id, payload["evseId"]),
            charge_point_id=session.charge_point_id,
            organization_id=session.organization_id,
            evse_id=payload["evseId"],
            connector_id=payload["connectorId"],
            status=payload["connectorStatus"],
            occurred_at=parse_ocpp_datetime(payload["timestamp"]),
        )
        return {}
