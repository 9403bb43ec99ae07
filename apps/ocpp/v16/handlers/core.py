"""OCPP 1.6 Core: BootNotification, Heartbeat, StatusNotification."""

from __future__ import annotations

from datetime import UTC, datetime

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
        info = BootInfo(
            vendor=payload["chargePointVendor"],
            model=payload["chargePointModel"],
            # chargeBoxSerialNumber is deprecated in favour of chargePointSerialNumber.
            serial_number=payload.get("chargePointSerialNumber")
            or payload.get("chargeBoxSerialNumber", ""),
            firmware_version=payload.get("firmwareVersion", ""),
            iccid=payload.get("iccid", ""),
            imsi=payload.get("imsi", ""),
            meter_type=payload.get("meterType", ""),
            meter_serial_number=payload.get("meterSerialNumber", ""),
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
            "status": result.status,
            "currentTime": now_ocpp(),
            "interval": result.interval,
        }

    @on("Heartbeat")
    async def on_heartbeat(self, session, payload: dict) -> dict:
        presence.touch(session.charge_point_id)
        return {"currentTime": now_ocpp()}

    @on("StatusNotification")
    async def on_status_notification(self, session, payload: dict) -> dict:
        connector_id = payload["connectorId"]
        stamp = payload.get("timestamp")
        await run_db_staged(
            status.status_report,
            preload=status.preload_key(session.charge_point_id, connector_id),
            charge_point_id=session.charge_point_id,
            organization_id=session.organization_id,
            # 1.6 has no EVSEs: each connector is shown as an EVSE of its own,
            # and connector 0 is the station itself.
            evse_id=connector_id,
            connector_id=connector_id,
            status=payload["status"],
            error_code=""
            if payload["errorCode"] == "NoError"
            else payload["errorCode"],
            info=payload.get("info", ""),
            vendor_id=payload.get("vendorId", ""),
            vendor_error_code=payload.get("vendorErrorCode", ""),
            occurred_at=parse_ocpp_datetime(stamp) if stamp else datetime.now(UTC),
        )
        return {}
