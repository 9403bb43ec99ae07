"""OCPP 2.0.1 charging sessions end to end: a real station, server, API and feed.

TransactionEvent (E01-E15) carries the whole session: its events may arrive
more than once and out of order (E04.FR.*, offline queues), and each
(transactionId, seqNo) counts once. What it leads to is read the way an
integrator reads it: the REST API and the event feed.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from tests.e2e.charging import (
    IDLE_FEE_PER_MINUTE,
    PRICE_PER_KWH,
    PRICE_PER_MINUTE,
    SESSION_FEE,
    EventFeed,
    api_time,
    at,
    by_type,
    get_json,
    meter_values_of,
    money,
    mv201,
    ocpp,
    only_transaction,
    session_start,
    tag,
    tenant,
)
from tests.e2e.command_helpers import api_client, connect_station
from tests.e2e.helpers import make_station
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"idToken": "CARD-201", "type": "ISO14443"}
EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)
# Five periodic readings (minutes after the start, kWh, kW).
READINGS = [
    (5, 20.9, 7.0),
    (10, 21.85, 11.4),
    (15, 22.8, 11.4),
    (20, 23.75, 11.4),
    (25, 24.7, 11.4),
]


async def test_full_session_is_recorded_billed_and_published_to_its_tenant_only(live):
    # given: two operators, each with a station, a tariff and a user on the feed
    mine = await tenant("watt", "CP201-A")
    theirs = await tenant("other", "CP201-B")
    await tag(mine, "CARD-201", parent="FLEET-7", expiry_date=EXPIRY)
    station = await connect_station(live.ws_url, "CP201-A", "2.0.1")
    feed = await EventFeed.open(live.ws_url, mine.jwt)
    their_feed = await EventFeed.open(live.ws_url, theirs.jwt)
    tx = Tx201(station, "CP201-A-0001", id_token=CARD)
    t0 = session_start()

    # when: authorize, start, charge with five meter values, stop, unplug
    authorize = await ocpp(station, "Authorize", {"idToken": CARD})
    started = await tx.event(
        "Authorized",
        timestamp=at(t0),
        id_token=True,
        charging_state="EVConnected",
        meter_value=[mv201(at(t0), 20.0, context="Transaction.Begin")],
    )
    charging = await tx.event(
        "ChargingStateChanged", timestamp=at(t0, 1), charging_state="Charging"
    )
    periodic = [
        await tx.event(
            "MeterValuePeriodic",
            timestamp=at(t0, minutes),
            meter_value=[mv201(at(t0, minutes), kwh, kw=kw)],
        )
        for minutes, kwh, kw in READINGS
    ]
    stop_authorized = await tx.event(
        "StopAuthorized",
        timestamp=at(t0, 30),
        id_token=True,
        charging_state="EVConnected",
    )
    ended = await tx.event(
        "EVCommunicationLost",
        event_type="Ended",
        timestamp=at(t0, 32),
        charging_state="Idle",
        stopped_reason="EVDisconnected",
        meter_value=[mv201(at(t0, 32), 25.512, context="Transaction.End")],
    )
    await feed.wait_for("transaction.", 3)
    events = by_type(list(feed.events))  # everything heard so far
    await station.close()

    # then: the cost, from the tariff, with exact Decimal arithmetic
    energy_cost = money(Decimal(25512 - 20000) / 1000 * PRICE_PER_KWH)  # 1.6536
    time_cost = money(29 * PRICE_PER_MINUTE)  # Charging from minute 1 to 30
    idle_cost = money(2 * IDLE_FEE_PER_MINUTE)  # plugged in, not charging
    total = SESSION_FEE + energy_cost + time_cost + idle_cost
    assert (energy_cost, time_cost, idle_cost, total) == (
        Decimal("1.65"),
        Decimal("0.58"),
        Decimal("0.20"),
        Decimal("2.93"),
    )

    # then: the station's answers
    token_info = {
        "status": "Accepted",
        "cacheExpiryDateTime": "2030-01-01T00:00:00.000Z",
        "groupIdToken": {"idToken": "FLEET-7", "type": "Central"},
    }
    assert authorize.payload == {"idTokenInfo": token_info}
    assert started.payload == {"idTokenInfo": token_info}
    assert [a.payload for a in [charging, *periodic]] == [{}] * 6
    assert stop_authorized.payload == {"idTokenInfo": token_info}
    assert ended.payload == {"totalCost": 2.93}

    # then: the API, exactly
    detail = await only_transaction(live, mine, "CP201-A")
    pk = detail["id"]
    assert detail == {
        "id": pk,
        "transaction_id": "CP201-A-0001",
        "organization": mine.organization.pk,
        "charge_point": "CP201-A",
        "ocpp_version": "2.0.1",
        "evse_id": 1,
        "connector_id": 1,
        "id_tag": "CARD-201",
        "auth_status": "Accepted",
        "status": "completed",
        "started_at": api_time(t0),
        "stopped_at": api_time(t0, 32),
        "duration_s": 1920,
        "meter_start": 20000,
        "meter_stop": 25512,
        "energy_wh": 5512,
        "last_meter_wh": 25512,
        "last_meter_at": api_time(t0, 32),
        "stop_reason": "EVDisconnected",
        "stopped_by": "station",
        "stop_id_tag": "CARD-201",
        "stop_token_mismatch": False,
        "charging_state": "Idle",
        "offline": False,
        "remote_start_id": None,
        "reservation_id": None,
        "cost": "2.93",
        "currency": "EUR",
        "cost_breakdown": {
            "tariff": {"id": mine.tariff.pk, "name": "Standard"},
            "currency": "EUR",
            "session_fee": "0.50",
            "energy_cost": "1.65",
            "time_cost": "0.58",
            "idle_cost": "0.20",
            "total": "2.93",
            "energy_wh": "5512",
            "charging_seconds": 1740,
            "idle_seconds": 120,
            "segments": [
                {
                    "start": t0.isoformat(),
                    "end": (t0 + timedelta(minutes=32)).isoformat(),
                    "band": "",
                    "energy_wh": "5512",
                    "charging_minutes": "29",
                    "price_per_kwh": "0.3",
                    "price_per_minute": "0.02",
                    "energy_cost": "1.6536",
                    "time_cost": "0.58",
                }
            ],
        },
    }
    values = await meter_values_of(live, mine, pk)
    assert [
        (v["timestamp"], v["measurand"], v["context"], v["value"], v["unit"])
        for v in values
    ] == [
        (
            api_time(t0),
            "Energy.Active.Import.Register",
            "Transaction.Begin",
            20000,
            "Wh",
        ),
        *(
            row
            for minutes, kwh, kw in READINGS
            for row in (
                (
                    api_time(t0, minutes),
                    "Energy.Active.Import.Register",
                    "Sample.Periodic",
                    float(Decimal(repr(kwh)) * 1000),
                    "Wh",
                ),
                (
                    api_time(t0, minutes),
                    "Power.Active.Import",
                    "Sample.Periodic",
                    float(Decimal(repr(kw)) * 1000),
                    "W",
                ),
            )
        ),
        (
            api_time(t0, 32),
            "Energy.Active.Import.Register",
            "Transaction.End",
            25512,
            "Wh",
        ),
    ]
    assert [(v["raw_value"], v["raw_unit"]) for v in values[:3]] == [
        ("20.0", "kWh"),
        ("20.9", "kWh"),
        ("7.0", "kW"),
    ]

    # then: the feed, exactly these three events with the session's data
    assert sorted(events) == [
        "transaction.billed",
        "transaction.started",
        "transaction.stopped",
    ]
    assert {e["organization"] for e in events.values()} == {mine.organization.pk}
    session = {
        "id": pk,
        "transaction_id": "CP201-A-0001",
        "charge_point": "CP201-A",
        "evse_id": 1,
        "connector_id": 1,
        "id_tag": "CARD-201",
        "started_at": api_time(t0),
        "meter_start": 20000,
        "stop_token_mismatch": False,
    }
    assert events["transaction.started"]["data"] == {
        **session,
        "status": "active",
        "stopped_at": None,
        "meter_stop": None,
        "energy_wh": None,
        "stop_reason": "",
        "stopped_by": "",
    }
    assert events["transaction.stopped"]["data"] == {
        **session,
        "status": "completed",
        "stopped_at": api_time(t0, 32),
        "meter_stop": 25512,
        "energy_wh": 5512,
        "stop_reason": "EVDisconnected",
        "stopped_by": "station",
    }
    assert events["transaction.billed"]["data"] == {
        "id": pk,
        "transaction_id": "CP201-A-0001",
        "charge_point": "CP201-A",
        "cost": "2.93",
        "currency": "EUR",
        "tariff": mine.tariff.pk,
        "breakdown": detail["cost_breakdown"],
    }

    # then: the other organization hears none of it and cannot see it (its own
    # station's connection is a later event of the same publisher)
    other_station = await connect_station(live.ws_url, "CP201-B", "2.0.1")
    await their_feed.wait_for("charge_point.connected", 1)
    # The feeds close first: the station's own disconnection is not the point.
    await feed.close()
    await their_feed.close()
    await other_station.close()
    assert [(e["type"], e["data"]["charge_point"]) for e in their_feed.events] == [
        ("charge_point.connected", "CP201-B")
    ]
    async with api_client(live.http_url, theirs.jwt) as api:
        page = await get_json(api, "/api/v1/transactions/?charge_point=CP201-A")
        hidden = [
            await api.get(f"/api/v1/transactions/{pk}/"),
            await api.get(f"/api/v1/transactions/{pk}/meter-values/"),
        ]
    assert page["count"] == 0
    assert [response.status_code for response in hidden] == [404, 404]


async def test_two_stations_may_use_the_same_transaction_id(live):
    # given: 2.0.1 stations choose their transaction ids; two may collide
    mine = await tenant("watt", "CP201-X")
    await sync_to_async(make_station)("CP201-Y", organization=mine.organization)
    await tag(mine, "CARD-201")
    stations = [
        await connect_station(live.ws_url, station_id, "2.0.1")
        for station_id in ("CP201-X", "CP201-Y")
    ]
    t0 = session_start()

    # when: each runs a session called "1"
    for n, station in enumerate(stations, start=1):
        tx = Tx201(station, "1", id_token=CARD)
        await tx.event(
            "Authorized",
            timestamp=at(t0),
            id_token=True,
            charging_state="Charging",
            meter_value=[mv201(at(t0), 0.0, context="Transaction.Begin")],
        )
        await tx.event(
            "EVCommunicationLost",
            event_type="Ended",
            timestamp=at(t0, 10),
            stopped_reason="EVDisconnected",
            meter_value=[mv201(at(t0, 10), float(n), context="Transaction.End")],
        )
        await station.close()

    # then: two sessions, each with its own energy
    async with api_client(live.http_url, mine.jwt) as api:
        page = await get_json(api, "/api/v1/transactions/?ordering=id")
    assert [
        (t["charge_point"], t["transaction_id"], t["energy_wh"])
        for t in page["results"]
    ] == [("CP201-X", "1", 1000), ("CP201-Y", "1", 2000)]


async def test_an_ocpp_2_1_station_records_its_session_the_same_way(live):
    # given: 2.0.1 and 2.1 share the transaction handlers
    mine = await tenant("watt", "CP21-A")
    await tag(mine, "CARD-201")
    station = await connect_station(live.ws_url, "CP21-A", "2.1")
    tx = Tx201(station, "CP21-TX", id_token=CARD)
    t0 = session_start()

    # when
    started = await tx.event(
        "Authorized",
        timestamp=at(t0),
        id_token=True,
        charging_state="Charging",
        meter_value=[mv201(at(t0), 3.0, context="Transaction.Begin")],
    )
    ended = await tx.event(
        "StopAuthorized",
        event_type="Ended",
        timestamp=at(t0, 30),
        id_token=True,
        charging_state="EVConnected",
        stopped_reason="Local",
        meter_value=[mv201(at(t0, 30), 6.0, context="Transaction.End")],
    )
    await station.close()

    # then: 0.50 + 3 kWh x 0.30 + 30 min x 0.02
    assert started.payload == {"idTokenInfo": {"status": "Accepted"}}
    assert ended.payload == {"idTokenInfo": {"status": "Accepted"}, "totalCost": 2.0}
    detail = await only_transaction(live, mine, "CP21-A")
    assert (
        detail["ocpp_version"],
        detail["energy_wh"],
        detail["stop_reason"],
        detail["cost"],
    ) == ("2.1", 3000, "Local", "2.00")
