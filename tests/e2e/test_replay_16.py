"""OCPP 1.6 replays end to end: nothing is lost or counted twice.

A StartTransaction is the same start when its connector, idTag, timestamp and
meterStart are (it gets the same transactionId); a frame resent after a
reconnect changes nothing and gets the same answer; a session the station
ran offline keeps its own timestamps when it is replayed (1.6 §4.8, §4.10).
"""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint
from apps.transactions.models import Transaction
from tests.e2e.charging import (
    EventFeed,
    api_time,
    at,
    frame_id,
    get_json,
    meter_values16,
    ocpp,
    resend,
    session_start,
    start16,
    stop16,
    tag,
    tenant,
)
from tests.e2e.command_helpers import api_client, connect_station
from tests.e2e.helpers import eventually

pytestmark = pytest.mark.django_db(transaction=True)


async def _start(station, t0, **fields):
    return await ocpp(station, "StartTransaction", start16(t0, **fields))


async def _only_transaction(api, station_id: str) -> dict:
    """The station's only transaction as the list shows it."""
    page = await get_json(api, f"/api/v1/transactions/?charge_point={station_id}")
    assert page["count"] == 1, page
    return page["results"][0]


async def test_the_same_start_transaction_twice_gets_the_same_id_and_one_session(
    live,
):
    # given
    mine = await tenant("volt", "CP16-DUP")
    await tag(mine, "CARD-16")
    station = await connect_station(live.ws_url, "CP16-DUP", "1.6")
    feed = await EventFeed.open(live.ws_url, mine.jwt)
    t0 = session_start()

    # when: the station did not get the first answer and sends it again
    first = await _start(station, t0)
    again = await _start(station, t0)
    tx_id = first.payload["transactionId"]
    await ocpp(station, "StopTransaction", stop16(tx_id, t0, 10, 13000))
    await feed.wait_for("transaction.", 3)
    await station.close()
    await feed.close()

    # then: one session, one id, one answer, one "started"
    assert again.payload == first.payload
    async with api_client(live.http_url, mine.jwt) as api:
        listed = await _only_transaction(api, "CP16-DUP")
    assert (listed["id"], listed["energy_wh"], listed["cost"]) == (
        tx_id,
        1000,
        # 0.50 + 1 kWh x 0.30 + 10 min x 0.02
        "1.00",
    )
    assert sorted(e["type"] for e in feed.events) == [
        "transaction.billed",
        "transaction.started",
        "transaction.stopped",
    ]


async def test_a_different_start_on_the_same_connector_is_a_new_session(live):
    # given
    mine = await tenant("volt", "CP16-TWO")
    await tag(mine, "CARD-16")
    station = await connect_station(live.ws_url, "CP16-TWO", "1.6")
    t0 = session_start()

    # when: same connector and token, another time and meter (a new start)
    first = await _start(station, t0)
    await ocpp(
        station, "StopTransaction", stop16(first.payload["transactionId"], t0, 5, 12500)
    )
    second = await _start(station, t0 + timedelta(minutes=6), meter_start=12500)
    await station.close()

    # then
    assert second.payload["transactionId"] != first.payload["transactionId"]
    count = await sync_to_async(
        Transaction.objects.filter(charge_point_id="CP16-TWO").count
    )()
    assert count == 2


async def test_frames_resent_after_a_reconnect_change_nothing(live):
    # given: a whole session, each frame under a unique id of the station's
    mine = await tenant("volt", "CP16-RESEND")
    await tag(mine, "CARD-16")
    station = await connect_station(live.ws_url, "CP16-RESEND", "1.6")
    feed = await EventFeed.open(live.ws_url, mine.jwt)
    t0 = session_start()
    start = (
        frame_id("start"),
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "CARD-16",
            "meterStart": 12000,
            "timestamp": at(t0),
        },
    )
    first_start = await resend(station, *start)
    tx_id = first_start.payload["transactionId"]
    frames = [
        (frame_id("mv"), "MeterValues", meter_values16(tx_id, at(t0, 5), "12.5", "7")),
        (
            frame_id("stop"),
            "StopTransaction",
            stop16(tx_id, t0, 10, 13000, idTag="CARD-16", reason="Local"),
        ),
    ]
    answers = [first_start.payload] + [
        (await resend(station, *frame)).payload for frame in frames
    ]
    await feed.wait_for("transaction.", 3)
    async with api_client(live.http_url, mine.jwt) as api:
        before = await get_json(api, f"/api/v1/transactions/{tx_id}/")
        values_before = await get_json(
            api, f"/api/v1/transactions/{tx_id}/meter-values/"
        )

    # when: the connection drops before the station saw the answers; after
    # reconnecting it sends the same frames, same unique ids, again
    await station.close()
    await eventually(lambda: not ChargePoint.objects.get(pk="CP16-RESEND").is_online)
    station = await connect_station(live.ws_url, "CP16-RESEND", "1.6", boot=False)
    replayed = [(await resend(station, *frame)).payload for frame in [start, *frames]]
    # a later event of the same publisher: a repeat's events would come first
    await ocpp(
        station,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    )
    await feed.wait_for("charge_point.status_changed", 1)
    await station.close()
    await feed.close()

    # then: the same answers, the same records, no new events
    assert replayed == answers
    assert answers[2] == {"idTagInfo": {"status": "Accepted"}}
    async with api_client(live.http_url, mine.jwt) as api:
        after = await get_json(api, f"/api/v1/transactions/{tx_id}/")
        values_after = await get_json(
            api, f"/api/v1/transactions/{tx_id}/meter-values/"
        )
    assert after == before
    assert (after["energy_wh"], after["cost"]) == (1000, "1.00")
    assert values_after == values_before
    assert values_after["count"] == 2
    assert sorted(e["type"] for e in feed.of_type("transaction.")) == [
        "transaction.billed",
        "transaction.started",
        "transaction.stopped",
    ]


async def test_an_offline_session_replayed_after_reconnect_keeps_its_timestamps(
    live,
):
    # given: the station charged while it had no connection, three hours ago
    mine = await tenant("volt", "CP16-OFF")
    await tag(mine, "CARD-16")
    station = await connect_station(live.ws_url, "CP16-OFF", "1.6")
    await station.close()
    await eventually(lambda: not ChargePoint.objects.get(pk="CP16-OFF").is_online)
    t0 = session_start(hours_ago=3)

    # when: back online, it sends what it queued
    station = await connect_station(live.ws_url, "CP16-OFF", "1.6", boot=False)
    start = await _start(station, t0, meter_start=500)
    tx_id = start.payload["transactionId"]
    for minutes, kwh in ((10, "1.500"), (20, "2.500")):
        await ocpp(station, "MeterValues", meter_values16(tx_id, at(t0, minutes), kwh))
    stop = await ocpp(
        station,
        "StopTransaction",
        stop16(tx_id, t0, 40, 3500, idTag="CARD-16", reason="Local"),
    )
    await station.close()

    # then: recorded as it happened, not as it arrived
    assert start.payload["idTagInfo"] == {"status": "Accepted"}
    assert stop.payload == {"idTagInfo": {"status": "Accepted"}}
    async with api_client(live.http_url, mine.jwt) as api:
        tx = await get_json(api, f"/api/v1/transactions/{tx_id}/")
        values = await get_json(api, f"/api/v1/transactions/{tx_id}/meter-values/")
    assert (tx["started_at"], tx["stopped_at"], tx["duration_s"]) == (
        api_time(t0),
        api_time(t0, 40),
        2400,
    )
    assert (tx["meter_start"], tx["meter_stop"], tx["energy_wh"]) == (500, 3500, 3000)
    # 0.50 + 3 kWh x 0.30 + 40 min x 0.02 (the register rose all along)
    assert tx["cost"] == "2.20"
    assert [(v["timestamp"], v["value"]) for v in values["results"]] == [
        (api_time(t0, 10), 1500.0),
        (api_time(t0, 20), 2500.0),
    ]
