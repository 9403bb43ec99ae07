"""The station's configuration page in the admin."""

import pytest
from django.contrib.messages import get_messages

from apps.chargepoints.services.configuration import (
    ReportedKey,
    configuration_keys_reported,
)
from apps.ocpp.configuration import ChangeResult, RefreshResult
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/chargepoints/chargepoint/"


def _page(station) -> str:
    return f"{ADMIN}{station.pk}/configuration/"


@pytest.fixture
def station_with_keys(make_actor):
    def make(role):
        actor = make_actor(role, via="admin")
        station = ChargePointFactory(organization=actor.organization, online=True)
        configuration_keys_reported(
            charge_point_id=station.pk,
            keys=[
                ReportedKey("HeartbeatInterval", False, "300"),
                ReportedKey("NumberOfConnectors", True, "2"),
            ],
        )
        return actor, station

    return make


def test_station_page_links_to_its_configuration(station_with_keys):
    viewer, station = station_with_keys("viewer")

    response = viewer.client.get(f"{ADMIN}{station.pk}/change/")

    assert _page(station) in response.content.decode()


def test_viewer_sees_the_values_without_forms(station_with_keys):
    viewer, station = station_with_keys("viewer")

    response = viewer.client.get(_page(station))

    html = response.content.decode()
    assert response.status_code == 200
    assert "HeartbeatInterval" in html and "300" in html
    assert 'name="value"' not in html
    assert viewer.client.post(_page(station), {"action": "refresh"}).status_code == 403


def test_operator_edits_writable_keys_only(station_with_keys):
    operator, station = station_with_keys("operator")

    html = operator.client.get(_page(station)).content.decode()

    assert html.count('name="value"') == 1  # HeartbeatInterval, not the read-only one
    assert 'value="HeartbeatInterval"' in html


def test_setting_a_value_shows_the_station_s_answer(station_with_keys, monkeypatch):
    operator, station = station_with_keys("operator")
    sent = []

    def configuration_set(station_id, changes, *, requested_by):
        sent.append((station_id, changes, requested_by))
        return [ChangeResult(changes[0], "RebootRequired")]

    monkeypatch.setattr(
        "apps.chargepoints.admin_configuration.configuration_set", configuration_set
    )

    response = operator.client.post(
        _page(station),
        {"action": "set", "key": "HeartbeatInterval", "value": "60"},
        follow=True,
    )

    ((station_id, (change,), who),) = sent
    assert (station_id, change.key, change.value) == (
        station.pk,
        "HeartbeatInterval",
        "60",
    )
    assert who == f"user:{operator.user.username}"
    (message,) = get_messages(response.wsgi_request)
    assert "RebootRequired" in message.message
    assert "after the station reboots" in message.message


def test_a_report_is_requested_from_the_page(make_actor, monkeypatch):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, online=True, ocpp_version="2.0.1"
    )
    asked = []

    def request(station_id, **options):
        asked.append(options["report_base"])
        return RefreshResult(status="Accepted", complete=True)

    monkeypatch.setattr(
        "apps.chargepoints.admin_configuration.device_model_report_request", request
    )

    response = operator.client.post(
        _page(station), {"action": "refresh", "report": "SummaryInventory"}, follow=True
    )

    assert asked == ["SummaryInventory"]
    (message,) = get_messages(response.wsgi_request)
    assert "Accepted" in message.message and "complete" in message.message


@pytest.mark.django_db(transaction=True)  # send_command's thread shares the DB
def test_offline_station_answer_is_an_error_message(make_actor):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)

    response = operator.client.post(_page(station), {"action": "refresh"}, follow=True)

    (message,) = get_messages(response.wsgi_request)
    assert "offline" in message.message


def test_another_tenant_s_station_is_missing(make_actor):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory()

    assert operator.client.get(_page(station)).status_code == 404


def test_device_model_page_shows_variables_and_reports(make_actor):
    from apps.chargepoints.services.device_model import (
        ReportedAttribute,
        ReportedVariable,
        VariableRef,
        device_model_report_part,
    )

    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version="2.0.1"
    )
    device_model_report_part(
        charge_point_id=station.pk,
        request_id=12,
        seq_no=0,
        tbc=False,
        generated_at=None,
        variables=[
            ReportedVariable(
                VariableRef.parse(key),
                (ReportedAttribute(value="1", mutability=mutability),),
            )
            for key, mutability in (
                ("EVSE@1.AvailabilityState", "ReadOnly"),
                ("OCPPCommCtrlr.OfflineThreshold", "ReadWrite"),
            )
        ],
    )

    html = operator.client.get(_page(station)).content.decode()

    assert "EVSE@1.AvailabilityState" in html and "SummaryInventory report" in html
    assert html.count('name="value"') == 1
    assert 'value="OCPPCommCtrlr.OfflineThreshold"' in html
    assert "<td>12</td>" in html  # the report, by its requestId
