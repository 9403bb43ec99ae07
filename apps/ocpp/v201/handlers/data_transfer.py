"""OCPP 2.0.1/2.1 DataTransfer from the station (P02), routed to vendor handlers.

``data`` is any JSON value and is passed on and answered exactly as it is.
"""

from __future__ import annotations

from ocpp.routing import on

from apps.ocpp.datatransfer import IncomingDataTransfer, route


class DataTransferHandlers:
    @on("DataTransfer")
    async def on_data_transfer(self, session, payload: dict) -> dict:
        reply = await route(
            IncomingDataTransfer(
                charge_point_id=session.charge_point_id,
                organization_id=session.organization_id,
                ocpp_version=session.ocpp_version,
                vendor_id=payload["vendorId"],
                message_id=payload.get("messageId"),
                data=payload.get("data"),
            )
        )
        response: dict = {"status": reply.status}
        if reply.data is not None:
            response["data"] = reply.data
        if reply.reason_code:
            response["statusInfo"] = {"reasonCode": reply.reason_code}
            if reply.additional_info:
                response["statusInfo"]["additionalInfo"] = reply.additional_info
        return response
