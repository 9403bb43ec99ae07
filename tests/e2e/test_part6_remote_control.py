"""OCPP 2.0.1 Part 6, block F: remote start, unlock and TriggerMessage.

Each case is played by a test station against the live server; the
"Manual Action: trigger the CSMS to ..." step is the operator's API call.
"""

import pytest
from asgiref.sync import sync_to_async

from apps.ocpp.models import CommandRequest
from apps.ocpp.selectors import remote_start_transaction
from apps.ocpp.timeutil import now_ocpp
from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.flows201 import VALID_TOKEN, Flow201
from tests.e2e.part6 import register_valid_token, wait_connector_status

pytestmark = pytest.mark.django_db(transaction=True)


async def _remote_start(api, station_id: str) -> dict:
    answer = await api.post(
        station_url(station_id, "remote-start/"),
        json={"id_tag": VALID_TOKEN["idToken"], "evse_id": 1},
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def _request_start(remote_start_id: int) -> tuple[str, dict]:
    return (
        "RequestStartTransaction",
        {"idToken": VALID_TOKEN, "remoteStartId": remote_start_id, "evseId": 1},
    )


async def _linked(remote_start_id: int):
    def read():
        request = CommandRequest.objects.select_related("charge_point").get(
            pk=remote_start_id
        )
        return remote_start_transaction(request)

    return await sync_to_async(read)()


async def test_tc_f_01_remote_start_cable_plugged_in_first(live):
    async with commanding(live, "F01", "2.0.1") as (station, api):
        await register_valid_token("F01")
        flow = Flow201(station)
        # given: EVConnectedPreSession
        await flow.ev_connected_pre_session()
        # 1-2: the CSMS asks to start; the station answers with its transaction
        station.replies["RequestStartTransaction"] = {
            "status": "Accepted",
            "transactionId": flow.transaction_id,
        }
        answer = await _remote_start(api, "F01")
        # 3-4: the transaction continues, remotely started
        event = await flow.event(
            "RemoteStart",
            with_token=True,
            remote_start_id=answer["remote_start_id"],
        )
        # 5: EnergyTransferStarted
        await flow.event("ChargingStateChanged", charging_state="Charging")
    assert station.received_calls == [_request_start(answer["remote_start_id"])]
    assert answer["response"]["transactionId"] == flow.transaction_id
    assert event.payload["idTokenInfo"]["status"] == "Accepted"
    tx = await _linked(answer["remote_start_id"])
    assert tx.transaction_id == flow.transaction_id
    assert tx.remote_start_id == answer["remote_start_id"]


async def _remote_start_first(live, case: str, *, authorize: bool):
    async with commanding(live, case, "2.0.1") as (station, api):
        await register_valid_token(case)
        flow = Flow201(station)
        # 1-2: the CSMS asks to start; no transaction yet
        answer = await _remote_start(api, case)
        authorized = None
        if authorize:  # 3-4: AuthorizeRemoteStart is true
            authorized = await station.call("Authorize", {"idToken": VALID_TOKEN})
        # the station starts the transaction for the request
        started = await flow.event(
            "RemoteStart",
            with_token=True,
            remote_start_id=answer["remote_start_id"],
        )
        # EnergyTransferStarted with EVConnected = false
        await flow.ev_connected_pre_session()
        await flow.event("ChargingStateChanged", charging_state="Charging")
    assert station.received_calls == [_request_start(answer["remote_start_id"])]
    assert answer["status"] == "Accepted"
    assert started.payload["idTokenInfo"]["status"] == "Accepted"
    if authorize:
        assert authorized.payload["idTokenInfo"]["status"] == "Accepted"
    tx = await _linked(answer["remote_start_id"])
    assert tx.transaction_id == flow.transaction_id
    return flow, answer


async def test_tc_f_02_remote_start_first_authorize_remote_start_true(live):
    await _remote_start_first(live, "F02", authorize=True)


async def test_tc_f_03_remote_start_first_authorize_remote_start_false(live):
    await _remote_start_first(live, "F03", authorize=False)


async def test_tc_f_04_remote_start_first_cable_plugin_timeout(live):
    async with commanding(live, "F04", "2.0.1") as (station, api):
        await register_valid_token("F04")
        flow = Flow201(station)
        answer = await _remote_start(api, "F04")
        started = await flow.event(
            "RemoteStart", with_token=True, remote_start_id=answer["remote_start_id"]
        )
        # 5-6: nobody plugs in before EVConnectionTimeOut
        timeout = await flow.event("EVConnectTimeout")
    assert station.received_calls == [_request_start(answer["remote_start_id"])]
    assert started.ok and timeout.ok
    tx = await _linked(answer["remote_start_id"])
    assert tx.transaction_id == flow.transaction_id


async def test_tc_f_06_remote_unlock_without_transaction(live):
    async with commanding(live, "F06", "2.0.1") as (station, api):
        station.replies["UnlockConnector"] = {"status": "Unlocked"}
        answer = await api.post(
            station_url("F06", "unlock/"), json={"evse_id": 1, "connector_id": 1}
        )
    assert station.received_calls == [
        ("UnlockConnector", {"evseId": 1, "connectorId": 1})
    ]
    assert answer.json()["status"] == "Unlocked"


async def _trigger(api, station_id: str, body: dict) -> dict:
    answer = await api.post(station_url(station_id, "trigger/"), json=body)
    assert answer.status_code == 200, answer.json()
    return answer.json()


def _meter_values(evse_id: int) -> dict:
    return {
        "evseId": evse_id,
        "meterValue": [
            {
                "timestamp": now_ocpp(),
                "sampledValue": [
                    {
                        "value": 1234.5,
                        "context": "Trigger",
                        "measurand": "Energy.Active.Import.Register",
                    }
                ],
            }
        ],
    }


async def test_tc_f_11_trigger_meter_values_specific_evse(live):
    async with commanding(live, "F11", "2.0.1") as (station, api):
        answer = await _trigger(api, "F11", {"message": "MeterValues", "evse_id": 1})
        meter = await station.call("MeterValues", _meter_values(1))
    assert station.received_calls == [
        ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}})
    ]
    assert answer["status"] == "Accepted"
    assert meter.ok and meter.payload == {}


async def test_tc_f_12_trigger_meter_values_all_evse(live):
    async with commanding(live, "F12", "2.0.1") as (station, api):
        answer = await _trigger(api, "F12", {"message": "MeterValues"})
        # executed for every EVSE (2.0.1 MeterValuesRequest requires evseId)
        replies = [await station.call("MeterValues", _meter_values(e)) for e in (1, 2)]
    assert station.received_calls == [
        ("TriggerMessage", {"requestedMessage": "MeterValues"})
    ]
    assert answer["status"] == "Accepted"
    assert all(reply.ok for reply in replies)


async def _triggered_transaction_event(live, case: str, body: dict, evse: dict):
    async with commanding(live, case, "2.0.1") as (station, api):
        await register_valid_token(case)
        flow = Flow201(station)
        await flow.energy_transfer_started()
        answer = await _trigger(api, case, body)
        event = await flow.event(
            "Trigger", charging_state="Charging", meter_wh=2000.0, evse=True
        )
    assert station.received_calls == [
        (
            "TriggerMessage",
            {"requestedMessage": "TransactionEvent", **evse},
        )
    ]
    assert answer["status"] == "Accepted" and event.ok


async def test_tc_f_13_trigger_transaction_event_specific_evse(live):
    await _triggered_transaction_event(
        live,
        "F13",
        {"message": "TransactionEvent", "evse_id": 1},
        {"evse": {"id": 1}},
    )


async def test_tc_f_14_trigger_transaction_event_all_evse(live):
    await _triggered_transaction_event(live, "F14", {"message": "TransactionEvent"}, {})


async def test_tc_f_20_trigger_heartbeat(live):
    async with commanding(live, "F20", "2.0.1") as (station, api):
        answer = await _trigger(api, "F20", {"message": "Heartbeat"})
        heartbeat = await station.call("Heartbeat", {})
    assert station.received_calls == [
        ("TriggerMessage", {"requestedMessage": "Heartbeat"})
    ]
    assert answer["status"] == "Accepted"
    assert heartbeat.payload["currentTime"].endswith("Z")


async def test_tc_f_23_trigger_status_notification_specific_evse_available(live):
    async with commanding(live, "F23", "2.0.1") as (station, api):
        answer = await _trigger(
            api,
            "F23",
            {"message": "StatusNotification", "evse_id": 1, "connector_id": 1},
        )
        reported = await Flow201(station).status("Available")
    assert station.received_calls == [
        (
            "TriggerMessage",
            {
                "requestedMessage": "StatusNotification",
                "evse": {"id": 1, "connectorId": 1},
            },
        )
    ]
    assert answer["status"] == "Accepted" and reported.payload == {}
    await wait_connector_status("F23", 1, 1, "Available")


async def test_tc_f_24_trigger_status_notification_specific_evse_occupied(live):
    async with commanding(live, "F24", "2.0.1") as (station, api):
        flow = Flow201(station)
        # 1-2: the connector becomes occupied
        await flow.status("Occupied")
        # 3-4: the CSMS asks again
        answer = await _trigger(
            api, "F24", {"message": "StatusNotification", "evse_id": 1}
        )
        # 5-6: and hears the same state
        reported = await flow.status("Occupied")
    assert station.received_calls == [
        (
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 1}},
        )
    ]
    assert answer["status"] == "Accepted" and reported.ok
    await wait_connector_status("F24", 1, 1, "Occupied")


async def test_tc_f_27_trigger_message_not_implemented(live):
    async with commanding(live, "F27", "2.0.1") as (station, api):
        station.replies["TriggerMessage"] = {"status": "NotImplemented"}
        answer = await _trigger(api, "F27", {"message": "SignV2GCertificate"})
    assert station.received_calls == [
        ("TriggerMessage", {"requestedMessage": "SignV2GCertificate"})
    ]
    # F06.FR.08: a plain answer, shown to the operator, not an error
    assert answer["status"] == "NotImplemented"
