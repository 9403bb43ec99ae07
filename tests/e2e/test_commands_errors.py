"""How a command fails against a real station: timeout, CallError, offline.

Roles, tenancy and input validation are in tests/ocpp/test_commands_api.py.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from apps.ocpp.models import CommandLog
from tests.e2e.command_helpers import (
    api_client,
    commanding,
    connect_station,
    station_url,
    token_for,
)
from tests.e2e.helpers import eventually, make_station
from tests.stations import NO_REPLY, StationError

pytestmark = pytest.mark.django_db(transaction=True)


async def _log(station_id: str) -> CommandLog:
    return await sync_to_async(
        lambda: CommandLog.objects.filter(charge_point_id=station_id).latest("id")
    )()


async def test_station_that_never_answers_is_504_after_the_timeout(live):
    async with commanding(live, "ERR-SILENT", "2.0.1") as (station, api):
        # given
        station.replies["Reset"] = NO_REPLY
        # when
        answer = await api.post(
            station_url("ERR-SILENT", "reset/"), json={"type": "Hard", "timeout": 0.5}
        )
        # then: the station got the CALL, the CSMS stopped waiting
        assert station.received_calls == [("Reset", {"type": "Immediate"})]
        # and the station is usable again afterwards
        station.replies.pop("Reset")
        again = await api.post(station_url("ERR-SILENT", "clear-cache/"), json={})
    error = answer.json()["error"]
    assert answer.status_code == 504
    assert error["code"] == "station_timeout"
    log = await _log("ERR-SILENT")
    assert again.status_code == 200
    timed_out = await sync_to_async(CommandLog.objects.get)(
        pk=error["details"]["command_id"]
    )
    assert (timed_out.action, timed_out.outcome) == ("Reset", "timeout")
    assert log.outcome == "ok"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_call_error_from_the_station_is_502_with_its_code(live, version):
    station_id = f"ERR-CE-{version}"
    async with commanding(live, station_id, version) as (station, api):
        station.replies["UnlockConnector"] = StationError(
            "NotSupported", "No lock motor", {"hint": "fixed cable"}
        )
        answer = await api.post(
            station_url(station_id, "unlock/"),
            json={"evse_id": 1, "connector_id": 1},
        )
    error = answer.json()["error"]
    assert answer.status_code == 502
    assert error["code"] == "station_call_error"
    assert error["details"]["code"] == "NotSupported"
    assert error["details"]["description"] == "No lock motor"
    assert error["details"]["details"] == {"hint": "fixed cable"}
    log = await _log(station_id)
    assert (log.outcome, log.error_code, log.error_description) == (
        "call_error",
        "NotSupported",
        "No lock motor",
    )


async def test_disconnected_station_is_409(live):
    # given: a station that connected once, then went away
    cp = await sync_to_async(make_station)("ERR-GONE")
    token = await sync_to_async(token_for)("operator", cp.organization)
    station = await connect_station(live.ws_url, "ERR-GONE", "1.6")
    await station.close()
    await eventually(lambda: not type(cp).objects.get(pk="ERR-GONE").is_online)
    # when
    async with api_client(live.http_url, token) as api:
        answer = await api.post(
            station_url("ERR-GONE", "reset/"), json={"type": "Soft"}
        )
    # then
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "station_offline"
    assert (await _log("ERR-GONE")).outcome == "offline"


async def test_station_that_drops_while_a_command_waits_is_409(live):
    async with commanding(live, "ERR-DROP", "1.6") as (station, api):
        station.replies["Reset"] = NO_REPLY
        pending = asyncio.create_task(
            api.post(station_url("ERR-DROP", "reset/"), json={"type": "Hard"})
        )
        while not station.received_calls:
            await asyncio.sleep(0.02)
        await station.ws.close()
        answer = await asyncio.wait_for(pending, 10)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "station_offline"
    assert (await _log("ERR-DROP")).outcome == "offline"


async def test_invalid_payload_never_reaches_the_station(live):
    async with commanding(live, "ERR-BAD", "2.0.1") as (station, api):
        answer = await api.post(
            station_url("ERR-BAD", "commands/"),
            json={"action": "ChangeAvailability", "payload": {"operationalStatus": 1}},
        )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_payload"
    assert list(error["details"]) == ["payload.operationalStatus"]
    assert station.received_calls == []


async def test_viewer_gets_403_and_the_station_hears_nothing(live):
    async with commanding(live, "ERR-VIEW", "1.6", role="viewer") as (station, api):
        answer = await api.post(
            station_url("ERR-VIEW", "reset/"), json={"type": "Hard"}
        )
    assert answer.status_code == 403
    assert station.received_calls == []
