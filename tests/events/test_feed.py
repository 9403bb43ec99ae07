"""The operator event feed /ws/events/: each organization hears only its own."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from apps.events.consumers import EventsConsumer
from apps.transactions.services.start import transaction_start
from apps.transactions.services.stop import transaction_stop_reported
from tests.factories import ChargePointFactory, MembershipFactory, UserFactory
from tests.transactions.factories import IdTagFactory, TariffFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections"),
]

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _setup():
    """Two organizations, each with a station, a card, a tariff; a user of the first."""
    stations = []
    for name in ("CP-MINE", "CP-THEIRS"):
        station = ChargePointFactory(id=name)
        IdTagFactory(organization=station.organization, id_tag="CARD")
        TariffFactory(organization=station.organization, price_per_kwh=Decimal("0.50"))
        stations.append(station)
    user = UserFactory()
    MembershipFactory(user=user, organization=stations[0].organization, role="viewer")
    return stations, str(AccessToken.for_user(user))


def _session(station_id: str) -> None:
    started = transaction_start(
        charge_point_id=station_id,
        connector_id=1,
        id_tag="CARD",
        meter_start=1000,
        timestamp=T0,
    )
    transaction_stop_reported(
        charge_point_id=station_id,
        transaction_id=str(started.transaction_id),
        stopped_at=T0.replace(hour=9),
        meter_stop=Decimal(5000),
    )


def _feed(query: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(EventsConsumer.as_asgi(), f"/ws/events/{query}")


async def test_a_user_receives_the_sessions_of_their_organization_only():
    # given
    (mine, theirs), token = await sync_to_async(_setup)()
    communicator = _feed(f"?token={token}")
    connected, _ = await communicator.connect()
    assert connected

    # when: a session on each organization's station
    await sync_to_async(_session)(theirs.pk)
    await sync_to_async(_session)(mine.pk)

    # then: over Redis the publisher does not keep the order of events of one
    # commit, so they are compared by type
    received = [await communicator.receive_json_from(timeout=2) for _ in range(3)]
    by_type = {event["type"]: event for event in received}
    assert sorted(by_type) == [
        "transaction.billed",
        "transaction.started",
        "transaction.stopped",
    ]
    assert {e["organization"] for e in received} == {mine.organization_id}
    assert {e["data"]["charge_point"] for e in received} == {"CP-MINE"}
    started = by_type["transaction.started"]["data"]
    stopped = by_type["transaction.stopped"]["data"]
    billed = by_type["transaction.billed"]["data"]
    assert (started["id_tag"], started["meter_start"]) == ("CARD", 1000)
    assert (stopped["energy_wh"], stopped["stop_reason"]) == (4000, "Local")
    assert (billed["cost"], billed["currency"]) == ("2.00", "EUR")
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_without_a_valid_token_the_feed_refuses():
    communicator = _feed("?token=not-a-jwt")

    connected, code = await communicator.connect()

    assert (connected, code) == (False, 4401)
    await communicator.disconnect()  # end the consumer (its channel-layer read)


async def test_two_organizations_each_hear_their_own_session():
    # given
    (mine, theirs), token = await sync_to_async(_setup)()
    other_user = await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(
        user=other_user, organization=theirs.organization, role="owner"
    )
    feeds = [
        _feed(f"?token={token}"),
        _feed(f"?token={AccessToken.for_user(other_user)}"),
    ]
    for feed in feeds:
        assert (await feed.connect())[0]

    # when
    await sync_to_async(_session)(mine.pk)
    await sync_to_async(_session)(theirs.pk)

    # then
    heard = await asyncio.gather(
        *(
            asyncio.gather(*(feed.receive_json_from(timeout=2) for _ in range(3)))
            for feed in feeds
        )
    )
    assert [{e["data"]["charge_point"] for e in events} for events in heard] == [
        {"CP-MINE"},
        {"CP-THEIRS"},
    ]
    for feed in feeds:
        assert await feed.receive_nothing(timeout=0.2)
        await feed.disconnect()
