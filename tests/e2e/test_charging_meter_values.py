"""Meter values end to end, 1.6 and 2.0.1: every kind a station sends is kept.

Values are stored in base units (kWh -> Wh, kW -> W, x 10^multiplier), with
the station's raw value and unit beside them, their measurand, phase,
location, context and signature (1.6 §7.31 SampledValue; 2.0.1
SampledValueType, UnitOfMeasureType, SignedMeterValueType).
"""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from apps.transactions.models import MeterValue
from tests.e2e.charging import (
    at,
    get_json,
    meter_values_of,
    mv201,
    ocpp,
    only_transaction,
    session_start,
    start16,
    tag,
    tenant,
)
from tests.e2e.command_helpers import api_client, connect_station
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"idToken": "CARD-201", "type": "ISO14443"}


def _row(v: dict) -> str:
    """A stored value as: what, where, when; the value in its base unit <- as
    the station sent it ("-": none, "x10^n": its multiplier)."""
    scale = f" x10^{v['multiplier']}" if v["multiplier"] else ""
    return (
        f"{v['measurand']} {v['phase'] or '-'} {v['location']} {v['context']}: "
        f"{v['value']} {v['unit']} <- {v['raw_value']} {v['raw_unit'] or '-'}{scale}"
    )


async def test_16_every_measurand_phase_unit_and_location_is_kept(live):
    # given
    mine = await tenant("volt", "CP16-MV")
    await tag(mine, "CARD-16")
    station = await connect_station(live.ws_url, "CP16-MV", "1.6")
    t0 = session_start()
    start = await ocpp(station, "StartTransaction", start16(t0))
    tx_id = start.payload["transactionId"]

    def sampled(value, measurand, **fields):
        return {"value": value, "measurand": measurand, **fields}

    # when: one reading of many kinds (1.6 §7.31 SampledValue)
    answer = await ocpp(
        station,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [
                {
                    "timestamp": at(t0, 5),
                    "sampledValue": [
                        {"value": "12345"},  # all defaults: Energy register, Wh
                        sampled("16.1", "Current.Import", phase="L1", unit="A"),
                        sampled("15.9", "Current.Import", phase="L2", unit="A"),
                        sampled("230.4", "Voltage", phase="L1-N", unit="V"),
                        sampled("11.04", "Power.Active.Import", unit="kW"),
                        sampled("0.5", "Energy.Reactive.Import.Register", unit="kvarh"),
                        sampled("41", "SoC", location="EV", unit="Percent"),
                        sampled("31.5", "Temperature", location="Body", unit="Celcius"),
                        sampled(
                            "AB12CD",
                            "Energy.Active.Import.Register",
                            format="SignedData",
                            context="Sample.Clock",
                        ),
                    ],
                }
            ],
        },
    )
    await station.close()

    # then: values in base units, the station's raw value and unit beside them
    assert answer.payload == {}
    async with api_client(live.http_url, mine.jwt) as api:
        values = await get_json(api, f"/api/v1/transactions/{tx_id}/meter-values/")
    assert [_row(v) for v in values["results"]] == [
        "Energy.Active.Import.Register - Outlet Sample.Periodic: 12345.0 Wh <- 12345 -",
        "Current.Import L1 Outlet Sample.Periodic: 16.1 A <- 16.1 A",
        "Current.Import L2 Outlet Sample.Periodic: 15.9 A <- 15.9 A",
        "Voltage L1-N Outlet Sample.Periodic: 230.4 V <- 230.4 V",
        "Power.Active.Import - Outlet Sample.Periodic: 11040.0 W <- 11.04 kW",
        "Energy.Reactive.Import.Register - Outlet Sample.Periodic: 500.0 varh "
        "<- 0.5 kvarh",
        "SoC - EV Sample.Periodic: 41.0 Percent <- 41 Percent",
        "Temperature - Body Sample.Periodic: 31.5 Celsius <- 31.5 Celcius",
        "Energy.Active.Import.Register - Outlet Sample.Clock: None Wh <- AB12CD -",
    ]
    assert values["results"][-1]["format"] == "SignedData"
    assert values["results"][-1]["signed_data"] == {"signedMeterData": "AB12CD"}


async def test_201_every_measurand_phase_unit_and_location_is_kept(live):
    # given
    mine = await tenant("watt", "CP201-MV")
    await tag(mine, "CARD-201")
    station = await connect_station(live.ws_url, "CP201-MV", "2.0.1")
    tx = Tx201(station, "MV-1", id_token=CARD)
    t0 = session_start()

    def sampled(value, measurand, unit=None, multiplier=None, **fields):
        value_of = {"value": value, "measurand": measurand, **fields}
        if unit is not None:
            value_of["unitOfMeasure"] = {"unit": unit}
            if multiplier is not None:
                value_of["unitOfMeasure"]["multiplier"] = multiplier
        return value_of

    # when: one reading of many kinds (2.0.1 SampledValueType, UnitOfMeasureType)
    answer = await tx.event(
        "Authorized",
        timestamp=at(t0),
        id_token=True,
        meter_value=[
            {
                "timestamp": at(t0),
                "sampledValue": [
                    {"value": 7.5, "context": "Transaction.Begin"},  # Wh default
                    sampled(
                        12.3,
                        "Energy.Active.Import.Register",
                        "Wh",
                        3,
                        phase="L1",
                        context="Transaction.Begin",
                    ),
                    sampled(16, "Current.Import", "A", phase="L3"),
                    sampled(7.2, "Power.Active.Import", "kW"),
                    sampled(-1.5, "Power.Reactive.Import", "kvar"),
                    sampled(0.98, "Power.Factor"),
                    sampled(50.01, "Frequency"),
                    sampled(80, "SoC", "Percent", location="EV"),
                    sampled(
                        12.3,
                        "Energy.Active.Import.Register",
                        "kWh",
                        context="Sample.Clock",
                        signedMeterValue={
                            "signedMeterData": "AB12",
                            "signingMethod": "ECDSA-secp256r1-SHA256",
                            "encodingMethod": "OCMF",
                            "publicKey": "MFkw",
                        },
                    ),
                ],
            }
        ],
    )
    await station.close()

    # then
    assert answer.payload == {"idTokenInfo": {"status": "Accepted"}}
    detail = await only_transaction(live, mine, "CP201-MV")
    values = await meter_values_of(live, mine, detail["id"])
    assert [_row(v) for v in values] == [
        "Energy.Active.Import.Register - Outlet Transaction.Begin: 7.5 Wh <- 7.5 -",
        "Energy.Active.Import.Register L1 Outlet Transaction.Begin: 12300.0 Wh "
        "<- 12.3 Wh x10^3",
        "Current.Import L3 Outlet Sample.Periodic: 16.0 A <- 16 A",
        "Power.Active.Import - Outlet Sample.Periodic: 7200.0 W <- 7.2 kW",
        "Power.Reactive.Import - Outlet Sample.Periodic: -1500.0 var <- -1.5 kvar",
        "Power.Factor - Outlet Sample.Periodic: 0.98  <- 0.98 -",
        "Frequency - Outlet Sample.Periodic: 50.01 Hz <- 50.01 -",
        "SoC - EV Sample.Periodic: 80.0 Percent <- 80 Percent",
        "Energy.Active.Import.Register - Outlet Sample.Clock: 12300.0 Wh <- 12.3 kWh",
    ]
    assert values[-1]["signed_data"] == {
        "signedMeterData": "AB12",
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": "MFkw",
    }
    # the session's meter is the all-phases register, the Transaction.Begin one
    assert detail["meter_start"] == 7.5


async def test_201_meter_values_outside_a_transaction_are_kept_in_wh(live):
    # given
    await tenant("watt", "CP201-MAIN")
    station = await connect_station(live.ws_url, "CP201-MAIN", "2.0.1")
    t0 = session_start()

    # when: the station's main meter (EVSE 0), clock-aligned, in kWh
    answer = await ocpp(
        station,
        "MeterValues",
        {"evseId": 0, "meterValue": [mv201(at(t0), 1234.5, context="Sample.Clock")]},
    )
    await station.close()

    # then
    assert answer.payload == {}
    rows = await sync_to_async(
        lambda: list(
            MeterValue.objects.filter(charge_point_id="CP201-MAIN").values_list(
                "transaction_id", "evse_id", "context", "value", "unit", "raw_value"
            )
        )
    )()
    assert rows == [(None, 0, "Sample.Clock", Decimal(1234500), "Wh", "1234.5")]
