import pytest
from django.contrib.messages import get_messages
from django.test import Client

from apps.organizations.authentication import authenticate_key
from apps.organizations.models import ApiKey, Membership
from tests.admin_forms import changeform_data
from tests.factories import ApiKeyFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

ORGANIZATIONS = "/admin/organizations/organization/"
API_KEYS = "/admin/organizations/apikey/"


def test_changelist_shows_only_the_users_organizations(make_actor):
    # given
    actor = make_actor("viewer", via="admin")
    OrganizationFactory(name="Foreign Org")

    # when
    response = actor.client.get(ORGANIZATIONS)

    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [actor.organization]


def test_staff_without_membership_sees_no_tenant_models(make_actor, django_user_model):
    # given
    user = django_user_model.objects.create(username="lonely", is_staff=True)
    client = Client()
    client.force_login(user)

    # when
    index = client.get("/admin/")
    changelist = client.get(ORGANIZATIONS)

    # then
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert changelist.status_code == 403


def test_owner_changes_the_organization(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    url = f"{ORGANIZATIONS}{owner.organization.pk}/change/"
    data = changeform_data(owner.client.get(url))

    # when
    response = owner.client.post(url, {**data, "name": "Renamed"})

    # then
    assert response.status_code == 302
    owner.organization.refresh_from_db()
    assert owner.organization.name == "Renamed"


def test_operator_views_but_cannot_change_the_organization(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    url = f"{ORGANIZATIONS}{operator.organization.pk}/change/"

    # when
    page = operator.client.get(url)
    posted = operator.client.post(url, {"name": "Renamed"})

    # then
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert posted.status_code == 403
    operator.organization.refresh_from_db()
    assert operator.organization.name != "Renamed"


def test_foreign_organization_change_page_redirects_as_missing(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    foreign = OrganizationFactory(name="Theirs")

    # when
    page = owner.client.get(f"{ORGANIZATIONS}{foreign.pk}/change/")
    posted = owner.client.post(f"{ORGANIZATIONS}{foreign.pk}/change/", {"name": "Mine"})

    # then
    assert page.status_code == 302
    assert page.url == "/admin/"
    assert posted.status_code == 302
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


def test_only_superusers_add_or_delete_organizations(make_actor):
    # given
    owner = make_actor("owner", via="admin")

    # when
    add = owner.client.get(f"{ORGANIZATIONS}add/")
    delete = owner.client.get(f"{ORGANIZATIONS}{owner.organization.pk}/delete/")

    # then
    assert add.status_code == 403
    assert delete.status_code == 403


def test_membership_inline_refuses_removing_the_last_owner(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    url = f"{ORGANIZATIONS}{owner.organization.pk}/change/"
    data = changeform_data(owner.client.get(url))

    # when
    response = owner.client.post(url, {**data, "memberships-0-DELETE": "on"})

    # then
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "An organization needs at least one owner."
    ]
    assert Membership.objects.filter(user=owner.user).count() == 1


def test_membership_inline_adds_a_member_through_the_service(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    colleague = MembershipFactory(
        organization=MembershipFactory(user=owner.user, role="owner").organization
    ).user
    url = f"{ORGANIZATIONS}{owner.organization.pk}/change/"
    data = changeform_data(owner.client.get(url))

    # when
    response = owner.client.post(
        url,
        {
            **data,
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-user": str(colleague.pk),
            "memberships-1-role": "operator",
            "memberships-1-organization": str(owner.organization.pk),
        },
    )

    # then
    assert response.status_code == 302
    assert Membership.objects.get(
        user=colleague, organization=owner.organization
    ).role == ("operator")


def test_membership_user_choices_are_members_of_owned_organizations(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    stranger = MembershipFactory().user

    # when
    response = owner.client.get(f"{ORGANIZATIONS}{owner.organization.pk}/change/")

    # then
    formset = response.context["inline_admin_formsets"][0].formset
    choices = formset.empty_form.fields["user"].queryset
    assert owner.user in choices
    assert stranger not in choices


def test_api_key_add_shows_the_raw_key_once_and_stores_a_hash(make_actor):
    # given
    owner = make_actor("owner", via="admin")

    # when
    response = owner.client.post(
        f"{API_KEYS}add/",
        {
            "organization": owner.organization.pk,
            "name": "Billing",
            "role": "viewer",
        },
    )

    # then
    assert response.status_code == 302
    api_key = ApiKey.objects.get(name="Billing")
    assert api_key.created_by == owner.user
    shown = [str(m) for m in get_messages(response.wsgi_request) if "<code>" in str(m)]
    assert len(shown) == 1
    raw = shown[0].split("<code>")[1].split("</code>")[0]
    assert authenticate_key(raw) == api_key
    first_page = owner.client.get(response.url).content.decode()
    next_page = owner.client.get(f"{API_KEYS}{api_key.pk}/change/").content.decode()
    assert first_page.count(raw) == 1
    assert raw not in next_page
    assert api_key.key_hash not in next_page


def test_api_key_add_offers_only_owned_organizations(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    operated = MembershipFactory(user=owner.user, role="operator").organization

    # when
    response = owner.client.get(f"{API_KEYS}add/")
    posted = owner.client.post(
        f"{API_KEYS}add/",
        {"organization": operated.pk, "name": "Sneaky", "role": "owner"},
    )

    # then
    choices = response.context["adminform"].form.fields["organization"].queryset
    assert list(choices) == [owner.organization]
    assert posted.status_code == 200
    assert "organization" in posted.context["adminform"].form.errors
    assert not ApiKey.objects.filter(name="Sneaky").exists()


def test_api_key_revoke_action_asks_for_confirmation_first(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    api_key = ApiKeyFactory(organization=owner.organization)
    selection = {"action": "revoke_selected", "_selected_action": [api_key.pk]}

    # when
    asked = owner.client.post(API_KEYS, selection)
    api_key.refresh_from_db()
    revoked_before_confirming = api_key.revoked_at
    confirmed = owner.client.post(API_KEYS, {**selection, "post": "yes"})

    # then
    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/csms/action_confirmation.html"
    assert revoked_before_confirming is None
    assert confirmed.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_api_key_revoke_action_ignores_foreign_keys(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    foreign = ApiKeyFactory()

    # when
    owner.client.post(
        API_KEYS,
        {"action": "revoke_selected", "_selected_action": [foreign.pk], "post": "yes"},
    )

    # then
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_operator_cannot_open_the_api_key_admin(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    ApiKeyFactory(organization=operator.organization)

    # when
    response = operator.client.get(API_KEYS)

    # then
    assert response.status_code == 403
