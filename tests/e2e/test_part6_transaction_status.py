"""OCPP 2.0.1 Part 6, block E (transactions): transaction status, E14.

The operator asks a station about a transaction (GetTransactionStatus, with or
without its id) after the station reconnected with messages queued; the
queued TransactionEvents that follow, offline and out of order, are recorded
as if they had come in order. Each case is played by a test station against
the live server; "the CSMS sends" is the operator's API call.
"""

import pytest

from apps.chargepoints.models import ChargePoint
from tests.e2e.charging import (
    at,
    mv201,
    session_start,
)
from tests.e2e.command_helpers import commanding, connect_station, station_url
from tests.e2e.helpers import eventually
from tests.e2e.part6_transactions import (
    charging_session,
    end_with,
    recorded,
    stored_seq_nos,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def _reconnected(live, station) -> object:
    """The OCTT closes the connection and reconnects (no boot)."""
    await station.close()
    await eventually(lambda: not ChargePoint.objects.get(pk=station.id).is_online)
    return await connect_station(live.ws_url, station.id, "2.0.1", boot=False)


async def _transaction_status(api, station_id: str, transaction_id: str) -> dict:
    response = await api.get(
        station_url(station_id, f"transactions/{transaction_id}/status/")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _status_without_id(api, station, station_id: str, queued: bool) -> dict:
    station.replies["GetTransactionStatus"] = {"messagesInQueue": queued}
    # the operator's request without a transaction id (the raw command)
    response = await api.post(
        station_url(station_id, "commands/"),
        json={"action": "GetTransactionStatus", "payload": {}},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_tc_e_29_transaction_status_ongoing_with_messages_in_queue(live):
    async with commanding(live, "TCE29", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE29")
        # 1-2
        station = tx.station = await _reconnected(live, station)
        station.replies["GetTransactionStatus"] = {
            "ongoingIndicator": True,
            "messagesInQueue": True,
        }
        # 3-4: the operator asks after the reconnect
        status = await _transaction_status(api, "TCE29", tx.transaction_id)
        # 5-6: the queued event
        step6 = await tx.event(
            "MeterValuePeriodic",
            offline=True,
            meter_value=[mv201(at(session_start(hours_ago=0)), 1.5)],
        )
        record = await recorded(api, "TCE29", tx)
        await station.close()
    assert station.received_calls == [
        ("GetTransactionStatus", {"transactionId": tx.transaction_id})
    ]
    assert status["response"] == {"ongoingIndicator": True, "messagesInQueue": True}
    assert step6.payload == {}
    assert (record["status"], record["offline"], record["last_meter_wh"]) == (
        "active",
        True,
        1500,
    )


async def test_tc_e_30_transaction_status_ongoing_without_messages_in_queue(live):
    async with commanding(live, "TCE30", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE30")
        station.replies["GetTransactionStatus"] = {
            "ongoingIndicator": True,
            "messagesInQueue": False,
        }
        # 1-2
        status = await _transaction_status(api, "TCE30", tx.transaction_id)
    assert station.received_calls == [
        ("GetTransactionStatus", {"transactionId": tx.transaction_id})
    ]
    assert status["response"] == {"ongoingIndicator": True, "messagesInQueue": False}


async def test_tc_e_31_transaction_status_ended_with_messages_in_queue(live):
    async with commanding(live, "TCE31", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE31")
        t0 = session_start(hours_ago=0)
        # 1-2
        station = tx.station = await _reconnected(live, station)
        station.replies["GetTransactionStatus"] = {
            "ongoingIndicator": False,
            "messagesInQueue": True,
        }
        # 3-4
        await tx.status("Available")
        # 5-6: the Ended event, two queued seqNos skipped
        skipped = tx.seq_no
        step6 = await end_with(
            tx,
            "EVCommunicationLost",
            timestamp=at(t0, 3),
            offline=True,
            charging_state="Idle",
            seq_no=skipped + 2,
        )
        # 7-8
        status = await _transaction_status(api, "TCE31", tx.transaction_id)
        # 9-10, 11-12: the two queued events, older than the Ended one
        step10 = await tx.event(
            "StopAuthorized",
            timestamp=at(t0, 1),
            offline=True,
            seq_no=skipped,
        )
        step12 = await tx.event(
            "ChargingStateChanged",
            timestamp=at(t0, 2),
            offline=True,
            charging_state="EVConnected",
            seq_no=skipped + 1,
        )
        record = await recorded(api, "TCE31", tx)
        seq_nos = await stored_seq_nos(api, "TCE31", tx)
        await station.close()
    assert station.received_calls == [
        ("GetTransactionStatus", {"transactionId": tx.transaction_id})
    ]
    assert status["response"] == {"ongoingIndicator": False, "messagesInQueue": True}
    assert [step6, step10.payload, step12.payload] == [{}, {}, {}]
    assert seq_nos == list(range(skipped + 3))
    # the latest state by time is the Ended one's, whatever came last
    assert (record["status"], record["charging_state"], record["offline"]) == (
        "completed",
        "Idle",
        True,
    )


async def test_tc_e_33_transaction_status_without_id_with_messages_in_queue(live):
    async with commanding(live, "TCE33", "2.0.1") as (station, api):
        tx = await charging_session(station, "TCE33")
        # 1-2
        station = tx.station = await _reconnected(live, station)
        # 3-4
        status = await _status_without_id(api, station, "TCE33", queued=True)
        # 5-6
        step6 = await tx.event(
            "MeterValuePeriodic",
            offline=True,
            meter_value=[mv201(at(session_start(hours_ago=0)), 2.5)],
        )
        await station.close()
    assert station.received_calls == [("GetTransactionStatus", {})]
    assert status["response"] == {"messagesInQueue": True}
    assert step6.payload == {}


async def test_tc_e_34_transaction_status_without_id_without_messages_in_queue(
    live,
):
    async with commanding(live, "TCE34", "2.0.1") as (station, api):
        # 1-2
        status = await _status_without_id(api, station, "TCE34", queued=False)
    assert station.received_calls == [("GetTransactionStatus", {})]
    assert status["response"] == {"messagesInQueue": False}
