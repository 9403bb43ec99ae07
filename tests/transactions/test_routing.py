"""The handlers composed the way the edge will compose them, through its Router.

Requests and answers are validated against each version's schemas by the
Router itself, exactly as for a connected station.
"""

from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async

from apps.ocpp.router import Router
from apps.ocpp.v16.handlers import V16Handlers
from apps.ocpp.v16.handlers.transactions import TransactionHandlers as V16Tx
from apps.ocpp.v21.handlers import V21Handlers
from apps.ocpp.v201.handlers import V201Handlers
from apps.ocpp.v201.handlers.transactions import TransactionHandlers as V201Tx
from apps.ocpp.versions import V16, V21, V201
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("group_commit", "thread_connections"),
]


@dataclass
class FakeSession:
    charge_point_id: str
    organization_id: int
    ocpp_version: str
    accepted: bool = True  # BootNotification answered Accepted


def _station(station_id: str, version: str) -> FakeSession:
    station = ChargePointFactory(id=station_id, ocpp_version=version)
    IdTagFactory(organization=station.organization, id_tag="CARD1")
    return FakeSession(station.pk, station.organization_id, version)


def router(version, *bases) -> Router:
    return Router(version, type("Composed", bases, {})())


async def test_16_actions_route_to_the_transaction_handlers():
    session = await sync_to_async(_station)("CP-R16", "1.6")
    edge = router(V16, V16Handlers, V16Tx)

    started = await edge.dispatch(
        session,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "CARD1",
            "meterStart": 0,
            "timestamp": "2025-03-01T08:00:00Z",
        },
    )
    stopped = await edge.dispatch(
        session,
        "StopTransaction",
        {
            "transactionId": started["transactionId"],
            "meterStop": 1000,
            "timestamp": "2025-03-01T09:00:00Z",
        },
    )

    assert set(edge.routes) >= {
        "Authorize",
        "StartTransaction",
        "StopTransaction",
        "MeterValues",
    }
    assert started["idTagInfo"] == {"status": "Accepted"}
    assert stopped == {}


@pytest.mark.parametrize(
    ("version", "base"),
    [(V201, V201Handlers), (V21, V21Handlers)],
    ids=["2.0.1", "2.1"],
)
async def test_2x_transaction_event_routes_and_answers_in_schema(version, base):
    session = await sync_to_async(_station)(f"CS-R{version.number}", version.number)
    edge = router(version, base, V201Tx)
    token = {"idToken": "CARD1", "type": "ISO14443"}

    authorized = await edge.dispatch(session, "Authorize", {"idToken": token})
    ended = await edge.dispatch(
        session,
        "TransactionEvent",
        {
            "eventType": "Ended",
            "timestamp": "2025-03-01T09:00:00Z",
            "triggerReason": "StopAuthorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "T1", "stoppedReason": "Local"},
            "idToken": token,
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": "2025-03-01T09:00:00Z",
                    "sampledValue": [{"value": 1234.5, "context": "Transaction.End"}],
                }
            ],
        },
    )
    values = await edge.dispatch(
        session,
        "MeterValues",
        {
            "evseId": 0,
            "meterValue": [
                {"timestamp": "2025-03-01T09:00:00Z", "sampledValue": [{"value": 1.0}]}
            ],
        },
    )

    assert authorized == {"idTokenInfo": {"status": "Accepted"}}
    assert ended == {"idTokenInfo": {"status": "Accepted"}}
    assert values == {}
