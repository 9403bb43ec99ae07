"""Bad input from a station gets the CallError OCPP-J names; the line stays up.

OCPP-J 1.6 §4.2.3 and 2.0.1 Part 4 §4.2.3 / §4.3.
"""

import json

import pytest

from tests.e2e.helpers import BOOT_16, BOOT_201, PASSWORD
from tests.e2e.test_ocpp_connect import make_station_async
from tests.stations import Station

pytestmark = pytest.mark.django_db(transaction=True)


_counter = iter(range(10_000))


async def _open(live, version: str) -> Station:
    """A booted station speaking ``version`` ("16" or "201")."""
    station_id = f"ERR{version}-{next(_counter)}"
    await make_station_async(station_id)
    protocol = "ocpp1.6" if version == "16" else "ocpp2.0.1"
    station = await Station.connect(
        live.ws_url, station_id, PASSWORD, subprotocols=(protocol,)
    )
    boot = BOOT_16 if version == "16" else BOOT_201
    assert (await station.call("BootNotification", boot)).ok
    return station


@pytest.fixture
async def station16(live):
    station = await _open(live, "16")
    yield station
    await station.close()


@pytest.fixture
async def station201(live):
    station = await _open(live, "201")
    yield station
    await station.close()


async def _still_up(station):
    heartbeat = await station.call("Heartbeat", {})
    return heartbeat.ok


@pytest.mark.parametrize(
    ("version", "frame", "unique_id", "code"),
    [
        ("16", "not json", "-1", "FormationViolation"),
        ("201", "not json", "-1", "RpcFrameworkError"),
        ("16", '{"a": 1}', "-1", "FormationViolation"),
        ("201", '[2, 17, "Heartbeat", {}]', "-1", "RpcFrameworkError"),
        ("201", '[7, "m1", "Heartbeat", {}]', "m1", "MessageTypeNotSupported"),
        ("201", '[2, "m2", "Heartbeat", []]', "m2", "FormatViolation"),
        ("16", '[2, "m3", "Heartbeat", []]', "m3", "FormationViolation"),
    ],
)
async def test_malformed_frame_gets_call_error_and_connection_stays(
    live, version, frame, unique_id, code
):
    station = await _open(live, version)
    answer = await station.send_raw(frame)
    up = await _still_up(station)
    await station.close()
    assert (answer.kind, answer.unique_id, answer.error_code) == (4, unique_id, code)
    assert up


@pytest.mark.parametrize(
    ("version", "payload", "code"),
    [
        # a required field missing
        (
            "16",
            {"connectorId": 1, "status": "Available"},
            "OccurenceConstraintViolation",
        ),
        # a wrong type
        (
            "16",
            {"connectorId": "one", "errorCode": "NoError", "status": "Available"},
            "TypeConstraintViolation",
        ),
        # a value outside the enumeration
        (
            "16",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleepy"},
            "PropertyConstraintViolation",
        ),
        # a field the schema does not allow
        (
            "16",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Available",
                "colour": "red",
            },
            "FormationViolation",
        ),
        (
            "201",
            {
                "timestamp": "2026-11-25T10:00:00Z",
                "connectorStatus": "Available",
                "evseId": 1,
            },
            "OccurrenceConstraintViolation",
        ),
        (
            "201",
            {
                "timestamp": "2026-11-25T10:00:00Z",
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
                "colour": "red",
            },
            "FormatViolation",
        ),
    ],
)
async def test_schema_violation_gets_the_version_s_error_code(
    live, version, payload, code
):
    station = await _open(live, version)
    answer = await station.call("StatusNotification", payload)
    up = await _still_up(station)
    await station.close()
    assert answer.error_code == code
    assert up


async def test_known_action_not_handled_yet_is_not_supported(station16):
    # OCPP-J: NotSupported = "recognized but not supported by the receiver".
    # Change the action here when firmware management is built.
    answer = await station16.call("FirmwareStatusNotification", {"status": "Idle"})
    assert answer.error_code == "NotSupported"


async def test_unknown_action_is_not_implemented(station201):
    answer = await station201.call("MakeCoffee", {})
    assert answer.error_code == "NotImplemented"
    assert await _still_up(station201)


async def test_oversized_frame_gets_call_error(station16):
    answer = await station16.send_raw(
        json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 300_000}])
    )
    assert answer.kind == 4
    assert answer.error_code == "FormationViolation"
