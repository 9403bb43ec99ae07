"""csms.bulk: the hot path's bulk inserts and updates, as a caller sees them.

On PostgreSQL each is one statement taking the rows as one JSON document;
these tests hold what that must never change: every row once with its values
as the ORM would store them, nothing carried over to the next statement, a
rolled-back use that does not break the connection, and bad values refused.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.transactions.models import MeterValue, Transaction
from apps.transactions.services.meter_values import ROW_FIELDS, Reading, _row
from csms.bulk import fetch_instances, insert_rows, update_rows
from tests.transactions.factories import TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def reading(volts: int) -> Reading:
    return Reading(
        timestamp=T0,
        measurand="Voltage",
        phase=f"L{volts % 3 + 1}-N",
        location="Outlet",
        context="Sample.Periodic",
        unit="V",
        value=Decimal(volts),
        raw_value=str(volts),
        raw_unit="V",
        multiplier=0,
        format="",
        signed_data={"v": volts},
    )


def rows_for(tx: Transaction, *volts: int) -> list[tuple]:
    head = (tx.charge_point_id, tx.pk, 1, 1)
    return [_row(reading(v), head, T0) for v in volts]


class Boom(Exception):
    pass


def test_rows_inserted_twice_in_one_transaction_are_stored_once_each():
    tx = TransactionFactory()

    with transaction.atomic():
        insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 229), ignore_conflicts=True)
        insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 230), ignore_conflicts=True)

    stored = MeterValue.objects.filter(transaction=tx).order_by("value")
    assert [(m.value, m.signed_data) for m in stored] == [
        (Decimal(229), {"v": 229}),
        (Decimal(230), {"v": 230}),
    ]


def test_an_update_leaves_nothing_behind_for_the_next_one():
    # given: two sessions; the first updated in bulk, then changed again
    first, second = TransactionFactory(), TransactionFactory()
    with transaction.atomic():
        update_rows(Transaction, ["last_meter_wh"], [(Decimal(100), first.pk)])
        Transaction.objects.filter(pk=first.pk).update(last_meter_wh=Decimal(150))

        # when: a bulk update of the second in the same transaction
        update_rows(Transaction, ["last_meter_wh"], [(Decimal(200), second.pk)])

    # then: the first keeps its later value
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.last_meter_wh, second.last_meter_wh) == (Decimal(150), Decimal(200))


def test_a_rolled_back_first_use_does_not_break_the_connection():
    # given: a new connection whose first bulk insert is rolled back
    tx = TransactionFactory()
    connections.close_all()
    with pytest.raises(Boom), transaction.atomic():
        insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 228), ignore_conflicts=True)
        raise Boom

    # when: the same connection inserts again
    insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 231), ignore_conflicts=True)
    with transaction.atomic():
        insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 232), ignore_conflicts=True)

    # then
    assert sorted(
        MeterValue.objects.filter(transaction=tx).values_list("value", flat=True)
    ) == [Decimal(231), Decimal(232)]


def test_values_are_stored_as_the_orm_stores_them():
    # given: a reading with an awkward value of every kind the hot path writes
    tx = TransactionFactory()
    odd = Reading(
        timestamp=datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=UTC),
        measurand="Energy.Active.Import.Register",
        phase="",
        location="Outlet",
        context="Sample.Periodic",
        unit="Wh",
        value=Decimal("12345.67891251"),  # rounded to the column's 6 places
        raw_value='12 "quoted" \\ back\nslash ünïcode',
        raw_unit="kWh",
        multiplier=-3,
        format="SignedData",
        signed_data={"nested": [1, None, "x"], "null": None},
    )
    plain = replace(odd, phase="L1", signed_data=None)

    # when
    insert_rows(
        MeterValue,
        ROW_FIELDS,
        [_row(r, (tx.charge_point_id, tx.pk, 1, 2), T0) for r in (odd, plain)],
    )

    # then
    stored = {m.phase: m for m in MeterValue.objects.filter(transaction=tx)}
    first, second = stored[""], stored["L1"]
    assert (first.timestamp, first.value, first.raw_value, first.multiplier) == (
        odd.timestamp,
        Decimal("12345.678913"),
        odd.raw_value,
        -3,
    )
    assert (first.signed_data, first.evse_id, first.connector_id) == (
        {"nested": [1, None, "x"], "null": None},
        1,
        2,
    )
    assert second.signed_data is None  # SQL NULL, not JSON null
    assert MeterValue.objects.filter(signed_data__isnull=True).count() == 1


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="SQLite has no lengths"
)
def test_a_value_too_long_for_its_column_fails_the_statement_not_silently():
    tx = TransactionFactory()
    long_unit = replace(reading(230), unit="x" * 21)  # the column holds 20
    row = _row(long_unit, (tx.charge_point_id, tx.pk, 1, 1), T0)

    with pytest.raises(DatabaseError), transaction.atomic():
        insert_rows(MeterValue, ROW_FIELDS, [row])

    assert not MeterValue.objects.filter(transaction=tx).exists()


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="PostgreSQL's plan"
)
def test_a_bulk_update_fetches_its_rows_by_key_not_by_scanning_the_table():
    # given: a sessions table of a few thousand rows, with statistics
    first = TransactionFactory()
    Transaction.objects.bulk_create(
        TransactionFactory.build(
            charge_point=first.charge_point, transaction_id=f"T{n}", start_key=f"K{n}"
        )
        for n in range(3000)
    )
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction")
    some = list(Transaction.objects.order_by("pk").values_list("pk", flat=True)[:8])

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        # when: a batch updates a few of them
        update_rows(Transaction, ["last_meter_wh"], [(Decimal(5), pk) for pk in some])
        statement = queries.captured_queries[-1]["sql"]
        # then: PostgreSQL plans the statement with the primary key
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {statement}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "transactions_transaction_pkey" in plan, plan
    assert "Seq Scan on transactions_transaction " not in plan, plan
    assert set(
        Transaction.objects.filter(pk__in=some).values_list("last_meter_wh", flat=True)
    ) == {Decimal(5)}


def test_one_statement_for_many_rows():
    tx = TransactionFactory()
    connection = connections["default"]

    head = (tx.charge_point_id, tx.pk, 1, 1)
    rows = [
        _row(replace(reading(v), timestamp=T0 + timedelta(seconds=v)), head, T0)
        for v in range(200, 260)
    ]

    with CaptureQueriesContext(connection) as queries:
        insert_rows(MeterValue, ROW_FIELDS, rows)

    inserts = [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1  # SQLite: one executemany
    assert MeterValue.objects.filter(transaction=tx).count() == 60


def test_fetched_instances_are_what_the_orm_loads():
    # given: a session with a JSON field and datetimes
    tx = TransactionFactory(stop_authorization={"idTag": "ABC", "n": [1, 2]})
    table = Transaction._meta.db_table

    # when: some fields fetched (named out of the model's order)
    (hot,) = fetch_instances(
        Transaction,
        ("started_at", "id", "charge_point_id"),
        f"{table} WHERE id = %s",
        [tx.pk],
    )
    (whole,) = fetch_instances(
        Transaction,
        None,  # every field
        f"{table} WHERE id = %s",
        [tx.pk],
    )

    # then: the values as the ORM gives them; the rest deferred, loaded on use
    loaded = Transaction.objects.get(pk=tx.pk)
    assert (hot.pk, hot.charge_point_id, hot.started_at) == (
        loaded.pk,
        loaded.charge_point_id,
        loaded.started_at,
    )
    assert hot.get_deferred_fields() >= {"stop_authorization", "status"}
    assert hot.stop_authorization == {"idTag": "ABC", "n": [1, 2]}
    assert not whole.get_deferred_fields()
    assert {
        f.attname: getattr(whole, f.attname) for f in Transaction._meta.concrete_fields
    } == {
        f.attname: getattr(loaded, f.attname) for f in Transaction._meta.concrete_fields
    }
