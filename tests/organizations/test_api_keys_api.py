import pytest

from apps.organizations.authentication import split_key
from apps.organizations.models import ApiKey
from apps.organizations.secrets import verify_secret
from tests.factories import ApiKeyFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys/"


def test_owner_creates_key_and_gets_the_raw_key_once(make_actor):
    # given
    owner = make_actor("owner")

    # when
    created = owner.client.post(URL, {"name": "CRM", "role": "viewer"}, format="json")
    listed = owner.client.get(URL)
    detail = owner.client.get(f"{URL}{created.json()['id']}/")

    # then
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "CRM"
    assert body["role"] == "viewer"
    assert body["organization"] == owner.organization.id
    assert body["is_active"] is True
    assert body["created_by"] == owner.user.username
    assert body["key"].startswith(f"{body['prefix']}.")
    assert "key" not in listed.json()["results"][0]
    assert "key" not in detail.json()
    assert "key_hash" not in detail.json()


def test_created_key_is_stored_hashed(make_actor):
    # given
    owner = make_actor("owner")

    # when
    raw = owner.client.post(URL, {"name": "ERP"}, format="json").json()["key"]

    # then
    prefix, secret = split_key(raw)
    api_key = ApiKey.objects.get(prefix=prefix)
    assert secret not in api_key.key_hash
    assert api_key.key_hash.startswith("sha256$")
    assert verify_secret(secret, api_key.key_hash)
    assert api_key.role == "operator"


def test_created_key_authenticates(make_actor, api_client):
    # given
    owner = make_actor("owner")
    raw = owner.client.post(URL, {"name": "ERP"}, format="json").json()["key"]

    # when
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api_client.get("/api/v1/organizations/")

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_owner_cannot_create_keys(make_actor, role):
    # given
    actor = make_actor(role)

    # when
    response = actor.client.post(URL, {"name": "x"}, format="json")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_owner_cannot_list_keys(make_actor, role):
    # given
    actor = make_actor(role)
    ApiKeyFactory(organization=actor.organization)

    # when
    response = actor.client.get(URL)

    # then
    assert response.status_code == 403


def test_owner_lists_only_own_organizations_keys(make_actor):
    # given
    owner = make_actor("owner")
    own = ApiKeyFactory(organization=owner.organization)
    ApiKeyFactory()

    # when
    response = owner.client.get(URL)

    # then
    assert response.status_code == 200
    assert [k["id"] for k in response.json()["results"]] == [own.id]


def test_delete_revokes_the_key(make_actor, api_client):
    # given
    owner = make_actor("owner")
    api_key = ApiKeyFactory(organization=owner.organization)

    # when
    response = owner.client.delete(f"{URL}{api_key.id}/")

    # then
    assert response.status_code == 204
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    assert api_client.get("/api/v1/organizations/").status_code == 401


def test_owner_cannot_revoke_another_organizations_key(make_actor):
    # given
    owner = make_actor("owner")
    foreign = ApiKeyFactory()

    # when
    response = owner.client.delete(f"{URL}{foreign.id}/")

    # then
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_operator_cannot_revoke_keys(make_actor):
    # given
    operator = make_actor("operator")
    api_key = ApiKeyFactory(organization=operator.organization)

    # when
    response = operator.client.delete(f"{URL}{api_key.id}/")

    # then
    assert response.status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_an_api_key_cannot_manage_api_keys(make_actor):
    # given
    key_actor = make_actor("owner", via="api_key")

    # when
    listed = key_actor.client.get(URL)
    created = key_actor.client.post(URL, {"name": "more"}, format="json")

    # then
    assert listed.status_code == 403
    assert created.status_code == 403
    assert ApiKey.objects.count() == 1


def test_create_key_in_foreign_organization_is_400_on_organization(make_actor):
    # given
    owner = make_actor("owner")
    foreign = OrganizationFactory()

    # when
    response = owner.client.post(
        URL, {"name": "x", "organization": foreign.id}, format="json"
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["organization"]


def test_create_key_where_only_viewer_is_403(make_actor):
    # given
    owner = make_actor("owner")
    elsewhere = MembershipFactory(user=owner.user, role="viewer").organization

    # when
    response = owner.client.post(
        URL, {"name": "x", "organization": elsewhere.id}, format="json"
    )

    # then
    assert response.status_code == 403


def test_create_key_needs_organization_when_member_of_several(make_actor):
    # given
    owner = make_actor("owner")
    MembershipFactory(user=owner.user, role="owner")

    # when
    response = owner.client.post(URL, {"name": "x"}, format="json")

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["organization"]


def test_create_key_without_name_is_400_naming_name(make_actor):
    # given
    owner = make_actor("owner")

    # when
    response = owner.client.post(URL, {"role": "owner"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == ["name"]


def test_create_key_with_unknown_role_is_400_naming_role(make_actor):
    # given
    owner = make_actor("owner")

    # when
    response = owner.client.post(URL, {"name": "x", "role": "god"}, format="json")

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


def test_keys_filter_by_revoked(make_actor):
    # given
    owner = make_actor("owner")
    active = ApiKeyFactory(organization=owner.organization)
    revoked = ApiKeyFactory(organization=owner.organization)
    owner.client.delete(f"{URL}{revoked.id}/")

    # when
    only_revoked = owner.client.get(URL, {"revoked": "true"})
    only_active = owner.client.get(URL, {"revoked": "false"})

    # then
    assert [k["id"] for k in only_revoked.json()["results"]] == [revoked.id]
    assert [k["id"] for k in only_active.json()["results"]] == [active.id]
    assert only_revoked.json()["results"][0]["is_active"] is False
