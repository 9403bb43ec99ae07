"""csms.pgtypes: timestamps from PostgreSQL through psycopg's C loader, same values."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection
from psycopg.pq import Format

from apps.transactions.models import Transaction
from csms.pgtypes import UtcTimestamptzLoader, use_c_timestamp_loader
from tests.transactions.factories import TransactionFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL loader"),
]

TIMESTAMPTZ = psycopg.postgres.types["timestamptz"].oid


def test_a_timestamp_comes_back_in_utc_with_the_standard_time_zone_object():
    with connection.cursor() as cursor:
        assert (
            connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
            is UtcTimestamptzLoader
        )
        cursor.execute(
            "SELECT '2026-03-29 01:30:00.123456+05:30'::timestamptz, "
            "'0001-01-01 00:00:00+00'::timestamptz, NULL::timestamptz"
        )
        local, earliest, missing = cursor.fetchone()
    assert local == datetime(2026, 3, 28, 20, 0, 0, 123456, tzinfo=UTC)
    assert local.tzinfo is UTC and earliest.tzinfo is UTC
    assert earliest == datetime(1, 1, 1, tzinfo=UTC)
    assert missing is None


def test_the_orm_reads_back_what_it_wrote():
    started = datetime(2026, 11, 25, 21, 59, 58, 999999, tzinfo=UTC)
    tx = TransactionFactory(started_at=started)
    loaded = Transaction.objects.get(pk=tx.pk)
    assert loaded.started_at == started
    assert loaded.started_at.tzinfo is UTC
    assert Transaction.objects.filter(
        started_at__gt=started - timedelta(seconds=1)
    ).exists()


def test_a_session_in_another_time_zone_keeps_djangos_loader():
    # The C loader answers in the session's zone; only UTC matches Django's.
    class DjangosLoader(psycopg.types.datetime.TimestamptzLoader):
        pass

    class Wrapper:
        vendor = "postgresql"
        timezone = UTC

        def __init__(self, raw):
            self.connection = raw

    with psycopg.connect(
        **{
            k: v
            for k, v in connection.get_connection_params().items()
            if k != "context"
        },
        context=connection.connection.adapters,
    ) as raw:
        raw.adapters.register_loader(TIMESTAMPTZ, DjangosLoader)
        raw.execute("SET TIME ZONE 'Europe/Berlin'")
        use_c_timestamp_loader(None, Wrapper(raw))
        assert raw.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is DjangosLoader
