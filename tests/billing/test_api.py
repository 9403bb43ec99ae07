"""API: /api/v1/tariffs/."""

import pytest

from apps.billing.models import StationTariff, Tariff
from tests.factories import ChargePointFactory
from tests.transactions.factories import TariffFactory

pytestmark = pytest.mark.django_db


def test_create_a_tariff_with_bands_and_stations(make_actor):
    # given
    actor = make_actor("operator")
    station = ChargePointFactory(organization=actor.organization, id="CP-T")

    # when
    response = actor.client.post(
        "/api/v1/tariffs/",
        {
            "name": "Standard",
            "currency": "EUR",
            "price_per_kwh": "0.3900",
            "price_per_minute": "0.0200",
            "session_fee": "1.00",
            "idle_fee_per_minute": "0.1000",
            "idle_grace_minutes": 15,
            "timezone": "Europe/Berlin",
            "bands": [
                {
                    "name": "night",
                    "start_time": "22:00:00",
                    "end_time": "06:00:00",
                    "price_per_kwh": "0.2900",
                }
            ],
            "charge_points": ["CP-T"],
        },
        format="json",
    )

    # then
    assert response.status_code == 201, response.json()
    tariff = Tariff.objects.get()
    assert response.json() == {
        "id": tariff.pk,
        "organization": actor.organization.pk,
        "name": "Standard",
        "currency": "EUR",
        "price_per_kwh": "0.3900",
        "price_per_minute": "0.0200",
        "session_fee": "1.00",
        "idle_fee_per_minute": "0.1000",
        "idle_grace_minutes": 15,
        "timezone": "Europe/Berlin",
        "is_default": False,
        "bands": [
            {
                "name": "night",
                "start_time": "22:00:00",
                "end_time": "06:00:00",
                "price_per_kwh": "0.2900",
                "price_per_minute": None,
            }
        ],
        "charge_points": ["CP-T"],
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }
    assert StationTariff.objects.get().charge_point == station


def test_patch_makes_a_tariff_the_default(make_actor):
    actor = make_actor("operator")
    old = TariffFactory(organization=actor.organization, is_default=True)
    new = TariffFactory(organization=actor.organization, is_default=False)

    response = actor.client.patch(
        f"/api/v1/tariffs/{new.pk}/", {"is_default": True}, format="json"
    )

    assert response.status_code == 200
    old.refresh_from_db()
    assert (old.is_default, response.json()["is_default"]) == (False, True)


def test_a_foreign_station_cannot_be_given_a_tariff(make_actor):
    actor = make_actor("operator")
    ChargePointFactory(id="NOT-MINE")

    response = actor.client.post(
        "/api/v1/tariffs/",
        {"name": "X", "charge_points": ["NOT-MINE"]},
        format="json",
    )

    assert response.status_code == 400
    assert "charge_points" in response.json()["error"]["details"]


def test_tariffs_of_other_organizations_are_invisible(make_actor):
    actor = make_actor("owner")
    mine = TariffFactory(organization=actor.organization)
    theirs = TariffFactory()

    listing = actor.client.get("/api/v1/tariffs/")
    delete = actor.client.delete(f"/api/v1/tariffs/{theirs.pk}/")

    assert [row["id"] for row in listing.json()["results"]] == [mine.pk]
    assert delete.status_code == 404
    assert Tariff.objects.filter(pk=theirs.pk).exists()


def test_viewer_cannot_change_tariffs(make_actor):
    actor = make_actor("viewer")
    tariff = TariffFactory(organization=actor.organization)

    response = actor.client.patch(
        f"/api/v1/tariffs/{tariff.pk}/", {"price_per_kwh": "0"}, format="json"
    )

    assert response.status_code == 403
