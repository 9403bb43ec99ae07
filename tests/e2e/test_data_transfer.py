"""Incoming DataTransfer over real WebSockets: the built-in Echo of our vendorId,
and the unknown vendor/message answers, for 1.6, 2.0.1 and 2.1."""

import json

import pytest

from apps.ocpp.timeutil import now_ocpp
from tests.e2e.command_helpers import commanding

pytestmark = pytest.mark.django_db(transaction=True)


async def test_v16_echo_returns_the_string_as_sent(live):
    data = json.dumps({"meterSerial": "ABC-1", "reading": 1.10})
    async with commanding(live, "DT16", "1.6") as (station, _):
        echo = await station.call(
            "DataTransfer", {"vendorId": "csms", "messageId": "Echo", "data": data}
        )
        unknown = await station.call("DataTransfer", {"vendorId": "com.acme"})
        no_message = await station.call("DataTransfer", {"vendorId": "csms"})

    assert echo.payload == {"status": "Accepted", "data": data}
    assert unknown.payload == {"status": "UnknownVendorId"}
    assert no_message.payload == {"status": "UnknownMessageId"}


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_v2_echo_returns_json_data_unchanged(live, version):
    # camelCase keys and exact numbers: nothing converts or re-encodes them.
    data = {"camelCaseKey": {"innerKey": [1, 2.5, "x", None, True]}, "soC": 0.1}
    station_id = f"DT{version.replace('.', '')}"
    async with commanding(live, station_id, version) as (station, _):
        echo = await station.call(
            "DataTransfer", {"vendorId": "csms", "messageId": "Echo", "data": data}
        )
        scalar = await station.call(
            "DataTransfer", {"vendorId": "csms", "messageId": "Echo", "data": 42}
        )

    assert echo.payload == {"status": "Accepted", "data": data}
    assert scalar.payload == {"status": "Accepted", "data": 42}


async def test_custom_data_in_a_status_notification_is_accepted(live):
    async with commanding(live, "DTCUSTOM", "2.0.1") as (station, _):
        answer = await station.call(
            "StatusNotification",
            {
                "timestamp": now_ocpp(),
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
                "customData": {"vendorId": "com.acme", "anyField": {"x": 1}},
            },
        )

    assert answer.ok and answer.payload == {}
