"""OCPP 2.0.1 Part 6, block E (transactions), how they stop: E06, E10.

Each case is played by a test station against the live server, step by step
as Part 6 writes it (its reusable states are ``Tx201``'s methods); its "Tool
validations" are the assertions, plus what the CSMS recorded (status, stop
reason, charging state), read through the operator's API. "Manual Action:
trigger the CSMS to ..." is the operator's API call.
"""

import pytest

from tests.e2e.charging import (
    INVALID,
    VALID,
)
from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.part6_transactions import (
    ACCEPTED,
    charging_session,
    end_with,
    recorded,
    register_valid,
    summary,
    suspended_session,
)
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)


async def test_tc_e_07_stop_transaction_options_power_path_closed_local_stop(live):
    async with commanding(live, "TCE07", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE07")
        # 1-2
        step2 = await end_with(
            tx, "StopAuthorized", id_token=True, stopped_reason="Local"
        )
        record = await recorded(api, "TCE07", tx)
    assert step2 == ACCEPTED
    assert summary(record) == ("completed", "Charging", "Local", 1, 1)
    assert (record["stop_id_tag"], record["stopped_by"]) == (
        VALID["idToken"],
        "station",
    )


async def test_tc_e_08_stop_transaction_options_energy_transfer_stopped_stop_authorized(
    live,
):
    async with commanding(live, "TCE08", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE08")
        # given: StopAuthorized
        stop = await tx.stop_authorized()
        # 1-2: the energy transfer stopped
        step2 = await end_with(
            tx,
            "ChargingStateChanged",
            charging_state="EVConnected",
            stopped_reason="Local",
        )
        record = await recorded(api, "TCE08", tx)
    assert stop.payload == ACCEPTED
    assert step2 == {}
    assert summary(record) == ("completed", "EVConnected", "Local", 1, 1)


async def test_tc_e_14_stop_transaction_options_ev_disconnected_station_side(live):
    async with commanding(live, "TCE14", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE14")
        # given: EVConnectedPostSession
        await tx.stop_authorized()
        await tx.ev_connected_post_session()
        # 1: EVDisconnected
        step = await tx.ev_disconnected()
        record = await recorded(api, "TCE14", tx)
    assert step.payload == {}
    assert summary(record) == ("completed", "Idle", "EVDisconnected", 1, 1)


async def test_tc_e_15_stop_transaction_options_stop_authorized_local(live):
    async with commanding(live, "TCE15", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE15")
        # 1-2 (the OCTT sends no idToken here)
        step2 = await end_with(tx, "StopAuthorized", stopped_reason="Local")
        record = await recorded(api, "TCE15", tx)
    assert step2 == {}
    assert summary(record) == ("completed", "Charging", "Local", 1, 1)


async def test_tc_e_16_stop_transaction_options_deauthorized_invalid_id_token(live):
    async with commanding(live, "TCE16", "2.0.1") as (station, api):
        tx = Tx201(station, "TCE16-TX", id_token=INVALID)
        # 1-2
        step2 = await tx.event("Authorized", id_token=True)
        # 3-4: the station deauthorizes on that answer (E01.FR.11/12)
        step4 = await end_with(tx, "Deauthorized", stopped_reason="DeAuthorized")
        record = await recorded(api, "TCE16", tx)
    assert step2.payload == {"idTokenInfo": {"status": "Invalid"}}
    assert step4 == {}
    assert (record["status"], record["auth_status"], record["stop_reason"]) == (
        "completed",
        "Invalid",
        "DeAuthorized",
    )


async def test_tc_e_17_stop_transaction_options_deauthorized_ev_side_disconnect(
    live,
):
    async with commanding(live, "TCE17", "2.0.1") as (station, api):
        tx = await suspended_session(station, "TCE17")
        # 1-2
        step2 = await end_with(
            tx,
            "EVCommunicationLost",
            charging_state="Idle",
            stopped_reason="EVDisconnected",
        )
        record = await recorded(api, "TCE17", tx)
    assert step2 == {}
    assert summary(record) == ("completed", "Idle", "EVDisconnected", 1, 1)


async def test_tc_e_19_stop_transaction_options_parking_bay_unoccupied(live):
    async with commanding(live, "TCE19", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE19")
        # given: EVDisconnected; with TxStopPoint ParkingBayOccupancy the
        # transaction goes on after the cable is gone (an Updated event)
        await tx.stop_authorized()
        await tx.ev_connected_post_session()
        await tx.status("Available")
        unplugged = await tx.event("EVCommunicationLost", charging_state="Idle")
        # 1-2: the EV left the parking bay
        step2 = await end_with(tx, "EVDeparted", stopped_reason="Local")
        record = await recorded(api, "TCE19", tx)
    assert unplugged.payload == {}
    assert step2 == {}
    assert summary(record) == ("completed", "Idle", "Local", 1, 1)


async def test_tc_e_20_stop_transaction_options_ev_disconnected_ev_side(live):
    async with commanding(live, "TCE20", "2.0.1") as (station, api):
        tx = await suspended_session(station, "TCE20")
        # 1: EVDisconnected
        step = await tx.ev_disconnected()
        record = await recorded(api, "TCE20", tx)
    assert step.payload == {}
    assert summary(record) == ("completed", "Idle", "EVDisconnected", 1, 1)


async def test_tc_e_21_stop_transaction_options_stop_authorized_remote(live):
    async with commanding(live, "TCE21", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE21")
        station.replies["RequestStopTransaction"] = {"status": "Accepted"}
        # Manual action: the operator asks; 1-2
        response = await api.post(
            station_url("TCE21", "remote-stop/"),
            json={"transaction_id": tx.transaction_id},
        )
        # 3-4
        step4 = await end_with(tx, "RemoteStop", stopped_reason="Remote")
        record = await recorded(api, "TCE21", tx)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Accepted"
    assert station.received_calls == [
        ("RequestStopTransaction", {"transactionId": tx.transaction_id})
    ]
    assert step4 == {}
    assert summary(record) == ("completed", "Charging", "Remote", 1, 1)


async def test_tc_e_22_stop_transaction_options_energy_transfer_stopped_suspended_ev(
    live,
):
    async with commanding(live, "TCE22", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE22")
        step2 = await end_with(
            tx,
            "ChargingStateChanged",
            charging_state="SuspendedEV",
            stopped_reason="StoppedByEV",
        )
        record = await recorded(api, "TCE22", tx)
    assert step2 == {}
    assert summary(record) == ("completed", "SuspendedEV", "StoppedByEV", 1, 1)


async def test_tc_e_26_disconnect_cable_on_ev_side_suspends_the_transaction(live):
    async with commanding(live, "TCE26", "2.0.1") as (station, api):
        tx = await suspended_session(station, "TCE26")
        # 1-2
        step2 = await tx.event("EVCommunicationLost", charging_state="Idle")
        # 3-4
        await tx.status("Available")
        # 5-6: plugged in again
        step6 = await tx.event("CablePluggedIn", charging_state="EVConnected")
        # 7-8: charging again
        step8 = await tx.event("ChargingStateChanged", charging_state="Charging")
        record = await recorded(api, "TCE26", tx)
    assert [step2.payload, step6.payload, step8.payload] == [{}, {}, {}]
    assert summary(record) == ("active", "Charging", "", 1, 1)


async def test_tc_e_39_stop_transaction_options_deauthorized_timeout(live):
    async with commanding(live, "TCE39", "2.0.1") as (station, api):
        await register_valid("TCE39")
        tx = Tx201(station, "TCE39-TX", id_token=VALID)
        # given: Authorized
        await tx.authorized()
        # 1-2: nobody plugged in before the EVConnectionTimeOut
        step2 = await end_with(tx, "EVConnectTimeout", stopped_reason="Timeout")
        record = await recorded(api, "TCE39", tx)
    assert step2 == {}
    assert (record["status"], record["stop_reason"], record["energy_wh"]) == (
        "completed",
        "Timeout",
        None,
    )
