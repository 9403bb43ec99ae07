"""send_command: validation, errors, and a round trip through a consumer."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from apps.ocpp.dispatch import (
    InvalidCommand,
    StationOffline,
    StationRejected,
    StationTimeout,
    send_command_async,
    validate_command,
)
from apps.ocpp.models import CommandLog
from tests.e2e.helpers import make_station
from tests.ocpp.communicators import connected

pytestmark = pytest.mark.django_db(transaction=True)


def test_payload_is_validated_against_the_version_schema():
    with pytest.raises(InvalidCommand) as error:
        validate_command("1.6", "Reset", {"type": "Sideways"})
    assert error.value.status == 400
    assert list(error.value.details) == ["payload.type"]


def test_station_to_csms_actions_cannot_be_sent():
    with pytest.raises(InvalidCommand):
        validate_command("2.0.1", "BootNotification", {})


def test_one_decimal_charging_rates_pass_multiple_of_validation():
    profile = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
            },
        },
    }
    assert validate_command("1.6", "SetChargingProfile", profile) is profile


async def _answer(communicator, payload=None, error=None):
    frame = json.loads(await communicator.receive_from(timeout=5))
    if error:
        await communicator.send_to(json.dumps([4, frame[1], error, "nope", {}]))
    elif payload is not None:
        await communicator.send_to(json.dumps([3, frame[1], payload]))
    return frame


async def test_command_round_trip_returns_the_station_answer_and_is_logged():
    communicator = await connected("CMD1")
    command = asyncio.create_task(
        send_command_async("CMD1", "Reset", {"type": "Soft"}, requested_by="user:test")
    )
    frame = await _answer(communicator, {"status": "Accepted"})
    result = await command
    log = await sync_to_async(CommandLog.objects.get)(pk=result.log_id)
    await communicator.disconnect()
    assert frame[0] == 2 and frame[2:] == ["Reset", {"type": "Soft"}]
    assert (result.status, result.response) == ("Accepted", {"status": "Accepted"})
    assert (log.outcome, log.requested_by, log.unique_id) == (
        "ok",
        "user:test",
        frame[1],
    )


async def test_call_error_from_station_raises_rejected_with_its_code():
    communicator = await connected("CMD2")
    command = asyncio.create_task(send_command_async("CMD2", "ClearCache", {}))
    await _answer(communicator, error="NotSupported")
    with pytest.raises(StationRejected) as error:
        await command
    await communicator.disconnect()
    assert error.value.status == 502
    assert error.value.details["code"] == "NotSupported"


async def test_silent_station_times_out():
    communicator = await connected("CMD3")
    with pytest.raises(StationTimeout) as error:
        await send_command_async("CMD3", "ClearCache", {}, timeout=0.3)
    log = await sync_to_async(CommandLog.objects.get)(charge_point_id="CMD3")
    await communicator.disconnect()
    assert error.value.status == 504
    assert log.outcome == "timeout"


async def test_offline_station_is_a_conflict():
    await sync_to_async(make_station)("CMD4")
    with pytest.raises(StationOffline) as error:
        await send_command_async("CMD4", "ClearCache", {})
    assert error.value.status == 409


async def test_an_invalid_answer_from_the_station_is_a_rejection():
    communicator = await connected("CMD5")
    command = asyncio.create_task(send_command_async("CMD5", "Reset", {"type": "Hard"}))
    await _answer(communicator, {"status": "Maybe"})
    with pytest.raises(StationRejected) as error:
        await command
    log = await sync_to_async(CommandLog.objects.get)(charge_point_id="CMD5")
    await communicator.disconnect()
    assert error.value.details["code"] == "PropertyConstraintViolation"
    assert log.outcome == "call_error"
