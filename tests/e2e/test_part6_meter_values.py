"""OCPP 2.0.1 Part 6, block J (meter values): the CSMS-side cases.

Each case is played by a test station against the live server, step by step
as Part 6 writes it (its reusable states are ``Tx201``'s methods). The cases
have no "Tool validations" beyond the CSMS answering; the assertions are the
answers and what the CSMS kept of every sampled value (in Wh, with context,
EVSE and signature), read through the operator's API. Where Part 6 lists
"MeterValuesRequest / NotifyEventRequest (FiscalMetering)", the station uses
MeterValues (NotifyEvent belongs to monitoring, not built).
"""

from datetime import datetime

import pytest
from asgiref.sync import sync_to_async

from apps.transactions.models import MeterValue
from tests.e2e.charging import (
    VALID,
    api_meter_values,
    api_transaction,
    at,
    mv201,
    ocpp,
    register,
    session_start,
    signed_meter_value,
)
from tests.e2e.command_helpers import commanding
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)

# <Configured clock-aligned Meter Values interval>: 15 minutes.
CLOCK = 15


def _clock_start() -> datetime:
    """A whole quarter of an hour an hour ago: clock-aligned readings follow."""
    t0 = session_start(hours_ago=1)
    return t0.replace(minute=t0.minute - t0.minute % CLOCK)


async def _charging(station, station_id: str, t0: datetime, **options) -> Tx201:
    """Reusable state EnergyTransferStarted at ``t0``, with a valid token."""
    await sync_to_async(register)(station_id, VALID)
    tx = Tx201(station, f"{station_id}-TX", id_token=VALID)
    await tx.authorized(timestamp=at(t0))
    await tx.ev_connected_pre_session(timestamp=at(t0))
    await tx.energy_transfer_started(timestamp=at(t0), **options)
    return tx


async def _values(api, station_id: str, tx: Tx201) -> tuple[dict, list[tuple]]:
    record = await api_transaction(api, station_id, tx.transaction_id)
    values = await api_meter_values(api, record["id"])
    return record, [
        (v["timestamp"], v["context"], v["measurand"], v["value"], v["unit"])
        for v in values
    ]


def _api(moment: str) -> str:
    """An OCPP time of ours (whole seconds) as the API writes it."""
    return moment.replace(".000Z", "Z")


ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


async def test_tc_j_01_clock_aligned_meter_values_without_transaction(live):
    async with commanding(live, "TCJ01", "2.0.1") as (station, _api):
        t0 = _clock_start()
        # 1-2: every interval, for evseId 0 and each EVSE; three messages
        answers = [
            (
                await ocpp(
                    station,
                    "MeterValues",
                    {
                        "evseId": evse_id,
                        "meterValue": [
                            mv201(
                                at(t0, n * CLOCK),
                                100.0 + n + evse_id,
                                context="Sample.Clock",
                            )
                        ],
                    },
                )
            ).payload
            for n in range(3)
            for evse_id in (0, 1)
        ]
    rows = await sync_to_async(
        lambda: list(
            MeterValue.objects.filter(charge_point_id="TCJ01")
            .order_by("timestamp", "evse_id")
            .values_list("transaction_id", "evse_id", "context", "value", "unit")
        )
    )()
    assert answers == [{}] * 6
    assert [(tx, evse, ctx, int(v), u) for tx, evse, ctx, v, u in rows] == [
        (None, evse_id, "Sample.Clock", (100 + n + evse_id) * 1000, "Wh")
        for n in range(3)
        for evse_id in (0, 1)
    ]


async def test_tc_j_02_clock_aligned_meter_values_with_transaction_ongoing(live):
    async with commanding(live, "TCJ02", "2.0.1") as (station, api):
        t0 = _clock_start()
        tx = await _charging(station, "TCJ02", t0)
        answers = []
        for n in range(3):
            # 1-2: the station's main meter (evseId 0; no idle EVSE)
            answer = await ocpp(
                station,
                "MeterValues",
                {
                    "evseId": 0,
                    "meterValue": [
                        mv201(at(t0, n * CLOCK), 500.0 + n, context="Sample.Clock")
                    ],
                },
            )
            answers.append(answer.payload)
            # 3-4: the transaction's EVSE
            answer = await tx.event(
                "MeterValueClock",
                timestamp=at(t0, n * CLOCK),
                meter_value=[
                    mv201(at(t0, n * CLOCK), 2.0 + n, kw=7.4, context="Sample.Clock")
                ],
            )
            answers.append(answer.payload)
        record, values = await _values(api, "TCJ02", tx)
    assert answers == [{}] * 6
    assert values == [
        row
        for n in range(3)
        for row in (
            (_api(at(t0, n * CLOCK)), "Sample.Clock", ENERGY, (2 + n) * 1000, "Wh"),
            (_api(at(t0, n * CLOCK)), "Sample.Clock", POWER, 7400, "W"),
        )
    ]
    assert (record["status"], record["last_meter_wh"]) == ("active", 4000)
    main_meter = await sync_to_async(
        lambda: list(
            MeterValue.objects.filter(charge_point_id="TCJ02", evse_id=0)
            .order_by("timestamp")
            .values_list("transaction_id", "value")
        )
    )()
    assert [(tx_pk, int(v)) for tx_pk, v in main_meter] == [
        (None, 500000),
        (None, 501000),
        (None, 502000),
    ]


async def _ended_with_readings(live, station_id: str, context: str, signed: bool):
    """J03/J04/J10/J11: EVDisconnected; the Ended event carries the readings
    of the last intervals, the last one with context Transaction.End."""
    async with commanding(live, station_id, "2.0.1") as (station, api):
        t0 = _clock_start()
        tx = await _charging(
            station,
            station_id,
            t0,
            meter_value=[mv201(at(t0), 10.0, context="Transaction.Begin")],
        )
        await tx.stop_authorized(timestamp=at(t0, 2 * CLOCK + 1))
        await tx.ev_connected_post_session(timestamp=at(t0, 2 * CLOCK + 2))
        readings = [
            mv201(at(t0, CLOCK), 11.5, context=context, signed=signed),
            mv201(at(t0, 2 * CLOCK), 13.0, context=context, signed=signed),
            mv201(
                at(t0, 2 * CLOCK + 5), 13.25, context="Transaction.End", signed=signed
            ),
        ]
        ended = await tx.ev_disconnected(
            timestamp=at(t0, 2 * CLOCK + 5), meter_value=readings
        )
        record = await api_transaction(api, station_id, tx.transaction_id)
        values = await api_meter_values(api, record["id"])
    assert ended.payload == {}  # no tariff, no totalCost
    assert [(v["timestamp"], v["context"], v["value"]) for v in values] == [
        (_api(at(t0)), "Transaction.Begin", 10000),
        (_api(at(t0, CLOCK)), context, 11500),
        (_api(at(t0, 2 * CLOCK)), context, 13000),
        (_api(at(t0, 2 * CLOCK + 5)), "Transaction.End", 13250),
    ]
    assert (record["status"], record["meter_start"], record["meter_stop"]) == (
        "completed",
        10000,
        13250,
    )
    assert record["energy_wh"] == 3250
    return values


async def test_tc_j_03_clock_aligned_meter_values_event_type_ended(live):
    values = await _ended_with_readings(live, "TCJ03", "Sample.Clock", signed=False)
    assert {v["signed_data"] for v in values} == {None}


async def test_tc_j_04_clock_aligned_meter_values_signed(live):
    values = await _ended_with_readings(live, "TCJ04", "Sample.Clock", signed=True)
    assert [v["signed_data"] for v in values[1:]] == [
        signed_meter_value(reading) for reading in ("11.5", "13.0", "13.25")
    ]
    assert [v["raw_value"] for v in values[1:]] == ["11.5", "13.0", "13.25"]


async def test_tc_j_07_sampled_meter_values_event_type_started_evse_known(live):
    async with commanding(live, "TCJ07", "2.0.1") as (station, api):
        tx = Tx201(station, "TCJ07-TX", id_token=VALID)
        t0 = _clock_start()
        # 1: EVConnectedPreSession starts the transaction, with its start value
        started = await tx.ev_connected_pre_session(
            timestamp=at(t0),
            meter_value=[mv201(at(t0), 42.0, context="Transaction.Begin")],
        )
        record, values = await _values(api, "TCJ07", tx)
    assert started.payload == {}
    assert values == [(_api(at(t0)), "Transaction.Begin", ENERGY, 42000, "Wh")]
    assert (record["evse_id"], record["meter_start"], record["status"]) == (
        1,
        42000,
        "active",
    )


async def test_tc_j_08_sampled_meter_values_transaction_begin_evse_not_known(live):
    async with commanding(live, "TCJ08", "2.0.1") as (station, api):
        await sync_to_async(register)("TCJ08", VALID)
        tx = Tx201(station, "TCJ08-TX", id_token=VALID)
        t0 = _clock_start()
        # 1: Authorized, before the EVSE is known
        _authorize, authorized = await tx.authorized(evse=False, timestamp=at(t0))
        # 2: EVConnectedPreSession, with the start value
        plugged = await tx.ev_connected_pre_session(
            timestamp=at(t0, 1),
            meter_value=[mv201(at(t0, 1), 42.0, context="Transaction.Begin")],
        )
        # 3: EnergyTransferStarted
        charging = await tx.energy_transfer_started(timestamp=at(t0, 2))
        record, values = await _values(api, "TCJ08", tx)
    assert authorized.payload == {"idTokenInfo": {"status": "Accepted"}}
    assert [plugged.payload, charging.payload] == [{}, {}]
    assert values == [(_api(at(t0, 1)), "Transaction.Begin", ENERGY, 42000, "Wh")]
    assert (record["evse_id"], record["connector_id"], record["meter_start"]) == (
        1,
        1,
        42000,
    )


async def test_tc_j_09_sampled_meter_values_event_type_updated(live):
    async with commanding(live, "TCJ09", "2.0.1") as (station, api):
        t0 = _clock_start()
        tx = await _charging(station, "TCJ09", t0)
        # 1-2: every sampled interval (5 minutes), three times
        answers = [
            (
                await tx.event(
                    "MeterValuePeriodic",
                    timestamp=at(t0, 5 * n),
                    meter_value=[mv201(at(t0, 5 * n), 1.0 + n / 2, kw=11.0)],
                )
            ).payload
            for n in (1, 2, 3)
        ]
        record, values = await _values(api, "TCJ09", tx)
    assert answers == [{}, {}, {}]
    assert values == [
        row
        for n in (1, 2, 3)
        for row in (
            (_api(at(t0, 5 * n)), "Sample.Periodic", ENERGY, 1000 + 500 * n, "Wh"),
            (_api(at(t0, 5 * n)), "Sample.Periodic", POWER, 11000, "W"),
        )
    ]
    assert (record["last_meter_wh"], record["last_meter_at"]) == (
        2500,
        _api(at(t0, 15)),
    )


async def test_tc_j_10_sampled_meter_values_event_type_ended(live):
    values = await _ended_with_readings(live, "TCJ10", "Sample.Periodic", signed=False)
    assert {v["signed_data"] for v in values} == {None}


async def test_tc_j_11_sampled_meter_values_signed(live):
    values = await _ended_with_readings(live, "TCJ11", "Sample.Periodic", signed=True)
    assert [v["signed_data"] for v in values[1:]] == [
        signed_meter_value(reading) for reading in ("11.5", "13.0", "13.25")
    ]
