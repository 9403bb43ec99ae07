import pytest

from apps.chargepoints.models import ChargePoint, Evse
from apps.chargepoints.services.management import (
    station_create,
    station_delete,
    station_generate_password,
    station_set_password,
    station_set_registration_status,
    station_update,
)
from apps.ocpp.models import MessageLog
from apps.organizations.secrets import verify_secret
from csms.errors import ApplicationError, Conflict
from tests.factories import (
    ChargePointFactory,
    EvseFactory,
    MessageLogFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db


def test_station_create_stores_only_a_hash_of_the_password():
    # given
    organization = OrganizationFactory()

    # when
    station = station_create(
        organization=organization, id="S1", password="sixteen-chars-ok"
    )

    # then
    station.refresh_from_db()
    assert station.organization == organization
    assert "sixteen-chars-ok" not in station.password_hash
    assert verify_secret("sixteen-chars-ok", station.password_hash)


def test_station_create_never_overwrites_an_existing_identity():
    # given
    existing = ChargePointFactory(id="S2")

    # when / then
    with pytest.raises(ApplicationError) as error:
        station_create(organization=OrganizationFactory(), id="S2")
    assert error.value.details == {
        "id": ["A station with this identity already exists."]
    }
    assert ChargePoint.objects.get(pk="S2").organization == existing.organization


@pytest.mark.parametrize("password", ["short", "x" * 41])
def test_station_create_refuses_passwords_outside_16_to_40(password):
    # when / then
    with pytest.raises(ApplicationError) as error:
        station_create(organization=OrganizationFactory(), id="S3", password=password)
    assert list(error.value.details) == ["password"]
    assert not ChargePoint.objects.filter(pk="S3").exists()


def test_generated_password_is_valid_and_random():
    # when
    first, second = station_generate_password(), station_generate_password()

    # then
    assert 16 <= len(first) <= 40
    assert first != second


def test_station_set_password_none_clears_it():
    # given
    station = ChargePointFactory()

    # when
    station_set_password(charge_point=station, password=None)

    # then
    station.refresh_from_db()
    assert station.password_hash == ""


def test_station_update_refuses_reported_fields():
    # given
    station = ChargePointFactory(vendor="ACME")

    # when / then
    with pytest.raises(ApplicationError):
        station_update(charge_point=station, vendor="Forged")
    station.refresh_from_db()
    assert station.vendor == "ACME"


def test_station_set_registration_status():
    # given
    station = ChargePointFactory(registration_status="Pending")

    # when
    station_set_registration_status(charge_point=station, status="Accepted")

    # then
    station.refresh_from_db()
    assert station.registration_status == "Accepted"


def test_station_set_registration_status_refuses_unknown_status():
    # when / then
    with pytest.raises(ApplicationError):
        station_set_registration_status(
            charge_point=ChargePointFactory(), status="Maybe"
        )


def test_station_delete_removes_evses_and_journal():
    # given
    station = ChargePointFactory()
    EvseFactory(charge_point=station)
    MessageLogFactory(charge_point=station)

    # when
    station_delete(charge_point=station)

    # then
    assert not ChargePoint.objects.filter(pk=station.pk).exists()
    assert Evse.objects.count() == 0
    assert MessageLog.objects.count() == 0


def test_station_delete_refuses_an_online_station():
    # given
    station = ChargePointFactory(online=True)

    # when / then
    with pytest.raises(Conflict) as error:
        station_delete(charge_point=station)
    assert error.value.code == "station_online"
    assert ChargePoint.objects.filter(pk=station.pk).exists()
