"""OCPP 2.0.1 replays end to end: nothing is lost or counted twice.

TransactionEvents may arrive more than once (resent after a reconnect) and
out of order (offline queues, E04, E12): each (transactionId, seqNo) counts
once and gets the first answer again, and whatever the order, the session
ends up as if they had come in order, with their own timestamps.
"""

import pytest
from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint
from apps.transactions.models import TransactionEvent
from tests.e2e.charging import (
    EventFeed,
    api_time,
    at,
    frame_id,
    meter_values_of,
    mv201,
    ocpp,
    only_transaction,
    resend,
    session_start,
    tag,
    tenant,
)
from tests.e2e.command_helpers import connect_station
from tests.e2e.helpers import eventually
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"idToken": "CARD-201", "type": "ISO14443"}


async def test_a_repeated_transaction_event_gets_the_same_answer_and_counts_once(
    live,
):
    # given: a session whose events the station sends twice (no answer seen)
    mine = await tenant("watt", "CP201-REP")
    await tag(mine, "CARD-201")
    station = await connect_station(live.ws_url, "CP201-REP", "2.0.1")
    feed = await EventFeed.open(live.ws_url, mine.jwt)
    tx = Tx201(station, "REP-1", id_token=CARD)
    t0 = session_start()
    frames = [
        tx.payload(
            "Authorized",
            timestamp=at(t0),
            id_token=True,
            charging_state="Charging",
            meter_value=[mv201(at(t0), 1.0, context="Transaction.Begin")],
        ),
        tx.payload(
            "MeterValuePeriodic",
            timestamp=at(t0, 10),
            meter_value=[mv201(at(t0, 10), 2.5, kw=9.0)],
        ),
        tx.payload(
            "StopAuthorized",
            event_type="Ended",
            timestamp=at(t0, 20),
            id_token=True,
            charging_state="EVConnected",
            stopped_reason="Local",
            meter_value=[mv201(at(t0, 20), 4.0, context="Transaction.End")],
        ),
    ]

    # when: each frame twice under new unique ids, then all again under the
    # same unique ids after a reconnect
    first = [(await ocpp(station, "TransactionEvent", f)).payload for f in frames]
    second = [(await ocpp(station, "TransactionEvent", f)).payload for f in frames]
    ids = [frame_id("te") for _ in frames]
    third = [
        (await resend(station, uid, "TransactionEvent", f)).payload
        for uid, f in zip(ids, frames, strict=True)
    ]
    await station.close()
    await eventually(lambda: not ChargePoint.objects.get(pk="CP201-REP").is_online)
    station = await connect_station(live.ws_url, "CP201-REP", "2.0.1", boot=False)
    fourth = [
        (await resend(station, uid, "TransactionEvent", f)).payload
        for uid, f in zip(ids, frames, strict=True)
    ]
    # a later event of the same publisher: a repeat's events would come first
    await Tx201(station, "unused", id_token=CARD).status("Occupied")
    await feed.wait_for("charge_point.status_changed", 1)
    await station.close()
    await feed.close()

    # then: the same answers every time
    token_info = {"idTokenInfo": {"status": "Accepted"}}
    # 0.50 + 3 kWh x 0.30 + 20 min x 0.02
    assert first == [token_info, {}, {**token_info, "totalCost": 1.8}]
    assert second == first
    assert third == first
    assert fourth == first
    # then: counted once
    detail = await only_transaction(live, mine, "CP201-REP")
    assert (detail["energy_wh"], detail["cost"], detail["status"]) == (
        3000,
        "1.80",
        "completed",
    )
    values = await meter_values_of(live, mine, detail["id"])
    assert [(v["measurand"], v["value"]) for v in values] == [
        ("Energy.Active.Import.Register", 1000),
        ("Energy.Active.Import.Register", 2500),
        ("Power.Active.Import", 9000),
        ("Energy.Active.Import.Register", 4000),
    ]
    stored = await sync_to_async(
        lambda: list(
            TransactionEvent.objects.filter(transaction_id=detail["id"]).values_list(
                "seq_no", flat=True
            )
        )
    )()
    assert stored == [0, 1, 2]
    assert sorted(e["type"] for e in feed.of_type("transaction.")) == [
        "transaction.billed",
        "transaction.started",
        "transaction.stopped",
    ]


async def test_events_out_of_order_end_with_the_right_energy_and_cost(live):
    # given: a session of five events; the station's queue delivers them as
    # Ended first, then the Updated ones, then Started
    mine = await tenant("watt", "CP201-OOO")
    await tag(mine, "CARD-201")
    station = await connect_station(live.ws_url, "CP201-OOO", "2.0.1")
    tx = Tx201(station, "OOO-1", id_token=CARD)
    t0 = session_start()
    started = tx.payload(
        "Authorized",
        timestamp=at(t0),
        id_token=True,
        charging_state="Charging",
        meter_value=[mv201(at(t0), 10.0, context="Transaction.Begin")],
    )
    updated = [
        tx.payload(
            "MeterValuePeriodic",
            timestamp=at(t0, minutes),
            meter_value=[mv201(at(t0, minutes), kwh)],
        )
        for minutes, kwh in ((10, 11.0), (20, 12.5), (30, 14.0))
    ]
    ended = tx.payload(
        "EVCommunicationLost",
        event_type="Ended",
        timestamp=at(t0, 40),
        charging_state="Idle",
        stopped_reason="EVDisconnected",
        meter_value=[mv201(at(t0, 40), 14.0, context="Transaction.End")],
    )

    # when
    answers = [
        (await ocpp(station, "TransactionEvent", frame)).payload
        for frame in (ended, updated[1], updated[0], updated[2], started)
    ]
    await station.close()

    # then: as if they had come in order
    detail = await only_transaction(live, mine, "CP201-OOO")
    assert answers[-1] == {"idTokenInfo": {"status": "Accepted"}}
    assert {
        key: detail[key]
        for key in (
            "id_tag",
            "status",
            "started_at",
            "stopped_at",
            "meter_start",
            "meter_stop",
            "energy_wh",
            "last_meter_wh",
            "stop_reason",
            "charging_state",
            "cost",
        )
    } == {
        "id_tag": "CARD-201",
        "status": "completed",
        "started_at": api_time(t0),
        "stopped_at": api_time(t0, 40),
        "meter_start": 10000,
        "meter_stop": 14000,
        "energy_wh": 4000,
        "last_meter_wh": 14000,
        "stop_reason": "EVDisconnected",
        "charging_state": "Idle",
        # 0.50 + 4 kWh x 0.30 + 40 min x 0.02 (Charging until the end)
        "cost": "2.50",
    }
    breakdown = detail["cost_breakdown"]
    assert (breakdown["charging_seconds"], breakdown["idle_seconds"]) == (2400, 0)


async def test_ended_before_updated_ends_with_the_right_energy(live):
    # given: the Ended event overtakes the last Updated one
    mine = await tenant("watt", "CP201-LATE")
    await tag(mine, "CARD-201")
    station = await connect_station(live.ws_url, "CP201-LATE", "2.0.1")
    tx = Tx201(station, "LATE-1", id_token=CARD)
    t0 = session_start()
    await tx.event(
        "Authorized",
        timestamp=at(t0),
        id_token=True,
        charging_state="Charging",
        meter_value=[mv201(at(t0), 5.0, context="Transaction.Begin")],
    )
    late = tx.payload(
        "ChargingStateChanged",
        timestamp=at(t0, 15),
        charging_state="SuspendedEV",
        meter_value=[mv201(at(t0, 15), 6.5)],
    )

    # when: Ended (no meter value: the station had none) comes first
    ended = await tx.event(
        "EVCommunicationLost",
        event_type="Ended",
        timestamp=at(t0, 25),
        charging_state="Idle",
        stopped_reason="EVDisconnected",
    )
    await ocpp(station, "TransactionEvent", late)
    await station.close()

    # then: the energy is up to the latest reading; the charging time ends when
    # the EV suspended (minute 15), which the late event told
    detail = await only_transaction(live, mine, "CP201-LATE")
    # what it knew then: 0.50 + 0 kWh + 25 min x 0.02 (no SuspendedEV yet)
    assert ended.payload == {"totalCost": 1.0}
    assert (detail["meter_start"], detail["meter_stop"], detail["energy_wh"]) == (
        5000,
        6500,
        1500,
    )
    # 0.50 + 1.5 kWh x 0.30 + 15 min x 0.02 + 10 idle min x 0.10
    assert detail["cost"] == "2.25"
    assert detail["charging_state"] == "Idle"


async def test_an_offline_session_replayed_after_reconnect_keeps_its_timestamps(
    live,
):
    # given: the station charged while it had no connection, three hours ago
    mine = await tenant("watt", "CP201-OFF")
    await tag(mine, "CARD-201")
    station = await connect_station(live.ws_url, "CP201-OFF", "2.0.1")
    await station.close()
    await eventually(lambda: not ChargePoint.objects.get(pk="CP201-OFF").is_online)
    t0 = session_start(hours_ago=3)

    # when: back online, it sends what it queued, marked offline (E04)
    station = await connect_station(live.ws_url, "CP201-OFF", "2.0.1", boot=False)
    tx = Tx201(station, "OFF-1", id_token=CARD)
    answers = [
        await tx.event(
            "Authorized",
            timestamp=at(t0),
            offline=True,
            id_token=True,
            charging_state="Charging",
            meter_value=[mv201(at(t0), 0.0, context="Transaction.Begin")],
        ),
        await tx.event(
            "MeterValuePeriodic",
            timestamp=at(t0, 15),
            offline=True,
            meter_value=[mv201(at(t0, 15), 2.0)],
        ),
        await tx.event(
            "StopAuthorized",
            event_type="Ended",
            timestamp=at(t0, 30),
            offline=True,
            id_token=True,
            charging_state="EVConnected",
            stopped_reason="Local",
            meter_value=[mv201(at(t0, 30), 4.0, context="Transaction.End")],
        ),
    ]
    await station.close()

    # then: recorded as it happened, not as it arrived
    assert answers[0].payload == {"idTokenInfo": {"status": "Accepted"}}
    # 0.50 + 4 kWh x 0.30 + 30 min x 0.02
    assert answers[2].payload == {
        "idTokenInfo": {"status": "Accepted"},
        "totalCost": 2.3,
    }
    detail = await only_transaction(live, mine, "CP201-OFF")
    assert {
        key: detail[key]
        for key in ("started_at", "stopped_at", "duration_s", "energy_wh", "offline")
    } == {
        "started_at": api_time(t0),
        "stopped_at": api_time(t0, 30),
        "duration_s": 1800,
        "energy_wh": 4000,
        "offline": True,
    }
    values = await meter_values_of(live, mine, detail["id"])
    assert [v["timestamp"] for v in values] == [
        api_time(t0),
        api_time(t0, 15),
        api_time(t0, 30),
    ]
