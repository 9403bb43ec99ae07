"""OCPP 2.0.1 Part 6, block G: ChangeAvailability of a station, EVSE, connector.

Each case is played by a test station against the live server; the
"Manual Action: request the CSMS to change the availability" step is the
operator's API call, and the station's StatusNotifications must reach the
CSMS's view of its connectors.
"""

import pytest

from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.flows201 import Flow201
from tests.e2e.part6 import register_valid_token, wait_connector_status

pytestmark = pytest.mark.django_db(transaction=True)

# Two EVSEs with one connector each.
CONNECTORS = ((1, 1), (2, 1))


async def _change(api, station_id: str, body: dict) -> dict:
    answer = await api.post(station_url(station_id, "availability/"), json=body)
    assert answer.status_code == 200, answer.json()
    return answer.json()


async def _report(flow: Flow201, status: str, connectors=CONNECTORS) -> None:
    for evse_id, connector_id in connectors:
        await flow.status(status, evse_id=evse_id, connector_id=connector_id)


async def _availability_case(
    live,
    case: str,
    body: dict,
    expected: dict,
    reported: tuple,
    *,
    from_unavailable: bool,
):
    async with commanding(live, case, "2.0.1") as (station, api):
        flow = Flow201(station)
        await _report(flow, "Available")
        if from_unavailable:  # Reusable State Unavailable
            await _change(api, case, {**body, "operative": False})
            await _report(flow, "Unavailable", reported)
            station.received_calls.clear()
        operative = from_unavailable
        # 1-2: the CSMS sends ChangeAvailability; the station accepts
        answer = await _change(api, case, {**body, "operative": operative})
        # 3-4: the station reports the connectors concerned
        status = "Available" if operative else "Unavailable"
        await _report(flow, status, reported)
    assert station.received_calls == [
        (
            "ChangeAvailability",
            {
                "operationalStatus": "Operative" if operative else "Inoperative",
                **expected,
            },
        )
    ]
    assert answer["status"] == "Accepted"
    for evse_id, connector_id in reported:
        await wait_connector_status(case, evse_id, connector_id, status)
    untouched = [c for c in CONNECTORS if c not in reported]
    for evse_id, connector_id in untouched:
        await wait_connector_status(case, evse_id, connector_id, "Available")


async def test_tc_g_03_change_availability_evse_operative_to_inoperative(live):
    await _availability_case(
        live,
        "G03",
        {"evse_id": 1},
        {"evse": {"id": 1}},
        ((1, 1),),
        from_unavailable=False,
    )


async def test_tc_g_04_change_availability_evse_inoperative_to_operative(live):
    await _availability_case(
        live,
        "G04",
        {"evse_id": 1},
        {"evse": {"id": 1}},
        ((1, 1),),
        from_unavailable=True,
    )


async def test_tc_g_05_change_availability_station_operative_to_inoperative(live):
    await _availability_case(live, "G05", {}, {}, CONNECTORS, from_unavailable=False)


async def test_tc_g_06_change_availability_station_inoperative_to_operative(live):
    await _availability_case(live, "G06", {}, {}, CONNECTORS, from_unavailable=True)


async def test_tc_g_07_change_availability_connector_operative_to_inoperative(live):
    await _availability_case(
        live,
        "G07",
        {"evse_id": 2, "connector_id": 1},
        {"evse": {"id": 2, "connectorId": 1}},
        ((2, 1),),
        from_unavailable=False,
    )


async def test_tc_g_08_change_availability_connector_inoperative_to_operative(live):
    await _availability_case(
        live,
        "G08",
        {"evse_id": 2, "connector_id": 1},
        {"evse": {"id": 2, "connectorId": 1}},
        ((2, 1),),
        from_unavailable=True,
    )


async def _with_transaction(live, case: str, body: dict, expected: dict):
    """G11/G14/G17: Scheduled while charging, Unavailable once the EV left."""
    async with commanding(live, case, "2.0.1") as (station, api):
        await register_valid_token(case)
        flow = Flow201(station)
        await _report(flow, "Available")
        await flow.energy_transfer_started()
        # 1-2: the change waits for the transaction
        station.replies["ChangeAvailability"] = {"status": "Scheduled"}
        answer = await _change(api, case, {**body, "operative": False})
        if not body:  # G14 step 3: unoccupied connectors go at once
            await flow.status("Unavailable", evse_id=2, connector_id=1)
        # StopAuthorized, EVConnectedPostSession, EVDisconnected
        stop = await flow.stop_authorized()
        await flow.ev_connected_post_session()
        await flow.ev_disconnected()
        # then the connector reports Unavailable
        await flow.status("Unavailable")
    assert station.received_calls == [
        ("ChangeAvailability", {"operationalStatus": "Inoperative", **expected})
    ]
    assert answer["status"] == "Scheduled"
    assert stop.payload["idTokenInfo"]["status"] == "Accepted"
    await wait_connector_status(case, 1, 1, "Unavailable")


async def test_tc_g_11_change_availability_evse_with_ongoing_transaction(live):
    await _with_transaction(live, "G11", {"evse_id": 1}, {"evse": {"id": 1}})


async def test_tc_g_14_change_availability_station_with_ongoing_transaction(live):
    await _with_transaction(live, "G14", {}, {})


async def test_tc_g_17_change_availability_connector_with_ongoing_transaction(live):
    await _with_transaction(
        live,
        "G17",
        {"evse_id": 1, "connector_id": 1},
        {"evse": {"id": 1, "connectorId": 1}},
    )
