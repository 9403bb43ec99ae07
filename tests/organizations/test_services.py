import pytest

from apps.organizations.authentication import PREFIX_LENGTH, authenticate_key
from apps.organizations.models import Membership
from apps.organizations.services import (
    api_key_create,
    api_key_revoke,
    membership_remove,
    membership_set,
    organization_update,
)
from csms.errors import ApplicationError, Conflict
from tests.factories import (
    ApiKeyFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_api_key_create_returns_prefix_dot_secret():
    # given
    organization = OrganizationFactory()

    # when
    api_key, raw = api_key_create(organization=organization, name="CRM", role="viewer")

    # then
    prefix, _, secret = raw.partition(".")
    assert len(prefix) == PREFIX_LENGTH
    assert prefix == api_key.prefix
    assert len(secret) >= 40
    assert authenticate_key(raw) == api_key


def test_api_key_create_rejects_unknown_role():
    # when / then
    with pytest.raises(ApplicationError) as error:
        api_key_create(organization=OrganizationFactory(), name="x", role="root")
    assert error.value.details == {"role": ["'root'"]}


def test_api_key_revoke_keeps_the_first_revocation_time():
    # given
    api_key = ApiKeyFactory()
    first = api_key_revoke(api_key=api_key).revoked_at

    # when
    again = api_key_revoke(api_key=api_key)

    # then
    assert first is not None
    assert again.revoked_at == first
    assert authenticate_key(api_key.raw_key) is None


def test_membership_set_creates_then_changes_the_role():
    # given
    organization = OrganizationFactory()
    user = UserFactory()

    # when
    membership_set(organization=organization, user=user, role="viewer")
    membership_set(organization=organization, user=user, role="operator")

    # then
    assert list(
        Membership.objects.filter(user=user).values_list("organization_id", "role")
    ) == [(organization.id, "operator")]


def test_membership_set_refuses_to_demote_the_last_owner():
    # given
    owner = MembershipFactory(role="owner")

    # when / then
    with pytest.raises(Conflict) as error:
        membership_set(
            organization=owner.organization, user=owner.user, role="operator"
        )
    assert error.value.code == "last_owner"
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_membership_set_demotes_an_owner_when_another_remains():
    # given
    owner = MembershipFactory(role="owner")
    MembershipFactory(organization=owner.organization, role="owner")

    # when
    membership_set(organization=owner.organization, user=owner.user, role="viewer")

    # then
    owner.refresh_from_db()
    assert owner.role == "viewer"


def test_membership_remove_refuses_the_last_owner():
    # given
    owner = MembershipFactory(role="owner")

    # when / then
    with pytest.raises(Conflict):
        membership_remove(organization=owner.organization, user=owner.user)
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_membership_remove_removes_a_member():
    # given
    member = MembershipFactory(role="operator")

    # when
    membership_remove(organization=member.organization, user=member.user)

    # then
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_organization_update_refuses_the_slug():
    # given
    organization = OrganizationFactory()

    # when / then
    with pytest.raises(ApplicationError):
        organization_update(organization=organization, slug="other")
