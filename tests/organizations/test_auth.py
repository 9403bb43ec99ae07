from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from apps.organizations.models import ApiKey
from tests.factories import (
    USER_PASSWORD,
    ApiKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
ORGANIZATIONS_URL = "/api/v1/organizations/"


def test_token_obtain_returns_access_and_refresh(api_client):
    # given
    user = UserFactory()

    # when
    response = api_client.post(
        TOKEN_URL, {"username": user.username, "password": USER_PASSWORD}, format="json"
    )

    # then
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_access_token_authenticates_api_requests(api_client):
    # given
    membership = MembershipFactory()
    tokens = api_client.post(
        TOKEN_URL,
        {"username": membership.user.username, "password": USER_PASSWORD},
        format="json",
    ).json()

    # when
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [membership.organization_id]


def test_token_with_wrong_password_is_401_in_error_shape(api_client):
    # given
    user = UserFactory()

    # when
    response = api_client.post(
        TOKEN_URL, {"username": user.username, "password": "wrong"}, format="json"
    )

    # then
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "not_authenticated"
    assert body["error"]["details"] == {}


def test_token_without_password_is_400_naming_the_field(api_client):
    # when
    response = api_client.post(TOKEN_URL, {"username": "someone"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == ["password"]


def test_refresh_returns_a_working_access_token(api_client):
    # given
    membership = MembershipFactory()
    tokens = api_client.post(
        TOKEN_URL,
        {"username": membership.user.username, "password": USER_PASSWORD},
        format="json",
    ).json()

    # when
    response = api_client.post(
        REFRESH_URL, {"refresh": tokens["refresh"]}, format="json"
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    listed = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 200
    assert listed.status_code == 200


def test_refresh_with_garbage_token_is_401(api_client):
    # when
    response = api_client.post(REFRESH_URL, {"refresh": "garbage"}, format="json")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_request_without_credentials_is_401(api_client):
    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_invalid_bearer_token_is_401(api_client):
    # given
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401


def test_api_key_acts_for_its_organization_only(api_client):
    # given
    api_key = ApiKeyFactory(role="viewer")
    OrganizationFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [api_key.organization_id]
    assert response.json()["results"][0]["role"] == "viewer"


def test_api_key_use_records_last_used_at(api_client):
    # given
    api_key = ApiKeyFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")

    # when
    api_client.get(ORGANIZATIONS_URL)

    # then
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_revoked_api_key_is_401(api_client):
    # given
    api_key = ApiKeyFactory(revoked_at=timezone.now())
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "not_authenticated",
        "message": "Invalid, expired or revoked API key.",
        "details": {},
    }


def test_expired_api_key_is_401(api_client):
    # given
    api_key = ApiKeyFactory(expires_at=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401


def test_api_key_not_yet_expired_works(api_client):
    # given
    api_key = ApiKeyFactory(expires_at=timezone.now() + timedelta(days=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 200


def test_api_key_with_wrong_secret_is_401(api_client):
    # given
    api_key = ApiKeyFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.prefix}.wrong-secret")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401
    api_key.refresh_from_db()
    assert api_key.last_used_at is None


@pytest.mark.parametrize("raw", ["", "no-dot-at-all", "short.secret", "12345678."])
def test_malformed_api_key_is_401(api_client, raw):
    # given
    ApiKeyFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401


def test_api_key_of_unknown_prefix_is_401(api_client):
    # given
    assert not ApiKey.objects.filter(prefix="zzzzzzzz").exists()
    api_client.credentials(HTTP_AUTHORIZATION="Api-Key zzzzzzzz.some-secret")

    # when
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401


def test_openapi_schema_describes_these_endpoints():
    # given
    patterns = [
        path(
            "api/v1/",
            include(
                [
                    path("", include("apps.organizations.urls")),
                    path("", include("apps.chargepoints.urls")),
                ]
            ),
        )
    ]

    # when
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    # then
    assert set(schema["paths"]) == {
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/organizations/",
        "/api/v1/organizations/{id}/",
        "/api/v1/api-keys/",
        "/api/v1/api-keys/{id}/",
        "/api/v1/charge-points/",
        "/api/v1/charge-points/{id}/",
        "/api/v1/charge-points/{id}/messages/",
        "/api/v1/charge-points/{id}/configuration/",
    }
    assert "ApiKeyAuth" in schema["components"]["securitySchemes"]


def test_a_key_in_use_is_refused_at_once_after_revocation(
    make_actor, api_client, django_capture_on_commit_callbacks
):
    # given: the key has been used, so its record is cached
    owner = make_actor("owner")
    api_key = ApiKeyFactory(organization=owner.organization)
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    before = api_client.get(ORGANIZATIONS_URL).status_code

    # when
    with django_capture_on_commit_callbacks(execute=True):
        owner.client.delete(f"/api/v1/api-keys/{api_key.id}/")

    # then
    assert before == 200
    assert api_client.get(ORGANIZATIONS_URL).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda key: key.delete(),
        lambda key: ApiKey.objects.filter(pk=key.pk).delete(),
        lambda key: key.organization.delete(),
    ],
    ids=["key deleted", "queryset deleted", "organization deleted"],
)
def test_a_key_in_use_is_refused_at_once_after_deletion(
    change, api_client, django_capture_on_commit_callbacks
):
    # given
    api_key = ApiKeyFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    before = api_client.get(ORGANIZATIONS_URL).status_code

    # when
    with django_capture_on_commit_callbacks(execute=True):
        change(api_key)

    # then
    assert before == 200
    assert api_client.get(ORGANIZATIONS_URL).status_code == 401


def test_a_key_in_use_takes_a_new_expiry_and_role_at_once(
    api_client, django_capture_on_commit_callbacks
):
    # given
    api_key = ApiKeyFactory(role="operator")
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    roles_before = _roles(api_client)

    # when: an operator edits it in the admin (a save)
    api_key.role = "viewer"
    with django_capture_on_commit_callbacks(execute=True):
        api_key.save()
    roles_after = _roles(api_client)
    api_key.expires_at = timezone.now() - timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        api_key.save()

    # then
    assert roles_before == ["operator"]
    assert roles_after == ["viewer"]
    assert api_client.get(ORGANIZATIONS_URL).status_code == 401


def _roles(client) -> list[str]:
    return [o["role"] for o in client.get(ORGANIZATIONS_URL).json()["results"]]


def test_a_known_key_is_checked_without_reading_the_keys_table(api_client):
    # given
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_key = ApiKeyFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    api_client.get(ORGANIZATIONS_URL)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 200
    key_table = ApiKey._meta.db_table
    assert [q["sql"] for q in queries if key_table in q["sql"]] == []


def test_a_wrong_secret_for_a_cached_key_is_still_401(api_client):
    # given
    api_key = ApiKeyFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    api_client.get(ORGANIZATIONS_URL)
    prefix = api_key.raw_key.partition(".")[0]

    # when
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {prefix}.not-the-secret")
    response = api_client.get(ORGANIZATIONS_URL)

    # then
    assert response.status_code == 401
