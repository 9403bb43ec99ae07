"""factory_boy factories for the models every test needs.

Passwords are known constants so tests can log in: ``USER_PASSWORD`` for users,
``STATION_PASSWORD`` for stations (already hashed into ``password_hash``).
``ApiKeyFactory`` goes through the service and leaves the raw key on the
instance as ``raw_key``.
"""

from __future__ import annotations

import json
import uuid
from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from apps.chargepoints.models import ChargePoint, Connector, Evse
from apps.ocpp.models import MessageLog
from apps.organizations.models import ApiKey, Membership, Organization
from apps.organizations.secrets import hash_secret
from apps.organizations.services import api_key_create

USER_PASSWORD = "correct-horse-battery"
STATION_PASSWORD = "station-password-0123"


@cache
def _user_password_hash() -> str:
    # Django's hasher costs ~0.3 s; hash once per test run. A real hash (not
    # a fast test hasher) so servers started by e2e tests accept it too.
    return make_password(USER_PASSWORD)


@cache
def _station_password_hash() -> str:
    return hash_secret(STATION_PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Operator {n}")
    slug = factory.Sequence(lambda n: f"operator-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.LazyFunction(_user_password_hash)
    is_staff = False
    is_superuser = False


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.VIEWER


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """``ApiKeyFactory(role="viewer").raw_key`` is the usable key."""

    class Meta:
        model = ApiKey

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    role = Membership.Role.OPERATOR
    expires_at = None
    revoked_at = None
    created_by = None

    @classmethod
    def _create(cls, model_class, *args, revoked_at=None, **kwargs):
        api_key, raw_key = api_key_create(**kwargs)
        if revoked_at is not None:
            api_key.revoked_at = revoked_at
            api_key.save(update_fields=["revoked_at"])
        api_key.raw_key = raw_key
        return api_key


class ChargePointFactory(factory.django.DjangoModelFactory):
    """A station that has booted once (1.6) and is offline.

    ``ChargePointFactory(online=True)`` for one holding a connection.
    """

    class Meta:
        model = ChargePoint

    class Params:
        online = factory.Trait(
            is_online=True,
            last_seen_at=factory.LazyFunction(timezone.now),
            connected_at=factory.LazyFunction(timezone.now),
            node_name="test-node",
        )

    id = factory.Sequence(lambda n: f"CP{n:04d}")
    organization = factory.SubFactory(OrganizationFactory)
    ocpp_version = "1.6"
    vendor = "ACME"
    model = "Volt 22"
    serial_number = factory.Sequence(lambda n: f"SN{n:06d}")
    firmware_version = "1.0.0"
    password_hash = factory.LazyFunction(_station_password_hash)
    registration_status = ChargePoint.RegistrationStatus.ACCEPTED
    security_profile = ChargePoint.SecurityProfile.BASIC


class EvseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evse

    charge_point = factory.SubFactory(ChargePointFactory)
    evse_id = factory.Sequence(lambda n: n + 1)
    status = "Available"
    updated_at = factory.LazyFunction(timezone.now)


class ConnectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connector

    evse = factory.SubFactory(EvseFactory)
    connector_id = 1
    status = "Available"
    error_code = "NoError"
    updated_at = factory.LazyFunction(timezone.now)


class MessageLogFactory(factory.django.DjangoModelFactory):
    """A journal row; by default an incoming 1.6 Heartbeat CALL."""

    class Meta:
        model = MessageLog

    charge_point = factory.SubFactory(ChargePointFactory)
    direction = MessageLog.Direction.IN
    message_type = 2
    unique_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    action = "Heartbeat"
    frame = factory.LazyAttribute(
        lambda o: json.dumps([o.message_type, o.unique_id, o.action, {}])
    )
    created_at = factory.LazyFunction(timezone.now)
