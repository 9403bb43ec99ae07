"""The hot path inside a group-commit batch: preloaded sessions, staged writes.

``begin_staging`` puts the test in the position of the group-commit thread: the
services stage their writes, and nothing reaches the database until the batch
flushes. The numbers of statements are part of the contract: they are what
makes a batch of hundreds of meter-value messages cost a handful of queries.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from apps.billing.selectors import organization_has_tariffs
from apps.ocpp.db import _without_savepoints  # as in a batch
from apps.organizations.services import organization_read
from apps.transactions.models import MeterValue, Transaction, TransactionEvent
from apps.transactions.services import authorization, locking
from apps.transactions.services.events import (
    TransactionEventInput,
    transaction_event_record,
)
from apps.transactions.services.meter_values import (
    ROW_FIELDS,
    Reading,
    SampledValueInput,
    _row,
    meter_values_report,
)
from apps.transactions.services.start import transaction_start
from apps.transactions.services.stop import transaction_stop_reported
from csms.bulk import begin_staging, end_staging, flush_staged, insert_rows
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory, TransactionFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def energy(minutes: int, wh: str, context: str = "Sample.Periodic"):
    return SampledValueInput(
        timestamp=T0 + timedelta(minutes=minutes),
        raw_value=wh,
        measurand="Energy.Active.Import.Register",
        context=context,
        unit="Wh",
    )


def power(minutes: int, w: str):
    return SampledValueInput(
        timestamp=T0 + timedelta(minutes=minutes),
        raw_value=w,
        measurand="Power.Active.Import",
        unit="W",
    )


def event(event_type: str, seq_no: int, minutes: int, tx: str, **fields):
    return TransactionEventInput(
        event_type=event_type,
        timestamp=T0 + timedelta(minutes=minutes),
        trigger_reason=fields.pop("trigger_reason", "MeterValuePeriodic"),
        seq_no=seq_no,
        transaction_id=tx,
        **fields,
    )


@pytest.fixture
def staging():
    batch = begin_staging()
    yield batch
    end_staging()


def start_sessions(count: int) -> list[tuple[str, str]]:
    """``count`` 2.0.1 stations with a started session each: (station, tx id)."""
    keys = []
    for n in range(count):
        station = ChargePointFactory(id=f"HOT{n}", ocpp_version="2.0.1")
        IdTagFactory(organization=station.organization, id_tag=f"TAG{n}")
        tx = f"tx-{n}"
        transaction_event_record(
            charge_point_id=station.pk,
            event=event(
                "Started",
                0,
                0,
                tx,
                id_token=f"TAG{n}",
                id_token_type="ISO14443",
                evse_id=1,
                connector_id=1,
                charging_state="Charging",
                samples=(energy(0, "1000", "Transaction.Begin"),),
            ),
        )
        keys.append((station.pk, tx))
    flush_staged()  # each start in a batch of its own
    return keys


def test_a_batch_of_routine_events_costs_a_fixed_number_of_statements(
    staging, django_assert_num_queries, django_assert_max_num_queries
):
    # given: five sessions, preloaded by the batch as the executor does
    keys = start_sessions(5)
    with django_assert_num_queries(1):
        locking.preload_transactions(keys)

    # when: each sends an Updated event with two readings
    with django_assert_num_queries(0):
        for station, tx in keys:
            result = transaction_event_record(
                charge_point_id=station,
                event=event(
                    "Updated",
                    1,
                    10,
                    tx,
                    samples=(energy(10, "4000"), power(10, "7000")),
                ),
            )
            assert result.as_dict() == {"authorization": None, "total_cost": None}
    # then: the batch writes them with one statement per table (on PostgreSQL
    # the events go in with a COPY, which the query log does not show)
    with django_assert_max_num_queries(3):
        staging.flush()

    assert TransactionEvent.objects.filter(seq_no=1).count() == 5
    assert MeterValue.objects.filter(context="Sample.Periodic").count() == 10
    for tx in Transaction.objects.filter(transaction_id__in=[k[1] for k in keys]):
        assert (tx.last_seq_no, tx.last_meter_wh, tx.last_power_w, tx.meter_start) == (
            1,
            Decimal(4000),
            Decimal(7000),
            Decimal(1000),
        )


def test_a_repeated_seq_no_is_answered_from_the_stored_event(staging):
    # given
    [(station, tx)] = start_sessions(1)
    updated = event("Updated", 1, 10, tx, samples=(energy(10, "4000"),))
    transaction_event_record(charge_point_id=station, event=updated)
    staging.flush()
    locking.forget_transaction(station, tx)

    # when: the station sends it again (no answer arrived before a reconnect)
    again = transaction_event_record(charge_point_id=station, event=updated)
    staging.flush()

    # then
    assert again.duplicate
    assert TransactionEvent.objects.filter(seq_no=1).count() == 1
    assert MeterValue.objects.filter(context="Sample.Periodic").count() == 1


def test_an_older_reading_arriving_late_moves_the_start_reading(staging):
    # given: a session whose first reading we saw was at minute 10
    [(station, tx)] = start_sessions(1)
    Transaction.objects.filter(transaction_id=tx).update(meter_start=None)
    MeterValue.objects.all().delete()
    locking.forget_transaction(station, tx)
    transaction_event_record(
        charge_point_id=station,
        event=event("Updated", 2, 10, tx, samples=(energy(10, "4000"),)),
    )

    # when: an offline-queued earlier reading comes after it
    transaction_event_record(
        charge_point_id=station,
        event=event("Updated", 1, 5, tx, samples=(energy(5, "2500"),)),
    )
    staging.flush()

    # then: the session starts at the earliest reading, the latest stays latest
    session = Transaction.objects.get(transaction_id=tx)
    assert (session.meter_start, session.last_meter_wh) == (
        Decimal(2500),
        Decimal(4000),
    )


def test_charging_state_follows_the_latest_timestamp_not_arrival(staging):
    [(station, tx)] = start_sessions(1)
    transaction_event_record(
        charge_point_id=station,
        event=event("Updated", 2, 20, tx, charging_state="SuspendedEV"),
    )
    transaction_event_record(
        charge_point_id=station,
        event=event("Updated", 1, 10, tx, charging_state="EVConnected"),
    )
    staging.flush()

    session = Transaction.objects.get(transaction_id=tx)
    assert (session.charging_state, session.charging_state_at) == (
        "SuspendedEV",
        T0 + timedelta(minutes=20),
    )


def test_16_meter_values_of_a_preloaded_session_are_staged(
    staging, django_assert_num_queries
):
    # given
    session = TransactionFactory(transaction_id="77")
    locking.preload_transactions([(session.charge_point_id, "77")])

    # when
    with django_assert_num_queries(0):
        found = meter_values_report(
            charge_point_id=session.charge_point_id,
            samples=[energy(1, "1500"), power(1, "11000")],
            evse_id=1,
            connector_id=1,
            transaction_id="77",
        )
    # PostgreSQL: the insert and the update in one round trip
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        staging.flush()

    # then
    assert found.pk == session.pk
    session.refresh_from_db()
    assert (session.last_meter_wh, session.last_power_w) == (
        Decimal(1500),
        Decimal(11000),
    )
    assert MeterValue.objects.filter(transaction=session).count() == 2


def test_preload_locks_exactly_the_named_sessions():
    # given: station A's session "1" and station B's session "2"; A/2 and B/1
    # would match a per-column IN, and must not be touched
    a = ChargePointFactory(id="A")
    b = ChargePointFactory(id="B")
    wanted = [
        TransactionFactory(charge_point=a, transaction_id="1"),
        TransactionFactory(charge_point=b, transaction_id="2"),
    ]
    others = [
        TransactionFactory(charge_point=a, transaction_id="2"),
        TransactionFactory(charge_point=b, transaction_id="1"),
    ]
    staging = begin_staging()
    try:
        locking.preload_transactions([("A", "1"), ("B", "2"), ("A", "3")])
        cached = dict(staging.cache)
    finally:
        end_staging()

    assert {tx.pk for tx in cached.values() if tx} == {tx.pk for tx in wanted}
    assert (locking.KIND, "A", "3") in cached and cached[
        (locking.KIND, "A", "3")
    ] is None
    assert not {tx.pk for tx in others} & {tx.pk for tx in cached.values() if tx}


def test_insert_rows_ignoring_conflicts_keeps_the_first_copy():
    station = ChargePointFactory(id="DUP")
    head = ("DUP", None, 0, 0)
    first = Reading(
        timestamp=T0,
        measurand="Voltage",
        phase="",
        location="Outlet",
        context="Sample.Periodic",
        unit="V",
        value=Decimal(230),
        raw_value="230",
        raw_unit="V",
        multiplier=0,
        format="",
        signed_data={"signedMeterData": "AA"},
    )
    again = replace(first, value=Decimal(231), raw_value="231", signed_data=None)
    insert_rows(MeterValue, ROW_FIELDS, [_row(first, head, T0)], ignore_conflicts=True)

    insert_rows(
        MeterValue,
        ROW_FIELDS,
        [_row(first, head, T0), _row(again, head, T0)],
        ignore_conflicts=True,
    )

    stored = MeterValue.objects.get(charge_point=station)
    assert (stored.value, stored.signed_data) == (
        Decimal(230),
        {"signedMeterData": "AA"},
    )


def _warm_batch_cache(organization_id: int) -> None:
    """What the batch's first item reads once for all: organization, tariffs."""
    organization_read(organization_id)
    organization_has_tariffs(organization_id)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite takes a savepoint for every atomic block, batch or not",
)
def test_session_starts_and_stops_of_a_preloaded_batch_cost_one_insert_each(
    staging, django_assert_num_queries
):
    # given: a 1.6 and a 2.0.1 station with a token each, preloaded as the
    # executor preloads what the edge names
    cp16 = ChargePointFactory(id="S16", ocpp_version="1.6")
    ChargePointFactory(id="S201", ocpp_version="2.0.1", organization=cp16.organization)
    org = cp16.organization_id
    IdTagFactory(organization=cp16.organization, id_tag="T16")
    IdTagFactory(organization=cp16.organization, id_tag="T201")
    authorization.preload_id_tags([(org, "T16"), (org, "T201")])
    locking.preload_whole_transactions([("S201", "tx-a")])
    _warm_batch_cache(org)

    # when: both start; then: one INSERT of the session each
    with _without_savepoints(), django_assert_num_queries(2):
        start = transaction_start(
            charge_point_id="S16",
            organization_id=org,
            ocpp_version="1.6",
            connector_id=1,
            id_tag="T16",
            meter_start=1000,
            timestamp=T0,
        )
        started = transaction_event_record(
            charge_point_id="S201",
            organization_id=org,
            ocpp_version="2.0.1",
            event=event(
                "Started",
                0,
                0,
                "tx-a",
                trigger_reason="Authorized",
                id_token="T201",
                id_token_type="ISO14443",
                evse_id=1,
                connector_id=1,
                charging_state="Charging",
                samples=(energy(0, "1000", "Transaction.Begin"),),
            ),
        )
    staging.flush()
    assert start.authorization.accepted and started.authorization.accepted

    # given: the next batch, which preloads both sessions whole
    staging.cache.clear()
    authorization.preload_id_tags([(org, "T16"), (org, "T201")])
    locking.preload_whole_transactions(
        [("S16", str(start.transaction_id)), ("S201", "tx-a")]
    )
    _warm_batch_cache(org)

    # when: both stop; then: nothing but what the batch writes in bulk
    with _without_savepoints(), django_assert_num_queries(0):
        stop_transaction_reported = transaction_stop_reported(
            charge_point_id="S16",
            organization_id=org,
            transaction_id=str(start.transaction_id),
            stopped_at=T0 + timedelta(minutes=30),
            meter_stop=Decimal(5000),
            reason="Local",
            id_tag="T16",
            samples=[energy(30, "5000", "Transaction.End")],
        )
        ended = transaction_event_record(
            charge_point_id="S201",
            organization_id=org,
            ocpp_version="2.0.1",
            event=event(
                "Ended",
                1,
                30,
                "tx-a",
                trigger_reason="StopAuthorized",
                id_token="T201",
                id_token_type="ISO14443",
                charging_state="EVConnected",
                stopped_reason="Local",
                samples=(energy(30, "6000", "Transaction.End"),),
            ),
        )
    staging.flush()

    # then: both are complete, with their energy, events and readings kept
    assert stop_transaction_reported.authorization.accepted
    assert ended.authorization.accepted
    sessions = {
        tx.charge_point_id: tx
        for tx in Transaction.objects.filter(charge_point_id__in=["S16", "S201"])
    }
    assert {k: (tx.status, tx.energy_wh) for k, tx in sessions.items()} == {
        "S16": ("completed", Decimal(4000)),
        "S201": ("completed", Decimal(5000)),
    }
    assert sorted(
        TransactionEvent.objects.filter(transaction=sessions["S201"]).values_list(
            "seq_no", "response__authorization__status"
        )
    ) == [(0, "Accepted"), (1, "Accepted")]
    assert MeterValue.objects.filter(context="Transaction.End").count() == 2
