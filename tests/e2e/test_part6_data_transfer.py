"""OCPP 2.0.1 Part 6, block P: DataTransfer to the CSMS and custom data."""

import pytest

from apps.ocpp.timeutil import now_ocpp
from tests.e2e.command_helpers import commanding

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOM_DATA = {"vendorId": "com.octt", "someVendorField": {"nestedValue": [1, 2.5]}}


async def test_tc_p_02_data_transfer_to_the_csms_unknown_vendor_or_message(live):
    async with commanding(live, "TCP02", "2.0.1") as (station, _):
        unknown_vendor = await station.call(
            "DataTransfer",
            {
                "vendorId": "com.octt.unknown",
                "messageId": "Configured",
                "data": {"a": 1},
            },
        )
        unknown_message = await station.call(
            "DataTransfer", {"vendorId": "csms", "messageId": "NoSuchMessage"}
        )

    assert unknown_vendor.ok and unknown_vendor.payload == {"status": "UnknownVendorId"}
    assert unknown_message.ok
    assert unknown_message.payload == {"status": "UnknownMessageId"}


async def test_tc_p_03_receive_custom_data(live):
    async with commanding(live, "TCP03", "2.0.1") as (station, _):
        status = await station.call(
            "StatusNotification",
            {
                "timestamp": now_ocpp(),
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
                "customData": CUSTOM_DATA,
            },
        )
        event = await station.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": now_ocpp(),
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {
                    "transactionId": "TCP03-TX1",
                    "customData": CUSTOM_DATA,
                },
                "evse": {"id": 1, "connectorId": 1},
                "customData": CUSTOM_DATA,
            },
        )

    assert status.ok and status.payload == {}
    assert event.ok, event
