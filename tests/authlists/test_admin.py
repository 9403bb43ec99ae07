"""Admin: the station action that pushes local lists; lists and groups."""

import pytest
from django.contrib.messages import get_messages

from apps.authlists.models import LocalAuthList
from apps.chargepoints.models import StationGroup
from apps.ocpp.local_list import LocalListPush
from csms.errors import Conflict
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory

pytestmark = pytest.mark.django_db

STATIONS = "/admin/chargepoints/chargepoint/"


def _action(stations, **extra) -> dict:
    return {
        "action": "push_local_list",
        "_selected_action": [s.pk for s in stations],
        **extra,
    }


def test_push_asks_for_confirmation_then_shows_each_answer(make_actor, monkeypatch):
    operator = make_actor("operator", via="admin")
    online = ChargePointFactory(organization=operator.organization, online=True)
    offline = ChargePointFactory(organization=operator.organization)

    def push(station_id, *, requested_by):
        if station_id == offline.pk:
            raise Conflict(f"Station {station_id} is offline.")
        return LocalListPush("Accepted", "Differential", 4, 3, 1)

    monkeypatch.setattr("apps.authlists.admin.local_list_push", push)

    confirm = operator.client.post(STATIONS, _action([online, offline]))
    done = operator.client.post(
        STATIONS, _action([online, offline], post="yes"), follow=True
    )

    assert "Push local authorization list" in confirm.content.decode()
    texts = sorted(m.message for m in get_messages(done.wsgi_request))
    assert texts == [
        f"{online.pk}: Accepted (Differential update to version 4, 1 message(s)).",
        f"{offline.pk}: Station {offline.pk} is offline.",
    ]


def test_viewers_do_not_get_the_action(make_actor):
    viewer = make_actor("viewer", via="admin")
    ChargePointFactory(organization=viewer.organization)

    response = viewer.client.get(STATIONS)

    assert "push_local_list" not in response.content.decode()


def test_station_page_shows_the_local_list_state(make_actor):
    viewer = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=viewer.organization)
    IdTagFactory(organization=viewer.organization)

    html = viewer.client.get(f"{STATIONS}{station.pk}/change/").content.decode()

    assert "Default v1 (1 id tags); the station holds v0: not up to date" in html


def test_a_list_refuses_id_tags_of_another_organization(admin_client):
    station = ChargePointFactory()
    foreign = IdTagFactory()

    response = admin_client.post(
        "/admin/authlists/localauthlist/add/",
        {
            "organization": station.organization_id,
            "name": "Depot",
            "all_id_tags": "",
            "id_tags": [foreign.pk],
        },
    )

    assert response.status_code == 200
    assert "Not of" in response.content.decode()
    assert not LocalAuthList.objects.exists()


def test_a_group_refuses_stations_of_another_organization(admin_client):
    own = ChargePointFactory()
    foreign = ChargePointFactory()

    response = admin_client.post(
        "/admin/chargepoints/stationgroup/add/",
        {
            "organization": own.organization_id,
            "name": "Depot",
            "charge_points": [own.pk, foreign.pk],
        },
    )

    assert response.status_code == 200
    assert f"Not of {own.organization}: {foreign.pk}." in response.content.decode()
    assert not StationGroup.objects.exists()
