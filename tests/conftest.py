"""Fixtures shared by the whole suite.

- ``api_client``: an unauthenticated DRF ``APIClient``.
- ``make_actor(role, organization=None, *, via="jwt")``: someone with ``role`` in
  ``organization`` (a new one if omitted), returned as an ``Actor`` whose
  ``client`` is already authenticated. ``via``: ``"jwt"`` (Bearer token, an
  APIClient), ``"api_key"`` (an organization key of that role, an APIClient),
  ``"session"`` (APIClient with a login session), ``"admin"`` (a staff user
  logged in to a Django test ``Client``, for admin pages).
- ``superuser_api_client``: an APIClient authenticated as a superuser
  (pytest-django's ``admin_client`` is the admin-site equivalent).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.organizations.models import ApiKey, Organization
from tests.factories import (
    ApiKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)


@dataclass
class Actor:
    client: APIClient | Client
    organization: Organization
    role: str
    user: object | None = None
    api_key: ApiKey | None = None


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and failure counters live in the cache; database ids
    # repeat between tests, so counts would leak from one test into the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def organization(db) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def superuser_api_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    return client


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def make_actor(db):
    def make(
        role: str = "operator",
        organization: Organization | None = None,
        *,
        via: str = "jwt",
        user=None,
    ) -> Actor:
        organization = organization or OrganizationFactory()
        if via == "api_key":
            api_key = ApiKeyFactory(organization=organization, role=role)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
            return Actor(client, organization, role, api_key=api_key)
        user = user or UserFactory(is_staff=via == "admin")
        MembershipFactory(user=user, organization=organization, role=role)
        if via == "jwt":
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
        elif via == "session":
            client = APIClient()
            client.force_login(user)
        elif via == "admin":
            client = Client()
            client.force_login(user)
        else:
            raise ValueError(f"unknown via={via!r}")
        return Actor(client, organization, role, user=user)

    return make


@pytest.fixture(scope="session", autouse=True)
def _stop_group_commit(django_db_setup, django_db_blocker):
    """Drain the OCPP edge's group-commit thread while the test database exists."""
    yield
    from apps.ocpp.db import executor

    with django_db_blocker.unblock():
        executor.shutdown()
