"""Org A's users and keys never see or touch org B's stations: API and admin."""

import pytest

from apps.chargepoints.models import ChargePoint
from tests.admin_forms import changeform_data
from tests.factories import (
    ChargePointFactory,
    MembershipFactory,
    MessageLogFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/charge-points/"
ADMIN = "/admin/chargepoints/chargepoint/"
JOURNAL_ADMIN = "/admin/ocpp/messagelog/"
VIA = ["jwt", "api_key"]


@pytest.fixture
def foreign_station(db) -> ChargePoint:
    return ChargePointFactory(
        id="THEIRS", organization=OrganizationFactory(name="Org B"), description="B"
    )


@pytest.mark.parametrize("via", VIA)
def test_list_excludes_foreign_stations(make_actor, foreign_station, via):
    # given
    actor = make_actor("owner", via=via)
    own = ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(URL)

    # then
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [own.id]


@pytest.mark.parametrize("via", VIA)
def test_filtering_or_searching_for_foreign_stations_finds_nothing(
    make_actor, foreign_station, via
):
    # given
    actor = make_actor("owner", via=via)

    # when
    by_org = actor.client.get(URL, {"organization": foreign_station.organization_id})
    by_search = actor.client.get(URL, {"search": "THEIRS"})

    # then
    assert by_org.json()["count"] == 0
    assert by_search.json()["count"] == 0


@pytest.mark.parametrize("via", VIA)
def test_foreign_station_reads_are_404(make_actor, foreign_station, via):
    # given
    actor = make_actor("owner", via=via)
    MessageLogFactory(charge_point=foreign_station)

    # when
    detail = actor.client.get(f"{URL}THEIRS/")
    journal = actor.client.get(f"{URL}THEIRS/messages/")

    # then
    assert detail.status_code == 404
    assert journal.status_code == 404
    assert detail.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("via", VIA)
def test_foreign_station_cannot_be_changed(make_actor, foreign_station, via):
    # given
    actor = make_actor("owner", via=via)

    # when
    response = actor.client.patch(
        f"{URL}THEIRS/",
        {"description": "pwned", "password": "x" * 20},
        format="json",
    )

    # then
    assert response.status_code == 404
    station = ChargePoint.objects.get(pk="THEIRS")
    assert station.description == "B"
    assert station.password_hash == foreign_station.password_hash


@pytest.mark.parametrize("via", VIA)
def test_foreign_station_cannot_be_deleted(make_actor, foreign_station, via):
    # given
    actor = make_actor("owner", via=via)

    # when
    response = actor.client.delete(f"{URL}THEIRS/")

    # then
    assert response.status_code == 404
    assert ChargePoint.objects.filter(pk="THEIRS").exists()


@pytest.mark.parametrize("via", VIA)
def test_station_cannot_be_created_in_a_foreign_organization(
    make_actor, foreign_station, via
):
    # given
    actor = make_actor("owner", via=via)

    # when
    response = actor.client.post(
        URL,
        {"id": "PLANTED", "organization": foreign_station.organization_id},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["organization"]
    assert not ChargePoint.objects.filter(pk="PLANTED").exists()


def test_superuser_api_sees_every_station(superuser_api_client, foreign_station):
    # given
    ChargePointFactory(id="OTHER")

    # when
    response = superuser_api_client.get(URL)

    # then
    assert [s["id"] for s in response.json()["results"]] == ["OTHER", "THEIRS"]


# --- admin ------------------------------------------------------------------


def test_admin_changelist_excludes_foreign_stations(make_actor, foreign_station):
    # given
    actor = make_actor("owner", via="admin")
    own = ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(ADMIN)

    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    assert "THEIRS" not in response.content.decode()


def test_admin_organization_filter_lists_own_organizations_only(
    make_actor, foreign_station
):
    # given
    actor = make_actor("owner", via="admin")
    second = MembershipFactory(user=actor.user, role="viewer").organization
    ChargePointFactory(organization=actor.organization)
    ChargePointFactory(organization=second)

    # when
    response = actor.client.get(ADMIN)

    # then
    spec = next(
        s for s in response.context["cl"].filter_specs if s.field_path == "organization"
    )
    assert sorted(label for _, label in spec.lookup_choices) == sorted(
        [actor.organization.name, second.name]
    )
    assert "Org B" not in response.content.decode()


def test_admin_foreign_change_page_redirects_as_missing(make_actor, foreign_station):
    # given
    actor = make_actor("owner", via="admin")

    # when
    response = actor.client.get(f"{ADMIN}THEIRS/change/")

    # then
    assert response.status_code == 302
    assert response.url == "/admin/"


def test_admin_cannot_post_changes_to_a_foreign_station(make_actor, foreign_station):
    # given
    actor = make_actor("owner", via="admin")

    # when
    response = actor.client.post(
        f"{ADMIN}THEIRS/change/",
        {
            "description": "pwned",
            "registration_status": "Rejected",
            "security_profile": 0,
            "new_password": "y" * 20,
            "evses-TOTAL_FORMS": "0",
            "evses-INITIAL_FORMS": "0",
        },
    )

    # then
    assert response.status_code == 302
    station = ChargePoint.objects.get(pk="THEIRS")
    assert (station.description, station.registration_status) == ("B", "Accepted")
    assert station.password_hash == foreign_station.password_hash


def test_admin_cannot_delete_a_foreign_station(make_actor, foreign_station):
    # given
    actor = make_actor("owner", via="admin")

    # when
    response = actor.client.post(f"{ADMIN}THEIRS/delete/", {"post": "yes"})
    bulk = actor.client.post(
        ADMIN,
        {"action": "delete_selected", "_selected_action": ["THEIRS"], "post": "yes"},
    )

    # then
    assert response.status_code == 302
    assert bulk.status_code == 302
    assert ChargePoint.objects.filter(pk="THEIRS").exists()


def test_admin_actions_skip_foreign_stations(make_actor, foreign_station):
    # given
    actor = make_actor("owner", via="admin")

    # when
    actor.client.post(
        ADMIN,
        {
            "action": "reject_registration",
            "_selected_action": ["THEIRS"],
            "post": "yes",
        },
    )

    # then
    foreign_station.refresh_from_db()
    assert foreign_station.registration_status == "Accepted"


def test_admin_cannot_add_a_station_into_a_foreign_organization(
    make_actor, foreign_station
):
    # given
    actor = make_actor("owner", via="admin")

    # when
    page = actor.client.get(f"{ADMIN}add/")
    posted = actor.client.post(
        f"{ADMIN}add/",
        {
            "id": "PLANTED",
            "organization": foreign_station.organization_id,
            "registration_status": "Accepted",
            "security_profile": 1,
            "evses-TOTAL_FORMS": "0",
            "evses-INITIAL_FORMS": "0",
        },
    )

    # then
    choices = page.context["adminform"].form.fields["organization"].queryset
    assert list(choices) == [actor.organization]
    assert posted.status_code == 200
    assert "organization" in posted.context["adminform"].form.errors
    assert not ChargePoint.objects.filter(pk="PLANTED").exists()


def test_admin_journal_excludes_foreign_messages(make_actor, foreign_station):
    # given
    actor = make_actor("viewer", via="admin")
    own = MessageLogFactory(
        charge_point=ChargePointFactory(organization=actor.organization)
    )
    foreign = MessageLogFactory(charge_point=foreign_station)

    # when
    listed = actor.client.get(JOURNAL_ADMIN)
    detail = actor.client.get(f"{JOURNAL_ADMIN}{foreign.pk}/change/")

    # then
    assert list(listed.context["cl"].result_list) == [own]
    assert detail.status_code == 302


def test_admin_superuser_sees_every_station(admin_client, foreign_station):
    # given
    ChargePointFactory(id="OTHER")

    # when
    response = admin_client.get(ADMIN)

    # then
    assert [s.id for s in response.context["cl"].result_list] == ["OTHER", "THEIRS"]


def test_admin_viewer_cannot_change_own_station(make_actor):
    # given
    viewer = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=viewer.organization)
    url = f"{ADMIN}{station.pk}/change/"
    page = viewer.client.get(url)

    # when
    response = viewer.client.post(url, {"description": "changed"})

    # then
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert response.status_code == 403
    station.refresh_from_db()
    assert station.description == ""


def test_admin_operator_changes_own_station(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    url = f"{ADMIN}{station.pk}/change/"
    data = changeform_data(operator.client.get(url))

    # when
    response = operator.client.post(url, {**data, "description": "changed"})

    # then
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.description == "changed"
