"""Every CSMS -> station action of every version, through the real API.

For each version, a real WebSocket station of that version connects to the
live server; for each action of ``TO_STATION[version]`` the test POSTs the
minimal valid payload of ``tests/fixtures/ocpp/commands_<version>.json`` to
``/api/v1/charge-points/{id}/commands/`` and checks the exact frame the
station received and the 200 answer. 2.1 is covered in full: its schemas
differ from 2.0.1's for most actions (new fields, enums, 15 new actions).

Coverage per version is printed (``pytest -s``) and asserted:
``1.6: 26/26``, ``2.0.1: 40/40``, ``2.1: 55/55``.
"""

import pytest
from asgiref.sync import sync_to_async

from apps.ocpp.catalog import TO_STATION
from apps.ocpp.models import CommandLog
from tests.e2e.command_helpers import command_table, commanding, station_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_fixture_tables_cover_every_action_of_every_version():
    for version, actions in TO_STATION.items():
        assert set(command_table(version)) == set(actions), version


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_every_action_reaches_the_station_as_sent(live, version):
    # given
    table = command_table(version)
    station_id = f"RAW-{version}"
    covered, mismatches = [], []
    async with commanding(live, station_id, version) as (station, api):
        for action, entry in table.items():
            station.replies[action] = entry["response"]
            # when
            answer = await api.post(
                station_url(station_id, "commands/"),
                json={"action": action, "payload": entry["payload"]},
            )
            # then
            body = answer.json()
            status = entry["response"].get("status")
            expected = {
                "status": status if isinstance(status, str) else None,
                "response": entry["response"],
                "action": action,
            }
            received = station.received_calls[-1] if station.received_calls else None
            got = {k: body.get(k) for k in expected} if answer.is_success else body
            if (
                answer.status_code == 200
                and got == expected
                and received == (action, entry["payload"])
            ):
                covered.append(action)
            else:
                mismatches.append((action, answer.status_code, got, received))
    logged = await sync_to_async(
        lambda: set(
            CommandLog.objects.filter(
                charge_point_id=station_id, outcome="ok"
            ).values_list("action", flat=True)
        )
    )()
    print(
        f"\nraw command coverage {version}: {len(covered)}/{len(TO_STATION[version])}"
    )
    assert mismatches == []
    assert set(covered) == set(TO_STATION[version])
    assert logged == set(TO_STATION[version])


async def test_the_command_log_records_who_asked_what_and_the_answer(live):
    async with commanding(live, "RAW-LOG", "1.6") as (station, api):
        station.replies["GetLocalListVersion"] = {"listVersion": 7}
        answer = await api.post(
            station_url("RAW-LOG", "commands/"),
            json={"action": "GetLocalListVersion", "payload": {}, "timeout": 5},
        )
        listed = await api.get(station_url("RAW-LOG", "commands/"))
        detail = await api.get(f"/api/v1/commands/{answer.json()['command_id']}/")
    assert answer.status_code == 200
    assert answer.json()["status"] is None
    assert listed.json()["count"] == 1
    row = detail.json()
    assert (row["action"], row["outcome"], row["response"]) == (
        "GetLocalListVersion",
        "ok",
        {"listVersion": 7},
    )
    assert row["requested_by"] == "user:op-RAW-LOG"
    assert row["charge_point"] == "RAW-LOG" and row["duration_ms"] is not None
