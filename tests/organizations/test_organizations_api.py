import pytest

from apps.organizations.models import Organization
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/"


def test_list_shows_only_the_callers_organizations(make_actor):
    # given
    actor = make_actor("viewer")
    OrganizationFactory()

    # when
    response = actor.client.get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == actor.organization.id
    assert body["results"][0]["role"] == "viewer"


def test_list_has_the_pagination_shape(make_actor):
    # given
    actor = make_actor("viewer")
    for _ in range(2):
        MembershipFactory(user=actor.user)

    # when
    response = actor.client.get(URL, {"page_size": 2})

    # then
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("?page=2&page_size=2")
    assert body["previous"] is None


def test_retrieve_of_foreign_organization_is_404(make_actor):
    # given
    actor = make_actor("owner")
    foreign = OrganizationFactory()

    # when
    response = actor.client.get(f"{URL}{foreign.id}/")

    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_owner_patches_settings(make_actor):
    # given
    owner = make_actor("owner")

    # when
    response = owner.client.patch(
        f"{URL}{owner.organization.id}/",
        {"name": "Renamed", "heartbeat_interval": 120},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    owner.organization.refresh_from_db()
    assert owner.organization.name == "Renamed"
    assert owner.organization.heartbeat_interval == 120


def test_patch_does_not_change_the_slug(make_actor):
    # given
    owner = make_actor("owner")
    slug = owner.organization.slug

    # when
    response = owner.client.patch(
        f"{URL}{owner.organization.id}/", {"slug": "hijack"}, format="json"
    )

    # then
    assert response.status_code == 200
    assert Organization.objects.get(pk=owner.organization.pk).slug == slug


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_owner_cannot_patch(make_actor, role):
    # given
    actor = make_actor(role)

    # when
    response = actor.client.patch(
        f"{URL}{actor.organization.id}/", {"name": "Renamed"}, format="json"
    )

    # then
    assert response.status_code == 403
    actor.organization.refresh_from_db()
    assert actor.organization.name != "Renamed"


def test_owner_cannot_patch_foreign_organization(make_actor):
    # given
    owner = make_actor("owner")
    foreign = OrganizationFactory(name="Theirs")

    # when
    response = owner.client.patch(
        f"{URL}{foreign.id}/", {"name": "Mine now"}, format="json"
    )

    # then
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


def test_patch_with_invalid_value_is_400_naming_the_field(make_actor):
    # given
    owner = make_actor("owner")

    # when
    response = owner.client.patch(
        f"{URL}{owner.organization.id}/",
        {"stop_token_mismatch": "whatever"},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["stop_token_mismatch"]


def test_put_is_not_allowed(make_actor):
    # given
    owner = make_actor("owner")

    # when
    response = owner.client.put(
        f"{URL}{owner.organization.id}/", {"name": "x"}, format="json"
    )

    # then
    assert response.status_code == 405


def test_superuser_lists_every_organization(superuser_api_client):
    # given
    OrganizationFactory()
    OrganizationFactory()

    # when
    response = superuser_api_client.get(URL)

    # then
    assert response.json()["count"] == Organization.objects.count()
    assert {o["role"] for o in response.json()["results"]} == {"owner"}
