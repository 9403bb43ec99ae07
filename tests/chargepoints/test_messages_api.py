from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ChargePointFactory, MessageLogFactory

pytestmark = pytest.mark.django_db


def url(station_id: str) -> str:
    return f"/api/v1/charge-points/{station_id}/messages/"


def test_messages_are_listed_newest_first_with_parsed_frames(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization)
    now = timezone.now()
    older = MessageLogFactory(
        charge_point=station, created_at=now - timedelta(seconds=5), unique_id="u1"
    )
    newer = MessageLogFactory(
        charge_point=station,
        direction="out",
        message_type=3,
        unique_id="u1",
        action="",
        frame='[3, "u1", {"currentTime": "2025-01-01T00:00:00Z"}]',
        created_at=now,
    )
    MessageLogFactory(created_at=now)  # another station's

    # when
    response = actor.client.get(url(station.id))

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [m["id"] for m in body["results"]] == [newer.id, older.id]
    assert body["results"][0] == {
        "id": newer.id,
        "direction": "out",
        "message_type": 3,
        "unique_id": "u1",
        "action": "",
        "frame": [3, "u1", {"currentTime": "2025-01-01T00:00:00Z"}],
        "created_at": now.isoformat().replace("+00:00", "Z"),
    }
    assert body["results"][1]["frame"] == [2, "u1", "Heartbeat", {}]


def test_unparseable_frame_is_returned_as_text(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization)
    MessageLogFactory(charge_point=station, frame="[2, broken", message_type=None)

    # when
    response = actor.client.get(url(station.id))

    # then
    assert response.json()["results"][0]["frame"] == "[2, broken"


def test_messages_filter_by_direction_and_action(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization)
    boot = MessageLogFactory(charge_point=station, action="BootNotification")
    MessageLogFactory(charge_point=station, action="Heartbeat")
    reset = MessageLogFactory(charge_point=station, direction="out", action="Reset")

    # when
    incoming_boots = actor.client.get(
        url(station.id), {"direction": "in", "action": "BootNotification"}
    )
    outgoing = actor.client.get(url(station.id), {"direction": "out"})

    # then
    assert [m["id"] for m in incoming_boots.json()["results"]] == [boot.id]
    assert [m["id"] for m in outgoing.json()["results"]] == [reset.id]


def test_invalid_direction_filter_is_400(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(url(station.id), {"direction": "sideways"})

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["direction"]


def test_messages_are_paginated(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization)
    for _ in range(3):
        MessageLogFactory(charge_point=station)

    # when
    response = actor.client.get(url(station.id), {"page_size": 2})

    # then
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None


def test_messages_of_unknown_station_are_404(make_actor):
    # given
    actor = make_actor("viewer")

    # when
    response = actor.client.get(url("NOPE"))

    # then
    assert response.status_code == 404


def test_messages_need_authentication(api_client):
    # given
    station = ChargePointFactory()

    # when
    response = api_client.get(url(station.id))

    # then
    assert response.status_code == 401
