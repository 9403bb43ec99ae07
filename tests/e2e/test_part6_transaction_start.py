"""OCPP 2.0.1 Part 6, block E (transactions), how they start: E01-E03, E53.

Each case is played by a test station against the live server, step by step
as Part 6 writes it (its reusable states are ``Tx201``'s methods); its "Tool
validations" are the assertions, plus what the CSMS recorded, read through
the operator's API. Where Part 6 has the OCTT notify a connector's status
with "StatusNotificationRequest / NotifyEventRequest", the station uses
StatusNotification (NotifyEvent belongs to monitoring, not built).
"""

import pytest

from tests.e2e.charging import (
    VALID,
    api_meter_values,
    at,
    mv201,
    ocpp,
    session_start,
)
from tests.e2e.command_helpers import commanding
from tests.e2e.part6_transactions import (
    ACCEPTED,
    recorded,
    register_valid,
    stored_seq_nos,
    summary,
)
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)


async def _connector_occupied(tx: Tx201) -> None:
    """The OCTT notifies the CSMS about the status change of the connector."""
    answer = await tx.status("Occupied")
    assert answer.payload == {}


async def test_tc_e_01_start_transaction_options_power_path_closed(live):
    async with commanding(live, "TCE01", "2.0.1") as (station, api):
        await register_valid("TCE01")
        tx = Tx201(station, "TCE01-TX", id_token=VALID)
        # 1-2
        step2 = await ocpp(station, "Authorize", {"idToken": VALID})
        # 3-4
        await _connector_occupied(tx)
        # 5-6
        step6 = await tx.event(
            "ChargingStateChanged", id_token=True, charging_state="SuspendedEVSE"
        )
        # 7-8
        step8 = await tx.event("ChargingStateChanged", charging_state="Charging")
        record = await recorded(api, "TCE01", tx)
    assert step2.payload == ACCEPTED
    assert step6.payload == ACCEPTED
    assert step8.payload == {}
    assert summary(record) == ("active", "Charging", "", 1, 1)
    assert record["id_tag"] == VALID["idToken"]


async def test_tc_e_02_start_transaction_options_energy_transfer(live):
    async with commanding(live, "TCE02", "2.0.1") as (station, api):
        await register_valid("TCE02")
        tx = Tx201(station, "TCE02-TX", id_token=VALID)
        step2 = await ocpp(station, "Authorize", {"idToken": VALID})
        await _connector_occupied(tx)
        step6 = await tx.event(
            "ChargingStateChanged", id_token=True, charging_state="Charging"
        )
        record = await recorded(api, "TCE02", tx)
    assert step2.payload == ACCEPTED
    assert step6.payload == ACCEPTED
    assert summary(record) == ("active", "Charging", "", 1, 1)


async def test_tc_e_03_local_start_transaction_cable_plugin_first(live):
    async with commanding(live, "TCE03", "2.0.1") as (station, api):
        await register_valid("TCE03")
        tx = Tx201(station, "TCE03-TX", id_token=VALID)
        # given: EVConnectedPreSession (the transaction starts on plug-in)
        plugged = await tx.ev_connected_pre_session()
        # 1: Authorized (Updated), 2: EnergyTransferStarted
        authorize, authorized = await tx.authorized()
        charging = await tx.energy_transfer_started()
        record = await recorded(api, "TCE03", tx)
    assert plugged.payload == {}
    assert authorize.payload == ACCEPTED
    assert authorized.payload == ACCEPTED
    assert charging.payload == {}
    assert summary(record) == ("active", "Charging", "", 1, 1)
    assert record["id_tag"] == VALID["idToken"]


async def test_tc_e_04_local_start_transaction_authorization_first(live):
    async with commanding(live, "TCE04", "2.0.1") as (station, api):
        await register_valid("TCE04")
        tx = Tx201(station, "TCE04-TX", id_token=VALID)
        # 1: Authorized (Started, EVSE not known yet)
        authorize, authorized = await tx.authorized(evse=False)
        # 2: EnergyTransferStarted (plug-in, then charging)
        await tx.ev_connected_pre_session()
        charging = await tx.energy_transfer_started()
        record = await recorded(api, "TCE04", tx)
    assert authorize.payload == ACCEPTED
    assert authorized.payload == ACCEPTED
    assert charging.payload == {}
    assert summary(record) == ("active", "Charging", "", 1, 1)


async def test_tc_e_09_start_transaction_options_ev_connected(live):
    async with commanding(live, "TCE09", "2.0.1") as (station, api):
        tx = Tx201(station, "TCE09-TX", id_token=VALID)
        # 1-2
        await _connector_occupied(tx)
        # 3-4
        step4 = await tx.event(
            "CablePluggedIn", charging_state="EVConnected", evse=True
        )
        record = await recorded(api, "TCE09", tx)
    assert step4.payload == {}
    assert summary(record) == ("active", "EVConnected", "", 1, 1)
    assert record["id_tag"] == ""


async def test_tc_e_10_start_transaction_options_authorized_local(live):
    async with commanding(live, "TCE10", "2.0.1") as (station, api):
        await register_valid("TCE10")
        tx = Tx201(station, "TCE10-TX", id_token=VALID)
        # 1-4
        step2, step4 = await tx.authorized()
        record = await recorded(api, "TCE10", tx)
    assert step2.payload == ACCEPTED
    assert step4.payload == ACCEPTED
    assert (record["status"], record["id_tag"], record["auth_status"]) == (
        "active",
        VALID["idToken"],
        "Accepted",
    )


async def test_tc_e_11_start_transaction_options_data_signed(live):
    async with commanding(live, "TCE11", "2.0.1") as (station, api):
        await register_valid("TCE11")
        tx = Tx201(station, "TCE11-TX", id_token=VALID)
        step2 = await ocpp(station, "Authorize", {"idToken": VALID})
        await _connector_occupied(tx)
        # 5-6: started by the signed start value
        now = session_start(hours_ago=0)
        step6 = await tx.event(
            "SignedDataReceived",
            timestamp=at(now),
            id_token=True,
            meter_value=[mv201(at(now), 0.0, context="Transaction.Begin", signed=True)],
        )
        # 7-8
        step8 = await tx.event("ChargingStateChanged", charging_state="Charging")
        record = await recorded(api, "TCE11", tx)
        values = await api_meter_values(api, record["id"])
    assert step2.payload == ACCEPTED
    assert step6.payload == ACCEPTED
    assert step8.payload == {}
    assert (record["status"], record["meter_start"]) == ("active", 0)
    (begin,) = values
    assert (begin["context"], begin["value"], begin["unit"]) == (
        "Transaction.Begin",
        0,
        "Wh",
    )
    assert (
        begin["signed_data"]
        == mv201(at(now), 0.0, signed=True)["sampledValue"][0]["signedMeterValue"]
    )


async def test_tc_e_12_start_transaction_options_parking_bay_occupied(live):
    async with commanding(live, "TCE12", "2.0.1") as (station, api):
        tx = Tx201(station, "TCE12-TX", id_token=VALID)
        # 1-2: the EV is detected in the parking bay
        step2 = await tx.event("EVDetected")
        record = await recorded(api, "TCE12", tx)
    assert step2.payload == {}
    assert (record["status"], record["evse_id"], record["id_tag"]) == (
        "active",
        1,
        "",
    )


async def test_tc_e_38_local_start_transaction_ev_not_ready(live):
    async with commanding(live, "TCE38", "2.0.1") as (station, api):
        await register_valid("TCE38")
        tx = Tx201(station, "TCE38-TX", id_token=VALID)
        # given: Authorized
        await tx.authorized()
        # 1: EVConnectedPreSession; 2-3: the EV is not ready to charge
        await tx.ev_connected_pre_session()
        step3 = await tx.energy_transfer_suspended()
        record = await recorded(api, "TCE38", tx)
    assert step3.payload == {}
    assert summary(record) == ("active", "SuspendedEV", "", 1, 1)


async def test_tc_e_53_seq_no_restarts_at_zero_for_each_transaction(live):
    async with commanding(live, "TCE53", "2.0.1") as (station, api):
        await register_valid("TCE53")
        sessions = [Tx201(station, f"TCE53-TX{n}", id_token=VALID) for n in (1, 2)]
        answers = []
        for tx in sessions:
            # 1 (3): EnergyTransferStarted, seqNo 0 first; 2 (4): EVDisconnected
            _authorize, started = await tx.authorized()
            answers.append(started.payload)
            await tx.ev_connected_pre_session()
            await tx.energy_transfer_started()
            await tx.stop_authorized()
            await tx.ev_connected_post_session()
            await tx.ev_disconnected()
        records = [await recorded(api, "TCE53", tx) for tx in sessions]
        seq_nos = [await stored_seq_nos(api, "TCE53", tx) for tx in sessions]
    assert answers == [ACCEPTED, ACCEPTED]
    assert seq_nos == [list(range(6)), list(range(6))]
    assert [r["status"] for r in records] == ["completed", "completed"]
