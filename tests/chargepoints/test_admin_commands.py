"""Admin command pages and bulk actions, with the station's side faked.

``send_command`` is replaced by a fake station that records what it was
sent; tests/e2e/test_admin_commands.py drives the same pages against a real
station on the live server.
"""

import pytest
from django.contrib.messages import get_messages

from apps.ocpp.dispatch import CommandResult, StationOffline
from apps.ocpp.models import CommandLog
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/chargepoints/chargepoint/"


class FakeStation:
    """Stands in for send_command: records commands, answers ``reply``."""

    def __init__(self):
        self.sent: list[tuple[str, str, dict, str]] = []
        self.reply: dict | Exception = {"status": "Accepted"}

    def __call__(
        self,
        station_id,
        action,
        payload,
        *,
        timeout=None,
        requested_by="",
        station=None,
    ):
        self.sent.append((station_id, action, payload, requested_by))
        log = CommandLog.objects.create(
            charge_point_id=station_id,
            action=action,
            payload=payload,
            requested_by=requested_by,
        )
        if isinstance(self.reply, Exception):
            raise self.reply
        return CommandResult(action, self.reply, log.pk, 5)


@pytest.fixture
def fake_station(monkeypatch) -> FakeStation:
    fake = FakeStation()
    monkeypatch.setattr("apps.ocpp.operations.base.send_command", fake)
    return fake


def _command_url(station, operation: str) -> str:
    return f"{ADMIN}{station.pk}/commands/{operation}/"


def test_operator_sees_a_commands_section_with_the_versions_operations(make_actor):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    # when
    html = operator.client.get(f"{ADMIN}{station.pk}/change/").content.decode()
    # then
    assert "station-commands" in html
    for operation in ("remote-start", "remote-stop", "reset", "unlock", "availability"):
        assert _command_url(station, operation) in html
    assert _command_url(station, "trigger") in html
    assert _command_url(station, "clear-cache") in html
    assert _command_url(station, "report") not in html  # 2.0.1 only


def test_viewer_sees_no_commands_and_cannot_open_them(make_actor, fake_station):
    viewer = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=viewer.organization)
    html = viewer.client.get(f"{ADMIN}{station.pk}/change/").content.decode()
    page = viewer.client.get(_command_url(station, "reset"))
    post = viewer.client.post(
        _command_url(station, "reset"), {"type": "Hard", "confirmed": "yes"}
    )
    assert "station-commands" not in html
    assert (page.status_code, post.status_code) == (403, 403)
    assert fake_station.sent == []


def test_other_organizations_station_command_page_is_404(make_actor):
    operator = make_actor("operator", via="admin")
    foreign = ChargePointFactory()
    assert operator.client.get(_command_url(foreign, "reset")).status_code == 404


def test_reset_asks_for_confirmation_then_shows_the_answer(make_actor, fake_station):
    # given
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization, online=True)
    url = _command_url(station, "reset")
    # when: the form is sent
    asked = operator.client.post(url, {"type": "Hard"})
    # then: nothing is sent before the operator confirms
    assert "Are you sure?" in asked.content.decode()
    assert fake_station.sent == []
    # when: confirmed
    done = operator.client.post(url, {"type": "Hard", "confirmed": "yes"})
    # then
    html = done.content.decode()
    assert fake_station.sent == [
        (station.pk, "Reset", {"type": "Hard"}, f"admin:{operator.user.username}")
    ]
    assert "The station answered" in html and "Accepted" in html
    log = CommandLog.objects.get()
    assert f"/admin/ocpp/commandlog/{log.pk}/change/" in html


def test_201_reset_of_an_evse_is_sent_as_on_idle(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version="2.0.1"
    )
    operator.client.post(
        _command_url(station, "reset"),
        {"type": "Soft", "evse_id": "2", "confirmed": "yes"},
    )
    assert fake_station.sent[0][1:3] == ("Reset", {"type": "OnIdle", "evseId": 2})


def test_trigger_runs_without_confirmation(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version="2.0.1"
    )
    response = operator.client.post(
        _command_url(station, "trigger"),
        {"message": "StatusNotification", "evse_id": "1", "connector_id": "1"},
    )
    assert response.status_code == 200
    assert fake_station.sent[0][1:3] == (
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
    )


@pytest.mark.parametrize(("operative", "asks"), [("true", False), ("false", True)])
def test_only_making_inoperative_needs_confirmation(
    make_actor, fake_station, operative, asks
):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    response = operator.client.post(
        _command_url(station, "availability"), {"operative": operative, "evse_id": "1"}
    )
    assert ("Are you sure?" in response.content.decode()) is asks
    assert len(fake_station.sent) == (0 if asks else 1)


def test_remote_start_offers_no_confirmation_and_reports_the_remote_start_id(
    make_actor, fake_station
):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version="2.0.1"
    )
    response = operator.client.post(
        _command_url(station, "remote-start"), {"id_tag": "TAG-1", "evse_id": "1"}
    )
    payload = fake_station.sent[0][2]
    assert payload["idToken"] == {"idToken": "TAG-1", "type": "Central"}
    assert "remote_start_id" in response.content.decode()


def test_the_station_error_is_shown(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    fake_station.reply = StationOffline("Station CP is offline.")
    response = operator.client.post(
        _command_url(station, "clear-cache"), {"confirmed": "yes"}
    )
    html = response.content.decode()
    assert "The command failed" in html
    assert "Station CP is offline." in html and "station_offline" in html


def test_invalid_form_is_shown_again_and_nothing_is_sent(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    response = operator.client.post(_command_url(station, "unlock"), {"evse_id": "1"})
    assert response.context["form"].errors == {
        "connector_id": ["This field is required."]
    }
    assert fake_station.sent == []


def test_version_rules_come_back_as_errors(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version="2.0.1"
    )
    response = operator.client.post(
        _command_url(station, "unlock"), {"connector_id": "1", "confirmed": "yes"}
    )
    assert "The command failed" in response.content.decode()
    assert "evse_id" in response.context["error"].details
    assert fake_station.sent == []


def _action(client, action: str, stations, **data):
    return client.post(
        ADMIN,
        {"action": action, "_selected_action": [s.pk for s in stations], **data},
    )


def test_bulk_reset_asks_for_the_type_then_resets_each_station(
    make_actor, fake_station
):
    # given
    operator = make_actor("operator", via="admin")
    one = ChargePointFactory(organization=operator.organization)
    two = ChargePointFactory(organization=operator.organization, ocpp_version="2.0.1")
    foreign = ChargePointFactory()
    # when
    asked = _action(operator.client, "reset_stations", [one, two, foreign])
    done = _action(
        operator.client, "reset_stations", [one, two, foreign], post="yes", type="Hard"
    )
    # then
    assert asked.status_code == 200 and "Reset stations" in asked.content.decode()
    assert done.status_code == 302
    assert [(s, a, p) for s, a, p, _ in fake_station.sent] == [
        (one.pk, "Reset", {"type": "Hard"}),
        (two.pk, "Reset", {"type": "Immediate"}),
    ]
    texts = [str(m) for m in get_messages(done.wsgi_request)]
    assert texts == [
        f"{one.pk}: Reset answered Accepted",
        f"{two.pk}: Reset answered Accepted",
    ]


def test_bulk_clear_cache_reports_each_stations_outcome(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    fake_station.reply = StationOffline(f"Station {station.pk} is offline.")
    asked = _action(operator.client, "clear_cache_stations", [station])
    done = _action(operator.client, "clear_cache_stations", [station], post="yes")
    assert "Clear the authorization cache" in asked.content.decode()
    texts = [str(m) for m in get_messages(done.wsgi_request)]
    assert texts == [f"{station.pk}: Station {station.pk} is offline."]


def test_bulk_trigger_sends_the_chosen_message(make_actor, fake_station):
    operator = make_actor("operator", via="admin")
    station = ChargePointFactory(organization=operator.organization)
    _action(
        operator.client,
        "trigger_stations",
        [station],
        post="yes",
        message="Heartbeat",
    )
    assert fake_station.sent[0][1:3] == (
        "TriggerMessage",
        {"requestedMessage": "Heartbeat"},
    )


def test_viewer_has_no_bulk_command_actions(make_actor, fake_station):
    viewer = make_actor("viewer", via="admin")
    station = ChargePointFactory(organization=viewer.organization)
    page = viewer.client.get(ADMIN)
    _action(viewer.client, "reset_stations", [station], post="yes", type="Hard")
    action_form = page.context["action_form"]  # None: no action at all
    choices = (
        [n for n, _ in action_form.fields["action"].choices] if action_form else []
    )
    assert "reset_stations" not in choices
    assert fake_station.sent == []


def test_command_log_admin_is_read_only_and_scoped(make_actor):
    viewer = make_actor("viewer", via="admin")
    own = CommandLog.objects.create(
        charge_point=ChargePointFactory(organization=viewer.organization),
        action="Reset",
        payload={"type": "Hard"},
        response={"status": "Accepted"},
        outcome="ok",
    )
    CommandLog.objects.create(charge_point=ChargePointFactory(), action="ClearCache")
    listing = viewer.client.get("/admin/ocpp/commandlog/?outcome__exact=ok")
    detail = viewer.client.get(f"/admin/ocpp/commandlog/{own.pk}/change/")
    assert list(listing.context["cl"].result_list) == [own]
    assert detail.status_code == 200 and "Accepted" in detail.content.decode()
    assert viewer.client.get("/admin/ocpp/commandlog/add/").status_code == 403
