"""csms.bulk: the hot path's bulk inserts and updates, as a caller sees them.

On PostgreSQL both go through a per-connection scratch table (COPY in, one
statement out); these tests hold what that must never change: every row once,
nothing left over for the next statement, and a rolled-back first use that
does not break the connection.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.transactions.models import MeterValue, Transaction
from apps.transactions.services.meter_values import ROW_FIELDS, Reading, _row
from csms import bulk
from csms.bulk import insert_rows, update_rows
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

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        # when: a batch updates a few of them
        update_rows(Transaction, ["last_meter_wh"], [(Decimal(1), first.pk)])
        statement = queries.captured_queries[-1]["sql"]
        # then: PostgreSQL plans the statement with the primary key
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO csms_scratch_transactions_transaction "
                "(last_meter_wh, id) SELECT 5, id FROM transactions_transaction "
                "ORDER BY id LIMIT 8"
            )
            cursor.execute(f"EXPLAIN {statement}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "transactions_transaction_pkey" in plan, plan
    assert "Seq Scan on transactions_transaction " not in plan, plan


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="PostgreSQL's scratch tables"
)
def test_a_scratch_table_gives_its_space_back_every_so_many_rows(monkeypatch):
    # given: a scratch table recycled every 3 rows (temporary tables are never
    # vacuumed: the rows the statements took out still hold their pages)
    monkeypatch.setattr(bulk, "SCRATCH_RECYCLE_ROWS", 3)
    tx = TransactionFactory()
    connection = connections["default"]

    def scratch_bytes() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_relation_size('csms_scratch_transactions_metervalue')"
            )
            return cursor.fetchone()[0]

    # when: two rows go through it, then a third
    insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 221, 222), ignore_conflicts=True)
    before = scratch_bytes()
    insert_rows(MeterValue, ROW_FIELDS, rows_for(tx, 223), ignore_conflicts=True)

    # then: the dead rows' pages are gone after the third, and every row is stored
    assert (before > 0, scratch_bytes()) == (True, 0)
    assert MeterValue.objects.filter(transaction=tx).count() == 3
