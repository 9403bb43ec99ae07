"""OCPP 2.0.1 Part 6, block B cases for the commands we send: reset (B11/B12),
TriggerMessage at boot (B02/F06) and SetNetworkProfile (B09).

Each case is played by a test station against the live server; the
"Manual Action: request the CSMS to ..." step is the operator's API call.
"""

import pytest

from apps.transactions.models import Transaction
from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.flows201 import Flow201
from tests.e2e.helpers import BOOT_201
from tests.e2e.part6 import (
    connector_status,
    reboot,
    register_valid_token,
    transaction_of,
    wait_connector_status,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_tc_b_20_reset_without_transaction_on_idle(live):
    async with commanding(live, "B20", "2.0.1") as (station, api):
        # 1-2: the CSMS sends Reset OnIdle; the station accepts
        answer = await api.post(station_url("B20", "reset/"), json={"type": "Soft"})
        assert station.received_calls == [("Reset", {"type": "OnIdle"})]
        # 3-4: it reboots and boots
        station, boot = await reboot(live, station, "RemoteReset")
        # 5-6: and reports its connectors
        await Flow201(station).status("Available")
        await station.close()
    assert (answer.status_code, answer.json()["status"]) == (200, "Accepted")
    assert boot["status"] == "Accepted"
    assert await connector_status("B20", 1, 1) == "Available"


async def test_tc_b_21_reset_with_transaction_on_idle(live):
    async with commanding(live, "B21", "2.0.1") as (station, api):
        await register_valid_token("B21")
        flow = Flow201(station)
        await flow.energy_transfer_started()
        # 1-2: Reset OnIdle is scheduled until the transaction ends
        station.replies["Reset"] = {"status": "Scheduled"}
        answer = await api.post(station_url("B21", "reset/"), json={"type": "Soft"})
        # 3-6: the driver stops, the EV leaves
        stop = await flow.event(
            "StopAuthorized", charging_state="EVConnected", with_token=True
        )
        await flow.event(
            "EVCommunicationLost",
            event_type="Ended",
            charging_state="Idle",
            stopped_reason="EVDisconnected",
        )
        # 7-10: the scheduled reset happens
        station, boot = await reboot(live, station, "ScheduledReset")
        await Flow201(station).status("Available")
        await station.close()
    assert answer.json()["status"] == "Scheduled"
    assert answer.json()["action"] == "Reset"
    assert stop.payload["idTokenInfo"]["status"] == "Accepted"
    assert boot["status"] == "Accepted"
    tx = await transaction_of("B21", flow.transaction_id)
    assert (tx.status, tx.stop_reason) == (
        Transaction.Status.COMPLETED,
        "EVDisconnected",
    )


async def test_tc_b_22_reset_with_transaction_immediate(live):
    async with commanding(live, "B22", "2.0.1") as (station, api):
        await register_valid_token("B22")
        flow = Flow201(station)
        await flow.energy_transfer_started()
        # 1-2: Reset Immediate
        answer = await api.post(station_url("B22", "reset/"), json={"type": "Hard"})
        first_frame = station.received_calls[-1]
        # 3-4: the station ends the transaction itself, without a token
        ended = await flow.event(
            "ResetCommand",
            event_type="Ended",
            charging_state="EVConnected",
            stopped_reason="ImmediateReset",
        )
        # 5-8: it reboots; the cable is still plugged in
        station, boot = await reboot(live, station, "RemoteReset")
        await Flow201(station).status("Occupied")
        await station.close()
    assert first_frame == ("Reset", {"type": "Immediate"})
    assert answer.json()["status"] == "Accepted"
    assert ended.ok and boot["status"] == "Accepted"
    tx = await transaction_of("B22", flow.transaction_id)
    assert (tx.status, tx.stop_reason) == (
        Transaction.Status.COMPLETED,
        "ImmediateReset",
    )
    await wait_connector_status("B22", 1, 1, "Occupied")


async def test_tc_b_25_reset_evse_without_transaction(live):
    async with commanding(live, "B25", "2.0.1") as (station, api):
        answer = await api.post(
            station_url("B25", "reset/"), json={"type": "Soft", "evse_id": 1}
        )
    assert station.received_calls == [("Reset", {"type": "OnIdle", "evseId": 1})]
    assert answer.json()["status"] == "Accepted"


async def test_tc_b_26_reset_evse_with_transaction_on_idle(live):
    async with commanding(live, "B26", "2.0.1") as (station, api):
        await register_valid_token("B26")
        flow = Flow201(station)
        await flow.energy_transfer_started()
        station.replies["Reset"] = {"status": "Scheduled"}
        answer = await api.post(
            station_url("B26", "reset/"), json={"type": "Soft", "evse_id": 1}
        )
        frame = station.received_calls[-1]
        stop = await flow.event(
            "StopAuthorized", charging_state="EVConnected", with_token=True
        )
        ended = await flow.event(
            "EVCommunicationLost",
            event_type="Ended",
            charging_state="Idle",
            stopped_reason="EVDisconnected",
        )
    assert frame == ("Reset", {"type": "OnIdle", "evseId": 1})
    assert answer.json()["status"] == "Scheduled"
    assert stop.payload["idTokenInfo"]["status"] == "Accepted" and ended.ok
    tx = await transaction_of("B26", flow.transaction_id)
    assert tx.status == Transaction.Status.COMPLETED


async def test_tc_b_27_reset_evse_with_transaction_immediate(live):
    async with commanding(live, "B27", "2.0.1") as (station, api):
        await register_valid_token("B27")
        flow = Flow201(station)
        await flow.energy_transfer_started()
        answer = await api.post(
            station_url("B27", "reset/"), json={"type": "Hard", "evse_id": 1}
        )
        frame = station.received_calls[-1]
        ended = await flow.event(
            "ResetCommand",
            event_type="Ended",
            charging_state="EVConnected",
            stopped_reason="ImmediateReset",
        )
    assert frame == ("Reset", {"type": "Immediate", "evseId": 1})
    assert answer.json()["status"] == "Accepted" and ended.ok
    tx = await transaction_of("B27", flow.transaction_id)
    assert (tx.status, tx.stop_reason) == (
        Transaction.Status.COMPLETED,
        "ImmediateReset",
    )


async def test_tc_b_31_pending_station_is_triggered_to_boot_again(live):
    from asgiref.sync import sync_to_async

    from apps.chargepoints.models import ChargePoint

    async with commanding(live, "B31", "2.0.1") as (station, api):
        # given: the CSMS answers the first boot with Pending
        await sync_to_async(ChargePoint.objects.filter(pk="B31").update)(
            registration_status="Pending"
        )
        first = await station.call("BootNotification", BOOT_201)
        # when: the operator accepts the station and triggers a new boot (1-4)
        await api.patch(
            "/api/v1/charge-points/B31/", json={"registration_status": "Accepted"}
        )
        answer = await api.post(
            station_url("B31", "trigger/"), json={"message": "BootNotification"}
        )
        # 5-6: the station boots with reason Triggered
        second = await station.call(
            "BootNotification", {**BOOT_201, "reason": "Triggered"}
        )
        # 7-8: and reports its connectors
        status = await Flow201(station).status("Available")
    assert first.payload["status"] == "Pending"
    assert station.received_calls == [
        ("TriggerMessage", {"requestedMessage": "BootNotification"})
    ]
    assert answer.json()["status"] == "Accepted"
    assert second.payload["status"] == "Accepted" and status.ok


NETWORK_PROFILE = {
    "configurationSlot": 1,
    "connectionData": {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "wss://csms-new.example.com/ocpp",
        "messageTimeout": 30,
        "securityProfile": 1,
        "ocppInterface": "Wired0",
    },
}


async def _set_network_profile(live, case, station_status):
    async with commanding(live, case, "2.0.1") as (station, api):
        station.replies["SetNetworkProfile"] = {"status": station_status}
        answer = await api.post(
            station_url(case, "commands/"),
            json={"action": "SetNetworkProfile", "payload": NETWORK_PROFILE},
        )
    assert station.received_calls == [("SetNetworkProfile", NETWORK_PROFILE)]
    assert answer.status_code == 200
    assert answer.json()["status"] == station_status


async def test_tc_b_42_set_network_profile_accepted(live):
    await _set_network_profile(live, "B42", "Accepted")


async def test_tc_b_44_set_network_profile_failed(live):
    await _set_network_profile(live, "B44", "Failed")
