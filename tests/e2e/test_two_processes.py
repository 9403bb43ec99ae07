"""Two ASGI processes, one network: a command sent to any process reaches the
station on whichever process holds it (PostgreSQL + Redis).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csms \\
    REDIS_URL=redis://127.0.0.1:6379/0 CSMS_SECRET_KEY=<32+ chars> \\
    .venv/bin/pytest tests/e2e/test_two_processes.py
"""

import os
import signal

import pytest
from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint
from apps.ocpp.models import CommandLog
from tests.e2e.command_helpers import (
    api_client,
    connect_station,
    station_url,
    token_for,
)
from tests.e2e.helpers import eventually, make_station
from tests.e2e.server import Server
from tests.stations import NO_REPLY, StationError

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
        reason="two processes share one network through PostgreSQL and Redis: "
        "set DATABASE_URL and REDIS_URL to run",
    ),
]


@pytest.fixture(scope="module")
def node_b(django_db_setup, django_db_blocker):
    """The process the integrator talks to; it never holds the station."""
    server = Server("uvicorn", {"CSMS_NODE_NAME": "node-b"}).start()
    yield server
    server.stop()


@pytest.fixture
def nodes(node_b, transactional_db):
    """Node A, which holds the station (a test may kill it), and node B."""
    node_a = Server("uvicorn", {"CSMS_NODE_NAME": "node-a"}).start()
    yield node_a, node_b
    node_a.stop()


async def _setup(station_id: str):
    cp = await sync_to_async(make_station)(station_id)
    return await sync_to_async(token_for)("operator", cp.organization)


async def test_commands_through_the_second_process_reach_the_station_on_the_first(
    nodes,
):
    # given: a 2.0.1 station held by node A
    node_a, node_b = nodes
    token = await _setup("TWO-1")
    station = await connect_station(node_a.ws_url, "TWO-1", "2.0.1")
    held_by = await sync_to_async(
        lambda: ChargePoint.objects.get(pk="TWO-1").node_name
    )()
    station.replies["GetVariables"] = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "300",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    }
    station.replies["UnlockConnector"] = StationError("NotSupported", "no lock")
    station.replies["ClearCache"] = NO_REPLY
    # when: the integrator talks to node B
    async with api_client(node_b.http_url, token) as api:
        raw = await api.post(
            station_url("TWO-1", "commands/"),
            json={
                "action": "GetVariables",
                "payload": {
                    "getVariableData": [
                        {
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
            },
        )
        reset = await api.post(station_url("TWO-1", "reset/"), json={"type": "Hard"})
        start = await api.post(
            station_url("TWO-1", "remote-start/"),
            json={"id_tag": "TAG-2P", "evse_id": 1},
        )
        refused = await api.post(
            station_url("TWO-1", "unlock/"), json={"evse_id": 1, "connector_id": 1}
        )
        silent = await api.post(
            station_url("TWO-1", "clear-cache/"), json={"timeout": 0.5}
        )
    await station.close()
    # then
    assert held_by == "node-a"
    assert raw.status_code == 200
    assert raw.json()["response"] == station.replies["GetVariables"]
    assert (reset.status_code, reset.json()["status"]) == (200, "Accepted")
    assert start.status_code == 200
    assert [action for action, _ in station.received_calls] == [
        "GetVariables",
        "Reset",
        "RequestStartTransaction",
        "UnlockConnector",
        "ClearCache",
    ]
    assert (
        station.received_calls[2][1]["remoteStartId"]
        == (start.json()["remote_start_id"])
    )
    assert refused.status_code == 502
    assert refused.json()["error"]["details"]["code"] == "NotSupported"
    assert silent.status_code == 504


async def test_station_whose_process_was_killed_times_out(nodes):
    # given: the station's process dies without a goodbye (SIGKILL)
    node_a, node_b = nodes
    token = await _setup("TWO-KILL")
    station = await connect_station(node_a.ws_url, "TWO-KILL", "1.6")
    os.kill(node_a.process.pid, signal.SIGKILL)
    node_a.process.wait(10)
    # when: node B still believes node A holds it
    async with api_client(node_b.http_url, token) as api:
        answer = await api.post(
            station_url("TWO-KILL", "reset/"), json={"type": "Soft", "timeout": 1}
        )
    await station.close()
    # then: nobody answered for the station
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "station_timeout"
    log = await sync_to_async(CommandLog.objects.get)(charge_point_id="TWO-KILL")
    assert log.outcome == "timeout"


async def test_station_whose_process_stopped_is_offline(nodes):
    # given: the station's process shuts down cleanly (SIGTERM)
    node_a, node_b = nodes
    token = await _setup("TWO-STOP")
    station = await connect_station(node_a.ws_url, "TWO-STOP", "1.6")
    node_a.process.terminate()
    node_a.process.wait(15)
    await eventually(lambda: not ChargePoint.objects.get(pk="TWO-STOP").is_online)
    # when
    async with api_client(node_b.http_url, token) as api:
        answer = await api.post(
            station_url("TWO-STOP", "reset/"), json={"type": "Soft"}
        )
    await station.close()
    # then
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "station_offline"


async def test_commands_cross_over_while_both_processes_hold_stations(nodes):
    # given: one station on each node; the integrator talks to node B
    node_a, node_b = nodes
    token = await _setup("TWO-A")
    await sync_to_async(make_station)("TWO-B")
    on_a = await connect_station(node_a.ws_url, "TWO-A", "1.6")
    on_b = await connect_station(node_b.ws_url, "TWO-B", "1.6")
    # when: commands go to the station on the other node and to the local one
    async with api_client(node_b.http_url, token) as api:
        remote = await api.post(station_url("TWO-A", "reset/"), json={"type": "Soft"})
        local = await api.post(station_url("TWO-B", "reset/"), json={"type": "Soft"})
        remote_again = await api.post(station_url("TWO-A", "clear-cache/"), json={})
    await on_a.close()
    await on_b.close()
    # then: both answered at once, none waited for a timeout
    assert (remote.status_code, local.status_code, remote_again.status_code) == (
        200,
        200,
        200,
    )
    assert [action for action, _ in on_a.received_calls] == ["Reset", "ClearCache"]
    assert [action for action, _ in on_b.received_calls] == ["Reset"]
