from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.transactions.models import IdTag
from apps.transactions.services.authorization import (
    AuthorizationResult,
    authorize_id_token,
)
from tests.factories import OrganizationFactory
from tests.transactions.factories import IdTagFactory

pytestmark = pytest.mark.django_db


def test_unknown_token_is_invalid():
    # given
    organization = OrganizationFactory()

    # when
    result = authorize_id_token(organization=organization, id_tag="NOPE")

    # then
    assert result == AuthorizationResult(status="Invalid")


def test_accepted_token_carries_expiry_and_group():
    # given
    expiry = timezone.now() + timedelta(days=30)
    tag = IdTagFactory(id_tag="CARD1", parent_id_tag="FAMILY", expiry_date=expiry)
    IdTagFactory(organization=tag.organization, id_tag="FAMILY", type="Central")

    # when
    result = authorize_id_token(organization=tag.organization, id_tag="CARD1")

    # then
    assert result == AuthorizationResult(
        status="Accepted",
        expiry_date=expiry,
        group_id_tag="FAMILY",
        group_type="Central",
        id_tag_pk=tag.pk,
    )


def test_group_that_is_not_a_registered_token_has_type_central():
    tag = IdTagFactory(parent_id_tag="ACCOUNT-7")

    result = authorize_id_token(organization=tag.organization, id_tag=tag.id_tag)

    assert (result.group_id_tag, result.group_type) == ("ACCOUNT-7", "Central")


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid"])
def test_token_status_is_answered(status):
    tag = IdTagFactory(status=status)

    result = authorize_id_token(organization=tag.organization, id_tag=tag.id_tag)

    assert result.status == status


def test_token_past_its_expiry_date_is_expired():
    tag = IdTagFactory(expiry_date=datetime(2020, 1, 1, tzinfo=UTC))

    result = authorize_id_token(organization=tag.organization, id_tag=tag.id_tag)

    assert result.status == "Expired"


def test_member_of_a_blocked_group_is_blocked():
    tag = IdTagFactory(parent_id_tag="FLEET")
    IdTagFactory(organization=tag.organization, id_tag="FLEET", status="Blocked")

    result = authorize_id_token(organization=tag.organization, id_tag=tag.id_tag)

    assert result.status == "Blocked"


def test_foreign_token_is_invalid_by_default():
    # given
    foreign = IdTagFactory(id_tag="ROAMER")
    station_owner = OrganizationFactory()

    # when
    result = authorize_id_token(organization=station_owner, id_tag="ROAMER")

    # then
    assert result.status == "Invalid"
    assert foreign.organization != station_owner


def test_foreign_token_is_accepted_when_the_organization_accepts_them():
    foreign = IdTagFactory(id_tag="ROAMER")
    station_owner = OrganizationFactory(accept_foreign_tokens=True)

    result = authorize_id_token(organization=station_owner, id_tag="ROAMER")

    assert (result.status, result.id_tag_pk) == ("Accepted", foreign.pk)


def test_own_token_wins_over_a_foreign_one():
    station_owner = OrganizationFactory(accept_foreign_tokens=True)
    IdTagFactory(id_tag="SAME", status="Accepted")
    own = IdTagFactory(organization=station_owner, id_tag="SAME", status="Blocked")

    result = authorize_id_token(organization=station_owner, id_tag="SAME")

    assert (result.status, result.id_tag_pk) == ("Blocked", own.pk)


def test_no_authorization_token_is_always_accepted():
    # 2.0.1 C02.FR.02: a start button sends type NoAuthorization, idToken "".
    result = authorize_id_token(
        organization=OrganizationFactory(),
        id_tag="",
        token_type=IdTag.Type.NO_AUTHORIZATION,
    )

    assert result.status == "Accepted"


def test_result_survives_a_round_trip_through_json():
    result = AuthorizationResult(
        status="Accepted",
        expiry_date=datetime(2030, 1, 1, tzinfo=UTC),
        group_id_tag="G",
        group_type="Central",
        id_tag_pk=3,
    )

    assert AuthorizationResult.from_dict(result.as_dict()) == result
