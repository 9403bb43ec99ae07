"""OCPP 1.6 sessions: StartTransaction and StopTransaction services."""

import logging
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db import transaction as db_transaction

from apps.transactions.models import MeterValue, Transaction
from apps.transactions.services.meter_values import SampledValueInput
from apps.transactions.services.start import transaction_start
from apps.transactions.services.stop import (
    transaction_force_stop,
    transaction_stop_reported,
)
from csms.errors import Conflict
from tests.factories import ChargePointFactory, OrganizationFactory
from tests.transactions.factories import IdTagFactory, TariffFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def station():
    return ChargePointFactory(id="CP16")


@pytest.fixture
def card(station):
    return IdTagFactory(organization=station.organization, id_tag="CARD1")


def start(station, *, id_tag="CARD1", meter_start=1000, timestamp=T0, connector_id=1):
    return transaction_start(
        charge_point_id=station.pk,
        connector_id=connector_id,
        id_tag=id_tag,
        meter_start=meter_start,
        timestamp=timestamp,
    )


def register(minutes: int, wh: str) -> SampledValueInput:
    return SampledValueInput(
        timestamp=T0 + timedelta(minutes=minutes),
        raw_value=wh,
        measurand="Energy.Active.Import.Register",
        unit="Wh",
    )


def test_start_allocates_the_row_id_as_integer_transaction_id(
    station, card, published, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = start(station)

    # then
    tx = Transaction.objects.get()
    assert result.transaction_id == tx.pk
    assert result.created is True
    assert result.authorization.status == "Accepted"
    assert (tx.transaction_id, tx.connector_id, tx.evse_id) == (str(tx.pk), 1, 1)
    assert (tx.id_tag, tx.token_id, tx.auth_status) == ("CARD1", card.pk, "Accepted")
    assert (tx.started_at, tx.meter_start, tx.status) == (T0, Decimal(1000), "active")
    assert [e["type"] for e in published] == ["transaction.started"]
    assert published[0]["data"]["transaction_id"] == str(tx.pk)


def test_transaction_ids_are_unique_across_stations(card):
    other = ChargePointFactory(organization=card.organization)
    first = start(ChargePointFactory(organization=card.organization))
    second = start(other)

    assert first.transaction_id != second.transaction_id


def test_repeated_start_returns_the_same_id_and_changes_nothing(
    station, card, published, django_capture_on_commit_callbacks
):
    # given
    first = start(station)

    # when: the station resends after a reconnect
    with django_capture_on_commit_callbacks(execute=True):
        again = start(station)

    # then
    assert again.transaction_id == first.transaction_id
    assert again.authorization == first.authorization
    assert again.created is False
    assert Transaction.objects.count() == 1
    assert published == []


def test_a_start_differing_in_meter_start_is_a_new_session(station, card):
    first = start(station)
    second = start(station, meter_start=1001)

    assert second.transaction_id != first.transaction_id


def test_start_with_blocked_token_is_recorded_with_its_status(station):
    IdTagFactory(organization=station.organization, id_tag="BAD", status="Blocked")

    result = start(station, id_tag="BAD")

    assert result.authorization.status == "Blocked"
    assert Transaction.objects.get().auth_status == "Blocked"


def test_start_with_unknown_token_is_recorded_as_invalid(station):
    result = start(station, id_tag="WHO")

    assert result.authorization.status == "Invalid"
    assert Transaction.objects.get().token is None


def test_stop_stores_meter_stop_energy_reason_and_transaction_data(
    station, card, published, django_capture_on_commit_callbacks
):
    # given
    result = start(station)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        report = transaction_stop_reported(
            charge_point_id=station.pk,
            transaction_id=str(result.transaction_id),
            stopped_at=T0 + timedelta(minutes=30),
            meter_stop=Decimal(8500),
            reason="EVDisconnected",
            id_tag="CARD1",
            samples=[
                SampledValueInput(
                    timestamp=T0 + timedelta(minutes=15), raw_value="4.75", unit="kWh"
                )
            ],
        )

    # then
    tx = Transaction.objects.get()
    assert report.authorization.status == "Accepted"
    assert (tx.status, tx.stopped_at) == ("completed", T0 + timedelta(minutes=30))
    assert (tx.meter_stop, tx.energy_wh) == (Decimal(8500), Decimal(7500))
    assert (tx.stop_reason, tx.stopped_by, tx.stop_id_tag) == (
        "EVDisconnected",
        "station",
        "CARD1",
    )
    assert tx.stop_token_mismatch is False
    value = MeterValue.objects.get()
    assert (value.transaction, value.value, value.unit) == (tx, Decimal(4750), "Wh")
    assert (value.raw_value, value.raw_unit) == ("4.75", "kWh")
    assert [e["type"] for e in published] == ["transaction.stopped"]


def test_stop_without_reason_is_local(station, card):
    result = start(station)

    transaction_stop_reported(
        charge_point_id=station.pk,
        transaction_id=str(result.transaction_id),
        stopped_at=T0 + timedelta(minutes=5),
        meter_stop=Decimal(1200),
    )

    tx = Transaction.objects.get()
    assert (tx.stop_reason, tx.energy_wh, tx.stop_id_tag) == ("Local", Decimal(200), "")


def test_stop_of_unknown_transaction_is_answered_and_logged(station, card, caplog):
    # when
    with caplog.at_level(logging.WARNING, logger="apps.transactions.services.stop"):
        report = transaction_stop_reported(
            charge_point_id=station.pk,
            transaction_id="424242",
            stopped_at=T0,
            meter_stop=Decimal(5000),
            id_tag="CARD1",
            samples=[register(0, "5000")],
        )

    # then
    assert report.transaction is None
    assert report.authorization.status == "Accepted"
    assert "unknown transaction 424242 on CP16" in caplog.text
    assert Transaction.objects.count() == 0
    assert MeterValue.objects.get().transaction is None


def test_repeated_stop_gets_the_same_answer_and_changes_nothing(
    station, card, published, django_capture_on_commit_callbacks
):
    # given
    result = start(station)
    stop = {
        "charge_point_id": station.pk,
        "transaction_id": str(result.transaction_id),
        "stopped_at": T0 + timedelta(minutes=10),
        "meter_stop": Decimal(2000),
        "id_tag": "CARD1",
    }
    first = transaction_stop_reported(**stop)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        again = transaction_stop_reported(**{**stop, "meter_stop": Decimal(9999)})

    # then
    assert again.authorization == first.authorization
    assert again.duplicate is True
    assert Transaction.objects.get().meter_stop == Decimal(2000)
    assert published == []


@pytest.mark.parametrize(
    ("policy", "answered"), [("reject", "Invalid"), ("accept_flag", "Accepted")]
)
def test_stop_with_a_foreign_token_is_flagged_and_answered_per_policy(
    policy, answered, caplog
):
    # given
    organization = OrganizationFactory(stop_token_mismatch=policy)
    station = ChargePointFactory(organization=organization)
    IdTagFactory(organization=organization, id_tag="ALICE", parent_id_tag="HOME")
    IdTagFactory(organization=organization, id_tag="MALLORY", parent_id_tag="WORK")
    result = start(station, id_tag="ALICE")

    # when
    report = transaction_stop_reported(
        charge_point_id=station.pk,
        transaction_id=str(result.transaction_id),
        stopped_at=T0 + timedelta(minutes=10),
        meter_stop=Decimal(3000),
        id_tag="MALLORY",
    )

    # then: the stop itself is always recorded (the CSMS cannot refuse it)
    tx = Transaction.objects.get()
    assert report.authorization.status == answered
    assert (tx.status, tx.energy_wh) == ("completed", Decimal(2000))
    assert (tx.stop_id_tag, tx.stop_token_mismatch) == ("MALLORY", True)
    assert "stopped with token 'MALLORY', started with 'ALICE'" in caplog.text


@pytest.mark.parametrize(
    ("stop_tag", "stop_parent"),
    [("BOB", "FAMILY"), ("FAMILY", "")],
    ids=["same-group", "the-group-token-itself"],
)
def test_stop_with_a_token_of_the_same_group_is_not_an_anomaly(stop_tag, stop_parent):
    organization = OrganizationFactory(stop_token_mismatch="reject")
    station = ChargePointFactory(organization=organization)
    IdTagFactory(organization=organization, id_tag="ALICE", parent_id_tag="FAMILY")
    IdTagFactory(organization=organization, id_tag=stop_tag, parent_id_tag=stop_parent)
    result = start(station, id_tag="ALICE")

    report = transaction_stop_reported(
        charge_point_id=station.pk,
        transaction_id=str(result.transaction_id),
        stopped_at=T0 + timedelta(minutes=10),
        meter_stop=Decimal(3000),
        id_tag=stop_tag,
    )

    assert report.authorization.status == "Accepted"
    assert Transaction.objects.get().stop_token_mismatch is False


def test_offline_sessions_replayed_keep_their_original_timestamps(station, card):
    # given: the station was offline two days ago and queued two sessions
    day = T0 - timedelta(days=2)
    first = start(station, timestamp=day, meter_start=100)
    transaction_stop_reported(
        charge_point_id=station.pk,
        transaction_id=str(first.transaction_id),
        stopped_at=day + timedelta(hours=1),
        meter_stop=Decimal(7100),
        samples=[
            SampledValueInput(
                timestamp=day + timedelta(minutes=30), raw_value="3600", unit="Wh"
            )
        ],
    )
    second = start(station, timestamp=day + timedelta(hours=2), meter_start=7100)
    transaction_stop_reported(
        charge_point_id=station.pk,
        transaction_id=str(second.transaction_id),
        stopped_at=day + timedelta(hours=3),
        meter_stop=Decimal(9100),
    )

    # when: the whole queue is replayed once more after another reconnect
    assert start(station, timestamp=day, meter_start=100).created is False

    # then
    sessions = list(
        Transaction.objects.order_by("started_at").values_list(
            "started_at", "stopped_at", "energy_wh"
        )
    )
    assert sessions == [
        (day, day + timedelta(hours=1), Decimal(7000)),
        (day + timedelta(hours=2), day + timedelta(hours=3), Decimal(2000)),
    ]
    assert MeterValue.objects.get().timestamp == day + timedelta(minutes=30)


def test_force_stop_uses_the_latest_meter_reading(
    station, card, published, django_capture_on_commit_callbacks
):
    # given: a session whose station went silent after a reading of 6 kWh
    result = start(station)
    tx = Transaction.objects.get(pk=result.transaction.pk)
    tx.last_meter_wh, tx.last_meter_at = Decimal(6000), T0 + timedelta(minutes=40)
    tx.save()
    TariffFactory(organization=station.organization, price_per_kwh=Decimal("0.50"))
    at = T0 + timedelta(hours=3)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        stopped = transaction_force_stop(transaction=tx, at=at)

    # then
    assert (stopped.status, stopped.stopped_by, stopped.stop_reason) == (
        "completed",
        "operator",
        "Other",
    )
    assert (stopped.meter_stop, stopped.energy_wh) == (Decimal(6000), Decimal(5000))
    assert stopped.billing.total == Decimal("2.50")
    assert [e["type"] for e in published] == [
        "transaction.stopped",
        "transaction.billed",
    ]


def test_force_stop_of_a_completed_session_is_a_conflict(station, card):
    result = start(station)
    tx = transaction_force_stop(transaction=result.transaction, at=T0)

    with pytest.raises(Conflict):
        transaction_force_stop(transaction=tx)


def test_station_stop_after_a_force_stop_corrects_the_record(
    station, card, published, django_capture_on_commit_callbacks
):
    # given
    result = start(station)
    transaction_force_stop(transaction=result.transaction, at=T0 + timedelta(hours=5))

    # when: the station reconnects and delivers its real stop
    with django_capture_on_commit_callbacks(execute=True):
        transaction_stop_reported(
            charge_point_id=station.pk,
            transaction_id=str(result.transaction_id),
            stopped_at=T0 + timedelta(hours=1),
            meter_stop=Decimal(11000),
            reason="Local",
        )

    # then
    tx = Transaction.objects.get()
    assert (tx.stopped_at, tx.energy_wh, tx.stopped_by) == (
        T0 + timedelta(hours=1),
        Decimal(10000),
        "station",
    )
    assert published[0]["type"] == "transaction.stopped"
    assert published[0]["data"]["corrected"] is True


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_one_start_create_one_session():
    # given: four workers deliver the same StartTransaction at the same moment
    station = ChargePointFactory(id="CP-RACE")
    IdTagFactory(organization=station.organization, id_tag="CARD1")
    barrier = threading.Barrier(4)
    answers: list[int] = []

    def deliver():
        try:
            barrier.wait()
            with db_transaction.atomic():
                answers.append(start(station).transaction_id)
        finally:
            connection.close()

    # when
    workers = [threading.Thread(target=deliver) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    # then
    assert len(answers) == 4
    assert len(set(answers)) == 1
    assert Transaction.objects.count() == 1
