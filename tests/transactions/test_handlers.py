"""The OCPP handlers, called directly with a fake session (no WebSocket).

They go through the real group-commit thread (``run_db``), so these tests use
a committed database. Every answer is checked against the version's schema.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.messages import get_validator

from apps.ocpp.v16.handlers.transactions import TransactionHandlers as V16
from apps.ocpp.v201.handlers.transactions import TransactionHandlers as V201
from apps.transactions.models import MeterValue, Transaction
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory, TariffFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("group_commit", "thread_connections"),
]


@dataclass
class FakeSession:
    charge_point_id: str
    organization_id: int
    ocpp_version: str


async def make(factory, **fields):
    return await sync_to_async(factory)(**fields)


def answer(version: str, action: str, response: dict) -> dict:
    get_validator(3, action, version).validate(response)
    return response


def session_for(station) -> FakeSession:
    return FakeSession(station.pk, station.organization_id, station.ocpp_version)


def sampled(timestamp: str, value: str, **fields) -> dict:
    return {"timestamp": timestamp, "sampledValue": [{"value": value, **fields}]}


async def test_v16_authorize_answers_id_tag_info():
    # given
    station = await make(ChargePointFactory, id="CP16-H")
    await make(
        IdTagFactory,
        organization=station.organization,
        id_tag="CARD1",
        parent_id_tag="FAMILY",
    )
    handlers, session = V16(), session_for(station)

    # when
    known = await handlers.on_authorize(session, {"idTag": "CARD1"})
    unknown = await handlers.on_authorize(session, {"idTag": "NOBODY"})

    # then
    assert answer("1.6", "Authorize", known) == {
        "idTagInfo": {"status": "Accepted", "parentIdTag": "FAMILY"}
    }
    assert answer("1.6", "Authorize", unknown) == {"idTagInfo": {"status": "Invalid"}}


async def test_v16_session_start_meter_values_stop():
    # given
    station = await make(ChargePointFactory, id="CP16-S")
    await make(IdTagFactory, organization=station.organization, id_tag="CARD1")
    await make(
        TariffFactory, organization=station.organization, price_per_kwh=Decimal("0.50")
    )
    handlers, session = V16(), session_for(station)
    start = {
        "connectorId": 1,
        "idTag": "CARD1",
        "meterStart": 2000,
        "timestamp": "2025-03-01T08:00:00Z",
    }

    # when
    started = await handlers.on_start_transaction(session, start)
    repeated = await handlers.on_start_transaction(session, start)
    tx_id = started["transactionId"]
    values = []
    for minute, kwh in enumerate(("3.000", "4.500", "6.000", "7.250", "8.000"), 1):
        values.append(
            await handlers.on_meter_values(
                session,
                {
                    "connectorId": 1,
                    "transactionId": tx_id,
                    "meterValue": [
                        {
                            "timestamp": f"2025-03-01T08:{minute * 10:02d}:00Z",
                            "sampledValue": [
                                {
                                    "value": kwh,
                                    "unit": "kWh",
                                    "measurand": "Energy.Active.Import.Register",
                                },
                                {
                                    "value": "7.4",
                                    "unit": "kW",
                                    "measurand": "Power.Active.Import",
                                },
                            ],
                        }
                    ],
                },
            )
        )
    stopped = await handlers.on_stop_transaction(
        session,
        {
            "transactionId": tx_id,
            "idTag": "CARD1",
            "meterStop": 9000,
            "timestamp": "2025-03-01T09:00:00Z",
            "reason": "Local",
            "transactionData": [sampled("2025-03-01T09:00:00Z", "9000")],
        },
    )

    # then
    assert answer("1.6", "StartTransaction", started) == {
        "transactionId": tx_id,
        "idTagInfo": {"status": "Accepted"},
    }
    assert repeated == started
    assert values == [answer("1.6", "MeterValues", {})] * 5
    assert answer("1.6", "StopTransaction", stopped) == {
        "idTagInfo": {"status": "Accepted"}
    }
    tx = await Transaction.objects.select_related("billing").aget(pk=tx_id)
    assert (tx.energy_wh, tx.billing.total) == (Decimal(7000), Decimal("3.50"))
    assert await MeterValue.objects.filter(transaction=tx).acount() == 11


async def test_v16_stop_of_unknown_transaction_is_answered():
    station = await make(ChargePointFactory, id="CP16-U")

    response = await V16().on_stop_transaction(
        session_for(station),
        {"transactionId": 555, "meterStop": 1, "timestamp": "2025-03-01T09:00:00Z"},
    )

    assert answer("1.6", "StopTransaction", response) == {}


async def test_v201_authorize_answers_id_token_info_with_group():
    # TC_C_39 step 2: groupIdToken in the AuthorizeResponse
    station = await make(ChargePointFactory, id="CS201-A", ocpp_version="2.0.1")
    await make(
        IdTagFactory,
        organization=station.organization,
        id_tag="CARD2",
        parent_id_tag="GROUP1",
        expiry_date="2030-01-01T00:00:00Z",
    )

    response = await V201().on_authorize(
        session_for(station), {"idToken": {"idToken": "CARD2", "type": "ISO14443"}}
    )

    assert answer("2.0.1", "Authorize", response) == {
        "idTokenInfo": {
            "status": "Accepted",
            "cacheExpiryDateTime": "2030-01-01T00:00:00.000Z",
            "groupIdToken": {"idToken": "GROUP1", "type": "Central"},
        }
    }


async def test_v201_transaction_events_and_meter_values():
    # given
    station = await make(ChargePointFactory, id="CS201-T", ocpp_version="2.0.1")
    await make(IdTagFactory, organization=station.organization, id_tag="RFID1")
    await make(
        TariffFactory, organization=station.organization, price_per_kwh=Decimal("0.40")
    )
    handlers, session = V201(), session_for(station)

    def tx_event(event_type, seq_no, minute, trigger, **extra):
        info = {"transactionId": "TX-201", **extra.pop("info", {})}
        return {
            "eventType": event_type,
            "timestamp": f"2025-03-01T08:{minute:02d}:00Z",
            "triggerReason": trigger,
            "seqNo": seq_no,
            "transactionInfo": info,
            **extra,
        }

    def energy(minute, wh, context="Sample.Periodic"):
        return [
            {
                "timestamp": f"2025-03-01T08:{minute:02d}:00Z",
                "sampledValue": [
                    {
                        "value": wh,
                        "context": context,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "kWh"},
                    }
                ],
            }
        ]

    # when
    started = await handlers.on_transaction_event(
        session,
        tx_event(
            "Started",
            0,
            0,
            "Authorized",
            idToken={"idToken": "RFID1", "type": "ISO14443"},
            evse={"id": 1, "connectorId": 1},
            info={"chargingState": "Charging"},
            meterValue=energy(0, 1.0, "Transaction.Begin"),
        ),
    )
    updates = [
        await handlers.on_transaction_event(
            session,
            tx_event(
                "Updated",
                n,
                n * 10,
                "MeterValuePeriodic",
                meterValue=energy(n * 10, wh),
            ),
        )
        for n, wh in ((1, 2.5), (2, 4.0), (3, 5.5))
    ]
    clock = await handlers.on_meter_values(
        session, {"evseId": 0, "meterValue": energy(30, 100.0, "Sample.Clock")}
    )
    ended = await handlers.on_transaction_event(
        session,
        tx_event(
            "Ended",
            4,
            40,
            "EVCommunicationLost",
            info={"chargingState": "Idle", "stoppedReason": "EVDisconnected"},
            meterValue=energy(40, 6.0, "Transaction.End"),
        ),
    )

    # then
    assert answer("2.0.1", "TransactionEvent", started) == {
        "idTokenInfo": {"status": "Accepted"}
    }
    assert updates == [{}, {}, {}]
    assert answer("2.0.1", "MeterValues", clock) == {}
    assert answer("2.0.1", "TransactionEvent", ended) == {"totalCost": 2.0}
    tx = await Transaction.objects.aget(transaction_id="TX-201")
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh, tx.stop_reason) == (
        Decimal(1000),
        Decimal(6000),
        Decimal(5000),
        "EVDisconnected",
    )
    assert await MeterValue.objects.filter(transaction=None, evse_id=0).acount() == 1


async def test_v21_uses_the_same_handlers_with_2_1_schemas():
    station = await make(ChargePointFactory, id="CS21", ocpp_version="2.1")
    await make(IdTagFactory, organization=station.organization, id_tag="RFID21")

    response = await V201().on_authorize(
        session_for(station), {"idToken": {"idToken": "RFID21", "type": "ISO14443"}}
    )

    assert answer("2.1", "Authorize", response) == {
        "idTokenInfo": {"status": "Accepted"}
    }
