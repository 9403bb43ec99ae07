"""The command API without a station: roles, tenancy, validation, offline.

Everything here is decided before a frame would leave the CSMS; the answers
of real stations are in tests/e2e/test_commands_*.py.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ocpp.models import CommandLog, CommandRequest
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db
# send_command reads the station from asgiref's thread: it must see committed rows.
reaches_dispatch = pytest.mark.django_db(transaction=True)

STATION = "/api/v1/charge-points/{}/{}"


def _url(station, path: str) -> str:
    return STATION.format(station.pk, path)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "commands/", {"action": "Reset", "payload": {"type": "Soft"}}),
        ("post", "reset/", {"type": "Soft"}),
        ("post", "remote-start/", {"id_tag": "T1"}),
        ("post", "clear-cache/", {}),
        ("get", "transactions/1/status/", None),
    ],
)
def test_viewer_cannot_command_a_station(make_actor, method, path, body):
    # given
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization)
    # when
    response = getattr(viewer.client, method)(_url(station, path), body, format="json")
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not CommandLog.objects.exists()


def test_viewer_who_operates_another_organization_still_gets_403(make_actor):
    viewer = make_actor("viewer")
    make_actor("operator", user=viewer.user)  # operator elsewhere
    station = ChargePointFactory(organization=viewer.organization)
    response = viewer.client.post(_url(station, "reset/"), {"type": "Soft"})
    assert response.status_code == 403


def test_other_organizations_station_is_404(make_actor):
    operator = make_actor("operator")
    foreign = ChargePointFactory()
    response = operator.client.post(
        _url(foreign, "reset/"), {"type": "Hard"}, format="json"
    )
    assert response.status_code == 404
    assert not CommandLog.objects.exists()


def test_viewer_reads_the_command_log_of_own_stations_only(make_actor):
    viewer = make_actor("viewer")
    own = ChargePointFactory(organization=viewer.organization)
    foreign = ChargePointFactory()
    mine = CommandLog.objects.create(charge_point=own, action="Reset")
    theirs = CommandLog.objects.create(charge_point=foreign, action="Reset")
    listed = viewer.client.get("/api/v1/commands/").json()
    per_station = viewer.client.get(_url(own, "commands/")).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert [row["id"] for row in per_station["results"]] == [mine.pk]
    assert viewer.client.get(f"/api/v1/commands/{theirs.pk}/").status_code == 404
    assert viewer.client.get(_url(foreign, "commands/")).status_code == 404


def test_command_log_filters_by_action_and_outcome(make_actor):
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization)
    CommandLog.objects.create(charge_point=station, action="Reset", outcome="ok")
    wanted = CommandLog.objects.create(
        charge_point=station, action="Reset", outcome="timeout"
    )
    CommandLog.objects.create(charge_point=station, action="ClearCache", outcome="ok")
    response = viewer.client.get("/api/v1/commands/?action=Reset&outcome=timeout")
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


@pytest.mark.parametrize(
    ("version", "path", "body", "field"),
    [
        (
            "1.6",
            "commands/",
            {"action": "Reset", "payload": {"type": "X"}},
            "payload.type",
        ),
        ("1.6", "commands/", {"action": "Reboot", "payload": {}}, "action"),
        ("2.0.1", "commands/", {"action": "GetConfiguration"}, "action"),
        ("1.6", "commands/", {"action": "Reset", "payload": []}, "payload"),
        ("1.6", "commands/", {"action": "Reset", "timeout": 0}, "timeout"),
        ("2.0.1", "commands/", {"action": "Reset", "payload": {}}, "payload"),
        ("1.6", "reset/", {"type": "Sideways"}, "type"),
        ("1.6", "reset/", {"type": "Hard", "evse_id": 1}, "evse_id"),
        ("1.6", "remote-start/", {}, "id_tag"),
        ("1.6", "remote-start/", {"id_tag": "T" * 21}, "id_tag"),
        ("2.0.1", "remote-start/", {"id_tag": "T", "connector_id": 1}, "connector_id"),
        ("1.6", "remote-stop/", {"transaction_id": "abc"}, "transaction_id"),
        ("2.0.1", "unlock/", {"connector_id": 1}, "evse_id"),
        ("1.6", "unlock/", {"evse_id": 1, "connector_id": 2}, "connector_id"),
        ("1.6", "availability/", {"connector_id": 1}, "operative"),
        ("2.0.1", "availability/", {"connector_id": 1, "operative": True}, "evse_id"),
        ("1.6", "trigger/", {"message": "TransactionEvent"}, "message"),
        ("2.0.1", "trigger/", {"message": "Nonsense"}, "message"),
        ("1.6", "data-transfer/", {"message_id": "m"}, "vendor_id"),
        ("1.6", "firmware/update/", {"location": "not a url"}, "location"),
        (
            "1.6",
            "firmware/update/",
            {"location": "https://x.example/f", "signing_certificate": "C"},
            "signature",
        ),
        ("2.0.1", "report/", {"report_base": "Everything"}, "report_base"),
    ],
)
@reaches_dispatch
def test_invalid_input_is_400_naming_the_field(make_actor, version, path, body, field):
    # given: an offline station; validation comes before the station is asked
    operator = make_actor("operator")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version=version
    )
    # when
    response = operator.client.post(_url(station, path), body, format="json")
    # then
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert field in error["details"], error
    assert not CommandRequest.objects.exists()


def test_operation_missing_from_the_version_is_400(make_actor):
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, ocpp_version="1.6")
    response = operator.client.post(_url(station, "report/"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "operation_not_supported"
    assert not CommandRequest.objects.exists()


@reaches_dispatch
def test_offline_station_is_409_and_the_attempt_is_logged(make_actor):
    # given
    operator = make_actor("operator", via="api_key")
    station = ChargePointFactory(organization=operator.organization)
    # when
    response = operator.client.post(_url(station, "clear-cache/"), {}, format="json")
    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "station_offline"
    log = CommandLog.objects.get()
    assert error["details"] == {"command_id": log.pk}
    assert (log.action, log.outcome) == ("ClearCache", "offline")
    assert log.requested_by == f"api-key:{operator.api_key.prefix}"


@reaches_dispatch
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("commands/", {"action": "ClearCache", "payload": {}}),
        ("clear-cache/", {}),
    ],
)
def test_a_command_reads_the_station_no_more_than_it_must(make_actor, path, body):
    # given
    operator = make_actor("operator", via="api_key")
    station = ChargePointFactory(organization=operator.organization)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = operator.client.post(_url(station, path), body, format="json")
    # then: the raw command once (the view's read is the sender's), an
    # operation twice (the view's, then the operation's own)
    assert response.status_code == 409
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and '"chargepoints_chargepoint"' in q["sql"]
    ]
    assert len(reads) == (1 if path == "commands/" else 2), reads


@reaches_dispatch
def test_never_connected_station_is_409(make_actor):
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, ocpp_version=None)
    response = operator.client.post(_url(station, "reset/"), {"type": "Soft"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "station_offline"


@reaches_dispatch
def test_offline_remote_start_keeps_its_request_linked_to_the_attempt(make_actor):
    operator = make_actor("operator")
    station = ChargePointFactory(
        organization=operator.organization, ocpp_version="2.0.1"
    )
    response = operator.client.post(
        _url(station, "remote-start/"), {"id_tag": "T1", "evse_id": 1}, format="json"
    )
    request = CommandRequest.objects.get()
    assert response.status_code == 409
    assert request.command.payload["remoteStartId"] == request.pk
    assert (request.kind, request.id_tag, request.evse_id) == ("remote_start", "T1", 1)
    assert request.requested_by == f"user:{operator.user.username}"


def test_schema_documents_the_command_endpoints(superuser_api_client):
    schema = superuser_api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "commands/",
        "remote-start/",
        "remote-stop/",
        "reset/",
        "unlock/",
        "availability/",
        "trigger/",
        "clear-cache/",
        "data-transfer/",
        "firmware/update/",
        "diagnostics/",
        "report/",
        "transactions/{tx_id}/status/",
    ):
        assert f"/api/v1/charge-points/{{id}}/{path}" in paths, path
    reset = paths["/api/v1/charge-points/{id}/reset/"]["post"]
    assert {"200", "400", "403", "404", "409", "502", "504"} <= set(reset["responses"])
    assert "/api/v1/commands/{id}/" in paths
