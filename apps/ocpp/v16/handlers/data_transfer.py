"""OCPP 1.6 DataTransfer from the station (§4.3), routed to vendor handlers."""

from __future__ import annotations

import json

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
        response = {"status": reply.status}
        if reply.data is not None:
            # 1.6 data is a string; anything else travels JSON-encoded.
            data = reply.data
            response["data"] = data if isinstance(data, str) else json.dumps(data)
        return response
