"""The admin base every ModelAdmin of the project subclasses."""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms import modelform_factory
from django.test import RequestFactory

from apps.chargepoints.models import Evse
from apps.organizations.admin_scoping import TENANT_FORM_ERROR, TenantScopedAdmin
from tests.factories import ChargePointFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


class EvseTestAdmin(TenantScopedAdmin):
    """Not registered: a model whose organization is a relation away."""

    fields = ("charge_point", "evse_id", "status")
    list_filter = ("charge_point", "status")
    add_role = "operator"


def _admin() -> EvseTestAdmin:
    return EvseTestAdmin(Evse, admin.site)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("viewer", (True, True, False, False, False)),
        ("operator", (True, True, True, False, False)),
        ("owner", (True, True, True, True, True)),
    ],
)
def test_permissions_follow_the_role_in_the_objects_organization(role, expected):
    # given
    membership = MembershipFactory(role=role, user=UserFactory(is_staff=True))
    station = ChargePointFactory(organization=membership.organization)
    evse = Evse.objects.create(charge_point=station, evse_id=1)
    request = _request(membership.user)
    model_admin = TenantScopedAdmin(Evse, admin.site)

    # when
    granted = (
        model_admin.has_module_permission(request),
        model_admin.has_view_permission(request, evse),
        model_admin.has_change_permission(request, evse),
        model_admin.has_add_permission(request),
        model_admin.has_delete_permission(request, evse),
    )

    # then
    assert granted == expected


def test_no_permission_on_another_organizations_object():
    # given
    membership = MembershipFactory(role="owner", user=UserFactory(is_staff=True))
    foreign = Evse.objects.create(charge_point=ChargePointFactory(), evse_id=1)
    request = _request(membership.user)

    # when
    granted = (
        _admin().has_view_permission(request, foreign),
        _admin().has_change_permission(request, foreign),
        _admin().has_delete_permission(request, foreign),
    )

    # then
    assert granted == (False, False, False)


def test_non_staff_members_get_nothing():
    # given
    membership = MembershipFactory(role="owner", user=UserFactory(is_staff=False))

    # when
    granted = _admin().has_module_permission(_request(membership.user))

    # then
    assert granted is False


def test_superuser_gets_everything_without_memberships():
    # given
    request = _request(UserFactory(is_staff=True, is_superuser=True))
    foreign = Evse.objects.create(charge_point=ChargePointFactory(), evse_id=1)

    # when
    granted = (
        _admin().has_change_permission(request, foreign),
        _admin().has_delete_permission(request, foreign),
        list(_admin().get_queryset(request)),
    )

    # then
    assert granted == (True, True, [foreign])


def test_foreign_key_choices_are_visible_rows_only():
    # given
    membership = MembershipFactory(role="operator", user=UserFactory(is_staff=True))
    own = ChargePointFactory(organization=membership.organization)
    ChargePointFactory()

    # when
    form_class = _admin().get_form(_request(membership.user))

    # then
    assert list(form_class.base_fields["charge_point"].queryset) == [own]


def test_form_refuses_saving_into_an_organization_the_user_only_views():
    # given
    user = UserFactory(is_staff=True)
    writable = MembershipFactory(role="operator", user=user).organization
    viewed = MembershipFactory(role="viewer", user=user).organization
    form_class = _admin().get_form(_request(user))

    # when
    refused = form_class(
        data={
            "charge_point": ChargePointFactory(organization=viewed).pk,
            "evse_id": 1,
            "status": "",
        }
    )
    accepted = form_class(
        data={
            "charge_point": ChargePointFactory(organization=writable).pk,
            "evse_id": 1,
            "status": "",
        }
    )

    # then
    assert refused.is_valid() is False
    assert refused.non_field_errors() == [TENANT_FORM_ERROR]
    assert accepted.is_valid() is True


def test_save_form_refuses_what_slipped_past_the_form():
    # given
    user = UserFactory(is_staff=True)
    MembershipFactory(role="operator", user=user)
    viewed = MembershipFactory(role="viewer", user=user).organization
    unguarded = modelform_factory(Evse, fields=("charge_point", "evse_id", "status"))
    form = unguarded(
        data={
            "charge_point": ChargePointFactory(organization=viewed).pk,
            "evse_id": 1,
            "status": "",
        }
    )
    assert form.is_valid()

    # when / then
    with pytest.raises(PermissionDenied):
        _admin().save_form(_request(user), form, change=False)
    assert Evse.objects.count() == 0


def test_relation_filters_become_related_only_for_members():
    # given
    member = MembershipFactory(user=UserFactory(is_staff=True)).user
    superuser = UserFactory(is_staff=True, is_superuser=True)

    # when
    for_member = _admin().get_list_filter(_request(member))
    for_superuser = _admin().get_list_filter(_request(superuser))

    # then
    assert for_member == [
        ("charge_point", admin.RelatedOnlyFieldListFilter),
        "status",
    ]
    assert for_superuser == ("charge_point", "status")
