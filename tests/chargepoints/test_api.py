import pytest

from apps.chargepoints.models import ChargePoint
from apps.organizations.secrets import verify_secret
from tests.factories import (
    ChargePointFactory,
    ConnectorFactory,
    EvseFactory,
    MembershipFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/charge-points/"
PASSWORD = "a-station-secret-16"

STATION_FIELDS = {
    "id",
    "organization",
    "description",
    "ocpp_version",
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
    "registration_status",
    "security_profile",
    "has_password",
    "heartbeat_interval",
    "status",
    "error_code",
    "is_online",
    "last_seen_at",
    "last_boot_at",
    "connected_at",
    "disconnected_at",
    "node_name",
    "created_at",
    "updated_at",
    "evses",
}


def test_retrieve_shows_the_api_fields_and_nested_evses(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization, id="CP-1")
    evse = EvseFactory(charge_point=station, evse_id=1, status="Available")
    ConnectorFactory(evse=evse, connector_id=2, status="Faulted", error_code="Other")
    ConnectorFactory(evse=evse, connector_id=1, status="Charging")

    # when
    response = actor.client.get(f"{URL}CP-1/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATION_FIELDS
    assert body["organization"] == actor.organization.id
    assert body["ocpp_version"] == "1.6"
    assert body["has_password"] is True
    assert "password" not in body
    assert [e["evse_id"] for e in body["evses"]] == [1]
    connectors = body["evses"][0]["connectors"]
    assert [(c["connector_id"], c["status"], c["error_code"]) for c in connectors] == [
        (1, "Charging", "NoError"),
        (2, "Faulted", "Other"),
    ]
    assert set(connectors[0]) == {
        "connector_id",
        "status",
        "error_code",
        "info",
        "vendor_error_code",
        "updated_at",
    }


def test_list_is_paginated(make_actor):
    # given
    actor = make_actor("viewer")
    for _ in range(3):
        ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(URL, {"page_size": 2, "page": 2})

    # then
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 1
    assert body["next"] is None
    assert body["previous"].endswith("?page_size=2")


def test_page_size_is_capped_at_500(make_actor):
    # given
    actor = make_actor("viewer")
    ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(URL, {"page_size": 100000})

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_out_of_range_page_is_404_not_500(make_actor):
    # given
    actor = make_actor("viewer")

    # when
    response = actor.client.get(URL, {"page": "abc"})

    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_costs_a_constant_number_of_queries(
    make_actor, django_assert_max_num_queries
):
    # given
    actor = make_actor("viewer")
    for _ in range(10):
        station = ChargePointFactory(organization=actor.organization)
        for evse_id in (1, 2):
            evse = EvseFactory(charge_point=station, evse_id=evse_id)
            ConnectorFactory(evse=evse, connector_id=1)
            ConnectorFactory(evse=evse, connector_id=2)

    # when
    # user (JWT), memberships, count, page, EVSEs, connectors
    with django_assert_max_num_queries(6):
        response = actor.client.get(URL)

    # then
    assert response.json()["count"] == 10
    assert len(response.json()["results"][9]["evses"][1]["connectors"]) == 2


def test_operator_creates_a_station_with_a_hashed_password(make_actor):
    # given
    operator = make_actor("operator")

    # when
    response = operator.client.post(
        URL,
        {
            "id": "NEW-1",
            "organization": operator.organization.id,
            "password": PASSWORD,
            "description": "Car park level 2",
            "security_profile": 2,
        },
        format="json",
    )

    # then
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "NEW-1"
    assert body["has_password"] is True
    assert body["registration_status"] == "Accepted"
    assert body["ocpp_version"] is None
    assert body["evses"] == []
    assert "password" not in body
    station = ChargePoint.objects.get(pk="NEW-1")
    assert station.organization == operator.organization
    assert station.security_profile == 2
    assert PASSWORD not in station.password_hash
    assert verify_secret(PASSWORD, station.password_hash)


def test_create_without_organization_uses_the_only_one(make_actor):
    # given
    operator = make_actor("operator")

    # when
    response = operator.client.post(URL, {"id": "NEW-2"}, format="json")

    # then
    assert response.status_code == 201
    assert response.json()["organization"] == operator.organization.id
    assert response.json()["has_password"] is False


def test_create_without_organization_is_400_when_member_of_several(make_actor):
    # given
    operator = make_actor("operator")
    MembershipFactory(user=operator.user, role="operator")

    # when
    response = operator.client.post(URL, {"id": "NEW-3"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "organization": [
            "This field is required unless you belong to exactly one organization."
        ]
    }
    assert not ChargePoint.objects.filter(pk="NEW-3").exists()


def test_viewer_cannot_create(make_actor):
    # given
    viewer = make_actor("viewer")

    # when
    response = viewer.client.post(URL, {"id": "NEW-4"}, format="json")

    # then
    assert response.status_code == 403
    assert not ChargePoint.objects.filter(pk="NEW-4").exists()


def test_operator_elsewhere_cannot_create_where_only_viewer(make_actor):
    # given
    operator = make_actor("operator")
    watched = MembershipFactory(user=operator.user, role="viewer").organization

    # when
    response = operator.client.post(
        URL, {"id": "NEW-5", "organization": watched.id}, format="json"
    )

    # then
    assert response.status_code == 403
    assert not ChargePoint.objects.filter(pk="NEW-5").exists()


@pytest.mark.parametrize(
    "password",
    ["x" * 15, "x" * 41, "sixteen-chars-ü!", "sixteen chars\t12"],
)
def test_create_with_invalid_password_is_400_naming_password(make_actor, password):
    # given
    operator = make_actor("operator")

    # when
    response = operator.client.post(
        URL, {"id": "NEW-6", "password": password}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == ["password"]
    assert not ChargePoint.objects.filter(pk="NEW-6").exists()


@pytest.mark.parametrize("station_id", ["has space", "a/b", "a:b", "x" * 49, ""])
def test_create_with_invalid_identity_is_400_naming_id(make_actor, station_id):
    # given
    operator = make_actor("operator")

    # when
    response = operator.client.post(URL, {"id": station_id}, format="json")

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["id"]


def test_create_with_taken_identity_is_400_and_leaves_the_station_alone(make_actor):
    # given
    operator = make_actor("operator")
    existing = ChargePointFactory(id="TAKEN")
    original_hash = existing.password_hash

    # when
    response = operator.client.post(
        URL, {"id": "TAKEN", "password": PASSWORD}, format="json"
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["id"]
    existing.refresh_from_db()
    assert existing.organization_id != operator.organization.id
    assert existing.password_hash == original_hash


def test_create_with_malformed_json_is_400(make_actor):
    # given
    operator = make_actor("operator")

    # when
    response = operator.client.post(URL, "{not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_retrieve_works_for_identities_with_dots_and_stars(make_actor):
    # given
    actor = make_actor("viewer")
    ChargePointFactory(organization=actor.organization, id="site.1*a~b")

    # when
    response = actor.client.get(f"{URL}site.1*a~b/")

    # then
    assert response.status_code == 200
    assert response.json()["id"] == "site.1*a~b"


def test_operator_patches_configuration(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/",
        {
            "description": "Depot",
            "registration_status": "Rejected",
            "security_profile": 0,
            "heartbeat_interval": 60,
        },
        format="json",
    )

    # then
    assert response.status_code == 200
    station.refresh_from_db()
    assert (
        station.description,
        station.registration_status,
        station.security_profile,
        station.heartbeat_interval,
    ) == ("Depot", "Rejected", 0, 60)


def test_patch_ignores_reported_fields(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, vendor="ACME")

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/", {"vendor": "Forged", "is_online": True}, format="json"
    )

    # then
    assert response.status_code == 200
    station.refresh_from_db()
    assert station.vendor == "ACME"
    assert station.is_online is False


def test_patch_password_replaces_the_hash(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/", {"password": PASSWORD}, format="json"
    )

    # then
    assert response.status_code == 200
    station.refresh_from_db()
    assert verify_secret(PASSWORD, station.password_hash)


def test_patch_password_null_clears_it(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/", {"password": None}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["has_password"] is False


def test_patch_echoing_id_and_organization_is_fine(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/",
        {"id": station.id, "organization": operator.organization.id},
        format="json",
    )

    # then
    assert response.status_code == 200


@pytest.mark.parametrize("field", ["id", "organization"])
def test_patch_changing_id_or_organization_is_400(make_actor, field):
    # given
    operator = make_actor("operator")
    other = MembershipFactory(user=operator.user, role="operator").organization
    station = ChargePointFactory(organization=operator.organization)
    value = {"id": "RENAMED", "organization": other.id}[field]

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/", {field: value}, format="json"
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    station.refresh_from_db()
    assert station.organization == operator.organization


def test_patch_with_invalid_value_is_400_naming_the_field(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.patch(
        f"{URL}{station.id}/", {"security_profile": 7}, format="json"
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["security_profile"]


def test_put_is_not_allowed(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)

    # when
    response = operator.client.put(f"{URL}{station.id}/", {}, format="json")

    # then
    assert response.status_code == 405


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_viewer_cannot_change_or_delete(make_actor, method):
    # given
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization)

    # when
    response = getattr(viewer.client, method)(
        f"{URL}{station.id}/", {"description": "x"}, format="json"
    )

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    station.refresh_from_db()
    assert station.description == ""


def test_operator_deletes_an_offline_station(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization)
    EvseFactory(charge_point=station)

    # when
    response = operator.client.delete(f"{URL}{station.id}/")

    # then
    assert response.status_code == 204
    assert not ChargePoint.objects.filter(pk=station.pk).exists()


def test_deleting_an_online_station_is_409(make_actor):
    # given
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, online=True)

    # when
    response = operator.client.delete(f"{URL}{station.id}/")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "station_online"
    assert ChargePoint.objects.filter(pk=station.pk).exists()


def test_unknown_station_is_404(make_actor):
    # given
    actor = make_actor("viewer")

    # when
    response = actor.client.get(f"{URL}NOPE/")

    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_filters(make_actor):
    # given
    actor = make_actor("viewer")
    org = actor.organization
    ChargePointFactory(organization=org, id="A", online=True, ocpp_version="2.0.1")
    ChargePointFactory(organization=org, id="B", ocpp_version="1.6")
    ChargePointFactory(
        organization=org,
        id="C",
        ocpp_version=None,
        registration_status="Pending",
        security_profile=2,
    )

    def ids(**params):
        return [s["id"] for s in actor.client.get(URL, params).json()["results"]]

    # when / then
    assert ids(is_online="true") == ["A"]
    assert ids(is_online="false") == ["B", "C"]
    assert ids(ocpp_version="1.6") == ["B"]
    assert ids(registration_status="Pending") == ["C"]
    assert ids(security_profile=2) == ["C"]
    assert ids(organization=org.id) == ["A", "B", "C"]


def test_invalid_filter_value_is_400_naming_the_filter(make_actor):
    # given
    actor = make_actor("viewer")

    # when
    response = actor.client.get(URL, {"ocpp_version": "3.0"})

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["ocpp_version"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("depot", ["X1"]),
        ("wallbox", ["X2"]),
        ("SN-777", ["X3"]),
        ("X", ["X1", "X2", "X3"]),
    ],
)
def test_search(make_actor, term, expected):
    # given
    actor = make_actor("viewer")
    org = actor.organization
    ChargePointFactory(organization=org, id="X1", description="Depot north")
    ChargePointFactory(organization=org, id="X2", model="Wallbox Pro")
    ChargePointFactory(organization=org, id="X3", serial_number="SN-777")

    # when
    response = actor.client.get(URL, {"search": term})

    # then
    assert [s["id"] for s in response.json()["results"]] == expected


def test_ordering(make_actor):
    # given
    actor = make_actor("viewer")
    ChargePointFactory(organization=actor.organization, id="A", vendor="Zeta")
    ChargePointFactory(organization=actor.organization, id="B", vendor="Alpha")

    # when
    response = actor.client.get(URL, {"ordering": "vendor"})

    # then
    assert [s["id"] for s in response.json()["results"]] == ["B", "A"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        "a string",
        {"id": 123, "organization": "abc"},
        {"id": None},
        {"id": "OK-1", "heartbeat_interval": -5},
        {"id": "OK-1", "password": 12345},
        {"id": "OK-1", "security_profile": "high"},
        {"id": "OK-1", "registration_status": None},
        {"id": ["a"], "description": {"nested": True}},
    ],
)
def test_odd_create_bodies_are_400_never_500(make_actor, body):
    # given
    operator = make_actor("operator")

    # when
    response = operator.client.post(URL, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["details"]


@pytest.mark.parametrize(
    "params",
    [
        {"organization": "abc"},
        {"security_profile": "9"},
        {"registration_status": "Maybe"},
    ],
)
def test_odd_filter_values_are_400_never_500(make_actor, params):
    # given
    actor = make_actor("viewer")

    # when
    response = actor.client.get(URL, params)

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == list(params)


def test_unknown_ordering_field_is_ignored(make_actor):
    # given
    actor = make_actor("viewer")
    ChargePointFactory(organization=actor.organization)

    # when
    response = actor.client.get(URL, {"ordering": "password_hash"})

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1
