"""The CSMS's own DataTransfer messages, under ``OCPP_DATA_TRANSFER_VENDOR_ID``.

``Echo``: answers Accepted with the request's ``data`` unchanged. Station
integrators use it to check the DataTransfer path end to end, including that
free-form 2.0.1 JSON comes back exactly as sent (no key conversion, no
re-encoding of numbers).
"""

from __future__ import annotations

from django.conf import settings

from apps.ocpp.datatransfer import (
    DataTransferReply,
    IncomingDataTransfer,
    vendor_handler,
)

VENDOR_ID = settings.OCPP_DATA_TRANSFER_VENDOR_ID


@vendor_handler(VENDOR_ID, "Echo")
async def echo(request: IncomingDataTransfer) -> DataTransferReply:
    return DataTransferReply("Accepted", data=request.data)
