"""OCPP 2.0.1/2.1 Provisioning (block B): NotifyReport.

BootNotification lives in ``core.py``; this is the device model's report
(B07/B08): each part is applied once and assembled by requestId and seqNo.
"""

from __future__ import annotations

from ocpp.routing import on

from apps.chargepoints.services.device_model import device_model_report_part
from apps.ocpp.db import run_db
from apps.ocpp.timeutil import parse_ocpp_datetime
from apps.ocpp.v201 import mappers_configuration as mappers


class ProvisioningHandlers:
    @on("NotifyReport")
    async def on_notify_report(self, session, payload: dict) -> dict:
        await run_db(
            device_model_report_part,
            charge_point_id=session.charge_point_id,
            request_id=payload["requestId"],
            seq_no=payload["seqNo"],
            tbc=payload.get("tbc", False),
            generated_at=parse_ocpp_datetime(payload["generatedAt"]),
            variables=mappers.report_data(payload.get("reportData", [])),
        )
        return {}
