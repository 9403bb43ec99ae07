"""OCPP 1.6 charging sessions end to end: a real station, server, API and feed.

The station speaks schema-valid 1.6 over a WebSocket; what it leads to is read
the way an integrator reads it: the REST API and the event feed. Requirements
follow the 1.6 specification: §4.1 Authorize, §4.8 StartTransaction (a
non-Accepted token's session is recorded all the same), §4.10 StopTransaction
(the CSMS cannot refuse a stop; idTag must match the start's or its
parentIdTag), §3.5/§4.7 MeterValues.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from apps.transactions.models import MeterValue, Transaction
from tests.e2e.charging import (
    PRICE_PER_KWH,
    PRICE_PER_MINUTE,
    SESSION_FEE,
    EventFeed,
    api_time,
    at,
    by_type,
    get_json,
    meter_values16,
    money,
    mv16,
    ocpp,
    session_start,
    start16,
    stop16,
    tag,
    tenant,
)
from tests.e2e.command_helpers import api_client, connect_station, token_for

pytestmark = pytest.mark.django_db(transaction=True)

# Five periodic readings (minutes after the start, kWh, kW) of the session.
READINGS = [
    (5, "12.500", "7.2"),
    (10, "13.250", "9.0"),
    (15, "14.000", "9.0"),
    (20, "14.875", "10.5"),
    (25, "15.500", "7.5"),
]


async def _start(station, t0, **fields):
    return await ocpp(station, "StartTransaction", start16(t0, **fields))


async def _only_transaction(api, station_id: str) -> dict:
    """The station's only transaction as the list shows it."""
    page = await get_json(api, f"/api/v1/transactions/?charge_point={station_id}")
    assert page["count"] == 1, page
    return page["results"][0]


async def test_full_session_is_recorded_billed_and_published_to_its_tenant_only(live):
    # given: two operators, each with a station, a tariff and a user on the feed
    mine = await tenant("volt", "CP16-A")
    theirs = await tenant("other", "CP16-B")
    await tag(mine, "CARD-16", parent="FAMILY-16")
    station = await connect_station(live.ws_url, "CP16-A", "1.6")
    feed = await EventFeed.open(live.ws_url, mine.jwt)
    their_feed = await EventFeed.open(live.ws_url, theirs.jwt)
    t0 = session_start()

    # when: authorize, start, five meter values, stop
    authorize = await ocpp(station, "Authorize", {"idTag": "CARD-16"})
    start = await _start(station, t0)
    tx_id = start.payload["transactionId"]
    for minutes, kwh, kw in READINGS:
        answer = await ocpp(
            station, "MeterValues", meter_values16(tx_id, at(t0, minutes), kwh, kw)
        )
        assert answer.payload == {}
    stop = await ocpp(
        station,
        "StopTransaction",
        stop16(
            tx_id,
            t0,
            30,
            16234,
            idTag="CARD-16",
            reason="EVDisconnected",
            transactionData=[mv16(at(t0, 30), "16.234", context="Transaction.End")],
        ),
    )
    await feed.wait_for("transaction.", 3)
    events = by_type(list(feed.events))  # everything heard so far
    await station.close()

    # then: the station's answers
    group = {"status": "Accepted", "parentIdTag": "FAMILY-16"}
    assert authorize.payload == {"idTagInfo": group}
    assert start.payload == {"transactionId": tx_id, "idTagInfo": group}
    assert stop.payload == {"idTagInfo": group}

    # then: the cost, from the tariff, with exact Decimal arithmetic
    energy_wh = Decimal(16234 - 12000)
    energy_cost = money(energy_wh / 1000 * PRICE_PER_KWH)  # 1.2702 -> 1.27
    time_cost = money(30 * PRICE_PER_MINUTE)  # charging all 30 minutes
    total = SESSION_FEE + energy_cost + time_cost
    assert (energy_cost, time_cost, total) == (
        Decimal("1.27"),
        Decimal("0.60"),
        Decimal("2.37"),
    )
    breakdown = {
        "tariff": {"id": mine.tariff.pk, "name": "Standard"},
        "currency": "EUR",
        "session_fee": "0.50",
        "energy_cost": "1.27",
        "time_cost": "0.60",
        "idle_cost": "0.00",
        "total": "2.37",
        "energy_wh": "4234",
        "charging_seconds": 1800,
        "idle_seconds": 0,
        "segments": [
            {
                "start": t0.isoformat(),
                "end": (t0 + timedelta(minutes=30)).isoformat(),
                "band": "",
                "energy_wh": "4234",
                "charging_minutes": "30",
                "price_per_kwh": "0.3",
                "price_per_minute": "0.02",
                "energy_cost": "1.2702",
                "time_cost": "0.6",
            }
        ],
    }

    # then: the API, exactly
    async with api_client(live.http_url, mine.jwt) as api:
        listed = await _only_transaction(api, "CP16-A")
        detail = await get_json(api, f"/api/v1/transactions/{listed['id']}/")
        values = await get_json(
            api, f"/api/v1/transactions/{listed['id']}/meter-values/"
        )
    expected = {
        "id": tx_id,
        "transaction_id": tx_id,
        "organization": mine.organization.pk,
        "charge_point": "CP16-A",
        "ocpp_version": "1.6",
        "evse_id": 1,
        "connector_id": 1,
        "id_tag": "CARD-16",
        "auth_status": "Accepted",
        "status": "completed",
        "started_at": api_time(t0),
        "stopped_at": api_time(t0, 30),
        "duration_s": 1800,
        "meter_start": 12000,
        "meter_stop": 16234,
        "energy_wh": 4234,
        "last_meter_wh": 16234,
        "last_meter_at": api_time(t0, 30),
        "stop_reason": "EVDisconnected",
        "stopped_by": "station",
        "stop_id_tag": "CARD-16",
        "stop_token_mismatch": False,
        "charging_state": "",
        "offline": False,
        "remote_start_id": None,
        "reservation_id": None,
        "cost": "2.37",
        "currency": "EUR",
    }
    assert listed == expected
    assert detail == {**expected, "cost_breakdown": breakdown}
    assert values["count"] == 11
    assert [
        (v["timestamp"], v["measurand"], v["value"], v["unit"], v["raw_value"])
        for v in values["results"]
    ] == [
        *(
            row
            for minutes, kwh, kw in READINGS
            for row in (
                (
                    api_time(t0, minutes),
                    "Energy.Active.Import.Register",
                    float(Decimal(kwh) * 1000),
                    "Wh",
                    kwh,
                ),
                (
                    api_time(t0, minutes),
                    "Power.Active.Import",
                    float(Decimal(kw) * 1000),
                    "W",
                    kw,
                ),
            )
        ),
        (api_time(t0, 30), "Energy.Active.Import.Register", 16234.0, "Wh", "16.234"),
    ]
    assert {(v["context"], v["raw_unit"]) for v in values["results"][:10]} == {
        ("Sample.Periodic", "kWh"),
        ("Sample.Periodic", "kW"),
    }
    assert values["results"][10]["context"] == "Transaction.End"

    # then: the feed, exactly these three events with the session's data
    assert sorted(events) == [
        "transaction.billed",
        "transaction.started",
        "transaction.stopped",
    ]
    assert {e["organization"] for e in events.values()} == {mine.organization.pk}
    session = {
        "id": tx_id,
        "transaction_id": str(tx_id),
        "charge_point": "CP16-A",
        "evse_id": 1,
        "connector_id": 1,
        "id_tag": "CARD-16",
        "stop_token_mismatch": False,
    }
    assert events["transaction.started"]["data"] == {
        **session,
        "status": "active",
        "started_at": api_time(t0),
        "stopped_at": None,
        "meter_start": 12000,
        "meter_stop": None,
        "energy_wh": None,
        "stop_reason": "",
        "stopped_by": "",
    }
    assert events["transaction.stopped"]["data"] == {
        **session,
        "status": "completed",
        "started_at": api_time(t0),
        "stopped_at": api_time(t0, 30),
        "meter_start": 12000,
        "meter_stop": 16234,
        "energy_wh": 4234,
        "stop_reason": "EVDisconnected",
        "stopped_by": "station",
    }
    assert events["transaction.billed"]["data"] == {
        "id": tx_id,
        "transaction_id": str(tx_id),
        "charge_point": "CP16-A",
        "cost": "2.37",
        "currency": "EUR",
        "tariff": mine.tariff.pk,
        "breakdown": breakdown,
    }

    # then: the other organization hears none of it and cannot see it. Its own
    # station's connection is a later event of the same publisher: once that
    # arrived, anything of ours would have arrived before it.
    other_station = await connect_station(live.ws_url, "CP16-B", "1.6")
    await their_feed.wait_for("charge_point.connected", 1)
    # The feeds close first: the station's own disconnection is not the point.
    await feed.close()
    await their_feed.close()
    await other_station.close()
    assert [(e["type"], e["data"]["charge_point"]) for e in their_feed.events] == [
        ("charge_point.connected", "CP16-B")
    ]
    async with api_client(live.http_url, theirs.jwt) as api:
        page = await get_json(api, "/api/v1/transactions/")
        hidden = [
            await api.get(f"/api/v1/transactions/{tx_id}/"),
            await api.get(f"/api/v1/transactions/{tx_id}/meter-values/"),
        ]
    assert page["count"] == 0
    assert [response.status_code for response in hidden] == [404, 404]


async def test_stop_of_an_unknown_transaction_is_answered_and_creates_nothing(live):
    # given
    mine = await tenant("volt", "CP16-UNK")
    await tag(mine, "CARD-16")
    station = await connect_station(live.ws_url, "CP16-UNK", "1.6")
    t0 = session_start()

    # when: 1.6 §4.10: the Central System cannot refuse a StopTransaction
    with_tag = await ocpp(
        station, "StopTransaction", stop16(424242, t0, 30, 9000, idTag="CARD-16")
    )
    without_tag = await ocpp(station, "StopTransaction", stop16(424243, t0, 30, 9000))
    await station.close()

    # then
    assert with_tag.payload == {"idTagInfo": {"status": "Accepted"}}
    assert without_tag.payload == {}
    count = await sync_to_async(
        Transaction.objects.filter(charge_point_id="CP16-UNK").count
    )()
    assert count == 0


async def test_force_stop_of_a_stuck_session_bills_the_latest_reading(live):
    # given: a session whose station went silent after two readings
    mine = await tenant("volt", "CP16-STUCK")
    await tag(mine, "CARD-16")
    operator = await sync_to_async(token_for)("operator", mine.organization, "op-16")
    station = await connect_station(live.ws_url, "CP16-STUCK", "1.6")
    t0 = session_start()
    start = await _start(station, t0)
    tx_id = start.payload["transactionId"]
    for minutes, kwh in ((5, "12.400"), (10, "12.900")):
        await ocpp(station, "MeterValues", meter_values16(tx_id, at(t0, minutes), kwh))
    await station.close()

    # when: the operator closes the record
    async with api_client(live.http_url, operator) as api:
        response = await api.post(
            f"/api/v1/transactions/{tx_id}/force-stop/", json={"reason": "Other"}
        )
        again = await api.post(f"/api/v1/transactions/{tx_id}/force-stop/", json={})

    # then: the energy is the latest reading's, not zero; a second stop is 409
    assert response.status_code == 200, response.text
    tx = response.json()
    assert (tx["status"], tx["stopped_by"], tx["stop_reason"]) == (
        "completed",
        "operator",
        "Other",
    )
    assert (tx["meter_stop"], tx["energy_wh"]) == (12900, 900)
    assert again.status_code == 409
    count = await sync_to_async(MeterValue.objects.filter(transaction_id=tx_id).count)()
    assert count == 2


async def test_the_stations_stop_after_a_force_stop_corrects_the_record(live):
    # given: an operator force-stopped a session while the station was away
    mine = await tenant("volt", "CP16-LATE")
    await tag(mine, "CARD-16")
    operator = await sync_to_async(token_for)("operator", mine.organization, "op-16")
    station = await connect_station(live.ws_url, "CP16-LATE", "1.6")
    t0 = session_start()
    start = await _start(station, t0)
    tx_id = start.payload["transactionId"]
    await ocpp(station, "MeterValues", meter_values16(tx_id, at(t0, 5), "12.400"))
    async with api_client(live.http_url, operator) as api:
        forced = await api.post(f"/api/v1/transactions/{tx_id}/force-stop/", json={})
    assert forced.status_code == 200, forced.text
    feed = await EventFeed.open(live.ws_url, mine.jwt)

    # when: the station's own StopTransaction arrives after all
    stop = await ocpp(
        station,
        "StopTransaction",
        stop16(tx_id, t0, 20, 14000, idTag="CARD-16", reason="Local"),
    )
    await feed.wait_for("transaction.", 2)
    await station.close()
    await feed.close()

    # then: the station knows the real end and meter (one stop service)
    assert stop.payload == {"idTagInfo": {"status": "Accepted"}}
    async with api_client(live.http_url, mine.jwt) as api:
        tx = await get_json(api, f"/api/v1/transactions/{tx_id}/")
    assert (
        tx["stopped_by"],
        tx["stopped_at"],
        tx["meter_stop"],
        tx["energy_wh"],
        tx["cost"],
    ) == ("station", api_time(t0, 20), 14000, 2000, "1.50")  # 0.50+0.60+0.40
    stopped = by_type(feed.of_type("transaction."))
    assert sorted(stopped) == ["transaction.billed", "transaction.stopped"]
    assert stopped["transaction.stopped"]["data"]["corrected"] is True
    assert stopped["transaction.billed"]["data"]["cost"] == "1.50"
