"""API: /api/v1/transactions/, /api/v1/id-tags/ (API.md "Charging")."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.billing.models import TransactionCost
from apps.transactions.models import IdTag, Transaction
from tests.factories import ChargePointFactory
from tests.transactions.factories import (
    IdTagFactory,
    MeterValueFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)


def ids(response) -> list:
    return [row["id"] for row in response.json()["results"]]


def test_transaction_fields_as_documented(make_actor):
    # given
    actor = make_actor("viewer")
    tx = TransactionFactory(
        charge_point=ChargePointFactory(organization=actor.organization, id="CP-A"),
        transaction_id="42",
        id_tag="CARD1",
        started_at=T0,
        stopped_at=T0 + timedelta(minutes=30),
        status="completed",
        meter_start=Decimal(1000),
        meter_stop=Decimal("13345.5"),
        energy_wh=Decimal("12345.5"),
        stop_reason="Local",
        stopped_by="station",
    )
    TransactionCost.objects.create(
        transaction=tx,
        currency="EUR",
        session_fee=Decimal("1.00"),
        energy_cost=Decimal("3.70"),
        time_cost=Decimal(0),
        idle_cost=Decimal(0),
        total=Decimal("4.70"),
        energy_wh=Decimal("12345.5"),
        charging_seconds=1800,
        idle_seconds=0,
    )

    # when
    response = actor.client.get("/api/v1/transactions/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert {
        key: row[key]
        for key in (
            "id",
            "transaction_id",
            "charge_point",
            "evse_id",
            "connector_id",
            "id_tag",
            "status",
            "started_at",
            "stopped_at",
            "meter_start",
            "meter_stop",
            "energy_wh",
            "stop_reason",
            "cost",
            "currency",
            "duration_s",
        )
    } == {
        "id": tx.pk,
        "transaction_id": 42,
        "charge_point": "CP-A",
        "evse_id": 1,
        "connector_id": 1,
        "id_tag": "CARD1",
        "status": "completed",
        "started_at": "2025-02-01T12:00:00Z",
        "stopped_at": "2025-02-01T12:30:00Z",
        "meter_start": 1000,
        "meter_stop": 13345.5,
        "energy_wh": 12345.5,
        "stop_reason": "Local",
        "cost": "4.70",
        "currency": "EUR",
        "duration_s": 1800,
    }


def test_201_transaction_id_is_a_string_and_live_energy_is_shown(make_actor):
    actor = make_actor("viewer")
    tx = TransactionFactory(
        charge_point__organization=actor.organization,
        ocpp_version="2.0.1",
        transaction_id="abc-123",
        meter_start=Decimal(500),
        last_meter_wh=Decimal(2500),
    )

    row = actor.client.get(f"/api/v1/transactions/{tx.pk}/").json()

    assert (row["transaction_id"], row["energy_wh"], row["cost"]) == (
        "abc-123",
        2000,
        None,
    )


def test_transactions_filter_by_station_status_token_and_start(make_actor):
    # given
    actor = make_actor("viewer")
    station = ChargePointFactory(organization=actor.organization, id="CP-F")
    other_station = ChargePointFactory(organization=actor.organization)
    early = TransactionFactory(charge_point=station, started_at=T0, id_tag="A")
    late = TransactionFactory(
        charge_point=station,
        started_at=T0 + timedelta(days=1),
        id_tag="B",
        status="completed",
    )
    elsewhere = TransactionFactory(
        charge_point=other_station, started_at=T0, id_tag="A"
    )
    client = actor.client

    # when / then
    assert ids(client.get("/api/v1/transactions/?charge_point=CP-F")) == [
        late.pk,
        early.pk,
    ]
    assert ids(client.get("/api/v1/transactions/?status=completed")) == [late.pk]
    # same start: newest row first
    assert ids(client.get("/api/v1/transactions/?status=active")) == [
        elsewhere.pk,
        early.pk,
    ]
    assert ids(client.get("/api/v1/transactions/?id_tag=A")) == [
        elsewhere.pk,
        early.pk,
    ]
    after = "2025-02-01T18:00:00Z"
    assert ids(client.get("/api/v1/transactions/", {"started_after": after})) == [
        late.pk
    ]
    assert ids(client.get("/api/v1/transactions/", {"started_before": after})) == [
        elsewhere.pk,
        early.pk,
    ]


def test_transactions_of_other_organizations_are_invisible(make_actor):
    # given
    actor = make_actor("owner")
    mine = TransactionFactory(charge_point__organization=actor.organization)
    theirs = TransactionFactory()

    # when
    listing = actor.client.get("/api/v1/transactions/")
    detail = actor.client.get(f"/api/v1/transactions/{theirs.pk}/")
    values = actor.client.get(f"/api/v1/transactions/{theirs.pk}/meter-values/")
    stop = actor.client.post(f"/api/v1/transactions/{theirs.pk}/force-stop/")

    # then
    assert ids(listing) == [mine.pk]
    assert (detail.status_code, values.status_code, stop.status_code) == (404, 404, 404)
    assert Transaction.objects.get(pk=theirs.pk).status == "active"


def test_meter_values_of_a_transaction_oldest_first(make_actor):
    actor = make_actor("viewer")
    tx = TransactionFactory(charge_point__organization=actor.organization)
    later = MeterValueFactory(
        transaction=tx, timestamp=T0 + timedelta(minutes=1), value=Decimal(2000)
    )
    first = MeterValueFactory(
        transaction=tx,
        timestamp=T0,
        value=Decimal("1500.5"),
        raw_value="1.5005",
    )

    response = actor.client.get(f"/api/v1/transactions/{tx.pk}/meter-values/")

    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [first.pk, later.pk]
    assert body["results"][0] == {
        "id": first.pk,
        "timestamp": "2025-02-01T12:00:00Z",
        "evse_id": 1,
        "connector_id": 1,
        "measurand": "Energy.Active.Import.Register",
        "phase": "",
        "location": "Outlet",
        "context": "Sample.Periodic",
        "value": 1500.5,
        "unit": "Wh",
        "raw_value": "1.5005",
        "raw_unit": "",
        "multiplier": 0,
        "format": "",
        "signed_data": None,
    }


def test_meter_values_filter_by_measurand(make_actor):
    actor = make_actor("viewer")
    tx = TransactionFactory(charge_point__organization=actor.organization)
    MeterValueFactory(transaction=tx)
    power = MeterValueFactory(
        transaction=tx, measurand="Power.Active.Import", unit="W", value=Decimal(7000)
    )

    response = actor.client.get(
        f"/api/v1/transactions/{tx.pk}/meter-values/?measurand=Power.Active.Import"
    )

    assert ids(response) == [power.pk]


def test_operator_force_stops_a_transaction_with_its_latest_reading(make_actor):
    actor = make_actor("operator")
    tx = TransactionFactory(
        charge_point__organization=actor.organization,
        meter_start=Decimal(1000),
        last_meter_wh=Decimal(4500),
    )

    response = actor.client.post(
        f"/api/v1/transactions/{tx.pk}/force-stop/", {"reason": "Other"}, format="json"
    )

    assert response.status_code == 200
    row = response.json()
    assert (row["status"], row["meter_stop"], row["energy_wh"], row["stop_reason"]) == (
        "completed",
        4500,
        3500,
        "Other",
    )
    again = actor.client.post(f"/api/v1/transactions/{tx.pk}/force-stop/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transaction_completed"


def test_viewer_cannot_force_stop(make_actor):
    actor = make_actor("viewer")
    tx = TransactionFactory(charge_point__organization=actor.organization)

    response = actor.client.post(f"/api/v1/transactions/{tx.pk}/force-stop/")

    assert response.status_code == 403
    assert Transaction.objects.get().status == "active"


def test_id_tag_create_and_read(make_actor):
    # given
    actor = make_actor("operator", via="api_key")

    # when
    response = actor.client.post(
        "/api/v1/id-tags/",
        {
            "id_tag": "04A2B3C4D5",
            "status": "Accepted",
            "expiry_date": "2030-01-01T00:00:00Z",
            "parent_id_tag": "FAMILY",
        },
        format="json",
    )

    # then
    assert response.status_code == 201
    tag = IdTag.objects.get()
    assert response.json() == {
        "id": tag.pk,
        "id_tag": "04A2B3C4D5",
        "type": "ISO14443",
        "status": "Accepted",
        "expiry_date": "2030-01-01T00:00:00Z",
        "parent_id_tag": "FAMILY",
        "owner_reference": "",
        "organization": actor.organization.pk,
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }


def test_id_tag_duplicate_in_an_organization_is_400(make_actor):
    actor = make_actor("operator")
    IdTagFactory(organization=actor.organization, id_tag="DUP")

    response = actor.client.post("/api/v1/id-tags/", {"id_tag": "DUP"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_id_tag_block_by_patch(make_actor):
    actor = make_actor("operator")
    tag = IdTagFactory(organization=actor.organization)

    response = actor.client.patch(
        f"/api/v1/id-tags/{tag.pk}/", {"status": "Blocked"}, format="json"
    )

    assert (response.status_code, response.json()["status"]) == (200, "Blocked")


def test_viewer_cannot_create_id_tags(make_actor):
    actor = make_actor("viewer")

    response = actor.client.post("/api/v1/id-tags/", {"id_tag": "X"}, format="json")

    assert response.status_code == 403
    assert IdTag.objects.count() == 0


def test_id_tags_of_other_organizations_are_invisible_and_untouchable(make_actor):
    # given
    actor = make_actor("owner")
    mine = IdTagFactory(organization=actor.organization)
    theirs = IdTagFactory()

    # when
    listing = actor.client.get("/api/v1/id-tags/")
    patch = actor.client.patch(
        f"/api/v1/id-tags/{theirs.pk}/", {"status": "Blocked"}, format="json"
    )
    delete = actor.client.delete(f"/api/v1/id-tags/{theirs.pk}/")
    into_theirs = actor.client.post(
        "/api/v1/id-tags/",
        {"id_tag": "SNEAK", "organization": theirs.organization.pk},
        format="json",
    )

    # then
    assert ids(listing) == [mine.pk]
    assert (patch.status_code, delete.status_code, into_theirs.status_code) == (
        404,
        404,
        400,
    )
    assert IdTag.objects.get(pk=theirs.pk).status == "Accepted"
    assert IdTag.objects.filter(id_tag="SNEAK").count() == 0
