"""The local-list endpoint: the station's version next to its list's."""

import pytest

from apps.ocpp.local_list import LocalListPush
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory

pytestmark = pytest.mark.django_db


def _url(station) -> str:
    return f"/api/v1/charge-points/{station.pk}/local-list/"


def test_status_compares_the_station_with_its_list(make_actor):
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization)
    IdTagFactory(organization=viewer.organization)

    response = viewer.client.get(_url(station))

    assert response.status_code == 200
    body = response.json()
    assert body["local_list"]["name"] == "Default"
    assert (body["current_version"], body["entries"]) == (1, 1)
    assert (body["station_version"], body["reported_version"]) == (0, None)
    assert body["up_to_date"] is False


def test_push_answers_with_the_station_status(make_actor, monkeypatch):
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, online=True)
    pushed = []

    def push(station_id, *, update_type, requested_by):
        pushed.append((station_id, update_type, requested_by))
        return LocalListPush("Accepted", "Full", 3, 0, 1, {"status": "Accepted"})

    monkeypatch.setattr("apps.authlists.views.local_list_push", push)

    response = operator.client.post(
        _url(station), {"update_type": "Full"}, format="json"
    )

    assert response.json() == {
        "status": "Accepted",
        "response": {"status": "Accepted"},
        "update_type": "Full",
        "version": 3,
        "station_version": 0,
        "messages": 1,
    }
    assert pushed == [(station.pk, "Full", f"user:{operator.user.username}")]


def test_an_unknown_update_type_is_invalid(make_actor):
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, online=True)

    response = operator.client.post(
        _url(station), {"update_type": "Half"}, format="json"
    )

    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)  # send_command's thread shares the DB
def test_pushing_to_an_offline_station_is_a_conflict(make_actor):
    operator = make_actor("operator", via="api_key")
    station = ChargePointFactory(organization=operator.organization)

    response = operator.client.post(_url(station), {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "station_offline"


def test_other_tenants_and_viewers(make_actor):
    viewer = make_actor("viewer")
    own = ChargePointFactory(organization=viewer.organization, online=True)
    foreign = ChargePointFactory(online=True)

    assert viewer.client.get(_url(foreign)).status_code == 404
    assert viewer.client.post(_url(own), {}, format="json").status_code == 403
    assert viewer.client.get(_url(own), {"refresh": "1"}).status_code == 403
