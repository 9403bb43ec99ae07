"""Last-seen stamps: kept in memory, written in one statement per group commit."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from apps.chargepoints.models import ChargePoint
from apps.ocpp import presence
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_stamps_of_every_station_go_in_with_one_write():
    stations = [ChargePointFactory(id=f"SEEN{n}", last_seen_at=None) for n in range(3)]
    for station in stations:
        presence.touch(station.id)

    presence.flush_pending(force=True)

    assert not presence.has_pending()
    assert ChargePoint.objects.filter(last_seen_at__isnull=True).count() == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer: no row locks"
)
def test_a_row_another_batch_holds_is_skipped_not_waited_for():
    # given: another worker's batch holds one station's row
    held, free = ChargePointFactory(id="HELD"), ChargePointFactory(id="FREE")
    locked, release = threading.Event(), threading.Event()

    def other_batch():
        with transaction.atomic():
            ChargePoint.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(10)
        connections.close_all()

    worker = threading.Thread(target=other_batch)
    worker.start()
    locked.wait(5)
    presence.touch(held.pk)
    presence.touch(free.pk)

    # when
    started = time.monotonic()
    with transaction.atomic():
        presence.flush_pending(force=True)
    took = time.monotonic() - started
    release.set()
    worker.join()

    # then
    assert took < 1
    stamped = dict(ChargePoint.objects.values_list("id", "last_seen_at"))
    assert stamped["FREE"] is not None
    assert stamped["HELD"] == held.last_seen_at
