"""The operator's admin pages for sessions, id tags and tariffs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin import helpers

from apps.transactions.models import IdTag, Transaction
from tests.transactions.factories import (
    IdTagFactory,
    MeterValueFactory,
    TariffFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
CHANGELIST = "/admin/transactions/transaction/"


def test_transaction_list_shows_station_token_energy_and_cost(make_actor):
    actor = make_actor("viewer", via="admin")
    TransactionFactory(
        charge_point__organization=actor.organization,
        charge_point__id="CP-ADM",
        id_tag="CARD-ADM",
        stopped_at=T0 + timedelta(hours=1, minutes=2, seconds=3),
        started_at=T0,
        energy_wh=Decimal(12345),
        status="completed",
    )
    TransactionFactory(charge_point__id="CP-OTHER")

    response = actor.client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "CP-ADM" in page and "CARD-ADM" in page
    assert "1:02:03" in page and "12.345" in page
    assert "CP-OTHER" not in page


def test_transaction_page_draws_power_and_energy_and_lists_meter_values(make_actor):
    actor = make_actor("viewer", via="admin")
    tx = TransactionFactory(charge_point__organization=actor.organization)
    for minute in range(5):
        moment = T0 + timedelta(minutes=minute)
        MeterValueFactory(
            transaction=tx, timestamp=moment, value=Decimal(1000 + 500 * minute)
        )
        MeterValueFactory(
            transaction=tx,
            timestamp=moment,
            measurand="Power.Active.Import",
            unit="W",
            value=Decimal(7400),
        )

    response = actor.client.get(f"{CHANGELIST}{tx.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page and page.count("<polyline") == 2
    assert "Meter values (10)" in page
    assert "Power.Active.Import" in page


def test_force_stop_action_asks_first_then_stops(make_actor):
    # given
    actor = make_actor("operator", via="admin")
    tx = TransactionFactory(
        charge_point__organization=actor.organization, last_meter_wh=Decimal(3000)
    )
    TariffFactory(organization=actor.organization, price_per_kwh=Decimal("1.00"))
    selection = {"action": "force_stop_selected", helpers.ACTION_CHECKBOX_NAME: [tx.pk]}

    # when: first the confirmation page
    asked = actor.client.post(CHANGELIST, selection)

    # then
    assert asked.status_code == 200
    assert "Close these sessions without the station?" in asked.content.decode()
    assert Transaction.objects.get().status == "active"

    # when: confirmed
    done = actor.client.post(CHANGELIST, {**selection, "post": "yes"})

    # then
    assert done.status_code == 302
    tx.refresh_from_db()
    assert (tx.status, tx.stopped_by, tx.energy_wh) == (
        "completed",
        "operator",
        Decimal(2000),
    )
    assert tx.billing.total == Decimal("2.00")


def test_viewer_has_no_force_stop_action(make_actor):
    actor = make_actor("viewer", via="admin")
    tx = TransactionFactory(charge_point__organization=actor.organization)

    actor.client.post(
        CHANGELIST,
        {
            "action": "force_stop_selected",
            helpers.ACTION_CHECKBOX_NAME: [tx.pk],
            "post": "yes",
        },
    )

    assert Transaction.objects.get().status == "active"


def test_block_and_unblock_id_tags_in_bulk(make_actor):
    actor = make_actor("operator", via="admin")
    tags = [IdTagFactory(organization=actor.organization) for _ in range(2)]
    foreign = IdTagFactory()
    url = "/admin/transactions/idtag/"
    selected = [tag.pk for tag in tags] + [foreign.pk]

    actor.client.post(
        url, {"action": "block_selected", helpers.ACTION_CHECKBOX_NAME: selected}
    )
    blocked = set(IdTag.objects.values_list("id_tag", "status"))
    actor.client.post(
        url, {"action": "unblock_selected", helpers.ACTION_CHECKBOX_NAME: selected[:1]}
    )

    assert blocked == {
        (tags[0].id_tag, "Blocked"),
        (tags[1].id_tag, "Blocked"),
        (foreign.id_tag, "Accepted"),
    }
    assert IdTag.objects.get(pk=tags[0].pk).status == "Accepted"


def test_operator_adds_an_id_tag_in_the_admin(make_actor):
    actor = make_actor("operator", via="admin")

    response = actor.client.post(
        "/admin/transactions/idtag/add/",
        {
            "organization": actor.organization.pk,
            "id_tag": "NEWCARD",
            "type": "ISO14443",
            "status": "Accepted",
            "parent_id_tag": "",
            "owner_reference": "crm-1",
        },
    )

    assert response.status_code == 302
    assert IdTag.objects.get().owner_reference == "crm-1"


def test_tariff_admin_pages_load(make_actor):
    actor = make_actor("operator", via="admin")
    tariff = TariffFactory(organization=actor.organization)

    listing = actor.client.get("/admin/billing/tariff/")
    change = actor.client.get(f"/admin/billing/tariff/{tariff.pk}/change/")

    assert (listing.status_code, change.status_code) == (200, 200)
    assert tariff.name in listing.content.decode()
