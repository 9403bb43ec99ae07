import pytest
from django.contrib.messages import get_messages

from apps.chargepoints.models import ChargePoint
from apps.ocpp.models import MessageLog
from apps.organizations.secrets import verify_secret
from tests.admin_forms import changeform_data
from tests.factories import (
    ChargePointFactory,
    ConnectorFactory,
    EvseFactory,
    MessageLogFactory,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/chargepoints/chargepoint/"
JOURNAL = "/admin/ocpp/messagelog/"
PASSWORD = "an-admin-typed-secret"
NO_EVSE_FORMS = {"evses-TOTAL_FORMS": "0", "evses-INITIAL_FORMS": "0"}


def _add_data(actor, **extra) -> dict:
    return {
        "id": "ADDED-1",
        "organization": actor.organization.pk,
        "registration_status": "Accepted",
        "security_profile": 1,
        **NO_EVSE_FORMS,
        **extra,
    }


def test_changelist_shows_online_badges(make_actor):
    # given
    actor = make_actor("viewer", via="admin")
    ChargePointFactory(organization=actor.organization, online=True)
    ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(ADMIN)

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('#2e7d32">online</span>') == 1
    assert html.count('#9e9e9e">offline</span>') == 1


def test_operator_adds_a_station_with_a_typed_password(make_actor):
    # given
    operator = make_actor("operator", via="admin")

    # when
    response = operator.client.post(
        f"{ADMIN}add/", _add_data(operator, new_password=PASSWORD)
    )

    # then
    assert response.status_code == 302
    station = ChargePoint.objects.get(pk="ADDED-1")
    assert verify_secret(PASSWORD, station.password_hash)
    assert not [m for m in get_messages(response.wsgi_request) if "<code>" in str(m)]


def test_generated_password_is_shown_once_and_stored_hashed(make_actor):
    # given
    operator = make_actor("operator", via="admin")

    # when
    response = operator.client.post(
        f"{ADMIN}add/", _add_data(operator, generate_password="on")
    )

    # then
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request) if "<code>" in str(m)]
    assert len(shown) == 1
    password = shown[0].split("<code>")[1].split("</code>")[0]
    station = ChargePoint.objects.get(pk="ADDED-1")
    assert verify_secret(password, station.password_hash)
    assert password not in station.password_hash
    first_page = operator.client.get(response.url).content.decode()
    next_page = operator.client.get(response.url).content.decode()
    assert first_page.count(password) == 1
    assert password not in next_page


def test_typed_and_generated_password_together_is_an_error(make_actor):
    # given
    operator = make_actor("operator", via="admin")

    # when
    response = operator.client.post(
        f"{ADMIN}add/",
        _add_data(operator, new_password=PASSWORD, generate_password="on"),
    )

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Either type a new password or generate one, not both."
    ]
    assert not ChargePoint.objects.filter(pk="ADDED-1").exists()


def test_short_password_is_a_form_error(make_actor):
    # given
    operator = make_actor("operator", via="admin")

    # when
    response = operator.client.post(
        f"{ADMIN}add/", _add_data(operator, new_password="too-short")
    )

    # then
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["new_password"]


def test_change_sets_a_new_password_and_keeps_it_when_left_empty(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    url = f"{ADMIN}{station.pk}/change/"
    data = changeform_data(operator.client.get(url))

    # when
    operator.client.post(url, {**data, "new_password": PASSWORD})
    station.refresh_from_db()
    after_set = station.password_hash
    operator.client.post(url, {**data, "description": "kept password"})
    station.refresh_from_db()

    # then
    assert verify_secret(PASSWORD, after_set)
    assert station.password_hash == after_set
    assert station.description == "kept password"


def test_reported_fields_are_read_only(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization, vendor="ACME")
    url = f"{ADMIN}{station.pk}/change/"
    page = operator.client.get(url)
    data = changeform_data(page)

    # when
    operator.client.post(url, {**data, "vendor": "Forged", "is_online": "on"})

    # then
    form_fields = set(page.context["adminform"].form.fields)
    assert {"vendor", "firmware_version", "is_online", "id"}.isdisjoint(form_fields)
    station.refresh_from_db()
    assert (station.vendor, station.is_online) == ("ACME", False)


def test_change_page_shows_evses_with_connectors(make_actor):
    # given
    actor = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=actor.organization)
    evse = EvseFactory(charge_point=station, evse_id=1)
    ConnectorFactory(evse=evse, connector_id=1, status="Charging")
    ConnectorFactory(evse=evse, connector_id=2, status="Faulted", error_code="Boom")

    # when
    response = actor.client.get(f"{ADMIN}{station.pk}/change/")

    # then
    html = response.content.decode()
    assert "<td>1</td><td>Charging</td><td>NoError</td>" in html
    assert "<td>2</td><td>Faulted</td><td>Boom</td>" in html
    assert f"{JOURNAL}?charge_point__id__exact={station.pk}" in html


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("accept_registration", "Pending", "Accepted"),
        ("reject_registration", "Accepted", "Rejected"),
    ],
)
def test_registration_actions_confirm_then_apply(make_actor, action, before, after):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, registration_status=before
    )
    selection = {"action": action, "_selected_action": [station.pk]}

    # when
    asked = operator.client.post(ADMIN, selection)
    station.refresh_from_db()
    status_while_asking = station.registration_status
    done = operator.client.post(ADMIN, {**selection, "post": "yes"})

    # then
    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/csms/action_confirmation.html"
    assert status_while_asking == before
    assert done.status_code == 302
    station.refresh_from_db()
    assert station.registration_status == after


def test_viewer_has_no_registration_actions(make_actor):
    # given
    viewer = make_actor("viewer", via="admin")
    station = ChargePointFactory(
        organization=viewer.organization, registration_status="Pending"
    )

    # when
    response = viewer.client.post(
        ADMIN,
        {
            "action": "accept_registration",
            "_selected_action": [station.pk],
            "post": "yes",
        },
    )

    # then
    assert response.status_code == 200  # the changelist, action unknown to it
    station.refresh_from_db()
    assert station.registration_status == "Pending"


def test_operator_deletes_an_offline_station_in_the_admin(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.post(f"{ADMIN}{station.pk}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not ChargePoint.objects.filter(pk=station.pk).exists()


# --- message journal -------------------------------------------------------


def test_journal_detail_pretty_prints_the_frame(make_actor):
    # given
    actor = make_actor("viewer", via="admin")
    message = MessageLogFactory(
        charge_point=ChargePointFactory(organization=actor.organization),
        frame='[2,"42","Authorize",{"idTag":"ABC"}]',
    )

    # when
    response = actor.client.get(f"{JOURNAL}{message.pk}/change/")

    # then
    assert response.status_code == 200
    assert "&quot;idTag&quot;: &quot;ABC&quot;" in response.content.decode()
    assert response.context["has_change_permission"] is False


def test_journal_is_read_only_even_for_owners(make_actor):
    # given
    owner = make_actor("owner", via="admin")
    message = MessageLogFactory(
        charge_point=ChargePointFactory(organization=owner.organization)
    )

    # when
    add = owner.client.get(f"{JOURNAL}add/")
    change = owner.client.post(f"{JOURNAL}{message.pk}/change/", {"action": "X"})
    delete = owner.client.post(f"{JOURNAL}{message.pk}/delete/", {"post": "yes"})

    # then
    assert (add.status_code, change.status_code, delete.status_code) == (
        403,
        403,
        403,
    )
    message.refresh_from_db()
    assert message.action == "Heartbeat"


def test_superuser_may_delete_journal_rows(admin_client):
    # given
    message = MessageLogFactory()

    # when
    response = admin_client.post(f"{JOURNAL}{message.pk}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not MessageLog.objects.filter(pk=message.pk).exists()


def test_journal_filters_by_station_and_direction(make_actor):
    # given
    actor = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=actor.organization)
    wanted = MessageLogFactory(charge_point=station, direction="out")
    MessageLogFactory(charge_point=station, direction="in")
    MessageLogFactory(
        charge_point=ChargePointFactory(organization=actor.organization),
        direction="out",
    )

    # when
    response = actor.client.get(
        JOURNAL, {"charge_point__id__exact": station.pk, "direction__exact": "out"}
    )

    # then
    assert list(response.context["cl"].result_list) == [wanted]


def test_journal_search_by_unique_id(make_actor):
    # given
    actor = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=actor.organization)
    wanted = MessageLogFactory(charge_point=station, unique_id="needle-1")
    MessageLogFactory(charge_point=station, unique_id="hay")

    # when
    response = actor.client.get(JOURNAL, {"q": "needle"})

    # then
    assert list(response.context["cl"].result_list) == [wanted]


def test_admin_branding(make_actor):
    # given
    actor = make_actor("viewer", via="admin")

    # when
    response = actor.client.get("/admin/")

    # then
    assert "CSMS — OCPP Central System" in response.content.decode()
