"""Last-seen stamps: kept in memory, written in one statement per group commit."""

import gc
import threading
import time

import pytest
from django.db import connection, connections, transaction

from apps.chargepoints.models import ChargePoint
from apps.ocpp import presence
from tests.factories import ChargePointFactory
from tests.transactions.factories import TransactionFactory

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


def test_stamps_added_while_they_are_taken_out_are_not_an_error():
    # given: many pending stamps, and a station stamped again in the middle of
    # taking them out (the event loop's thread runs during a garbage collection)
    station = ChargePointFactory(id="BUSY", last_seen_at=None)
    late = ChargePointFactory(id="LATE", last_seen_at=None)
    for n in range(20_000):
        presence.touch(f"GONE{n}")
    presence.touch(station.id)

    def stamp_during_collection(phase, info):
        if phase == "start":
            presence.touch(late.id)

    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(100)  # collections during the copy, whatever ran before
    gc.enable()
    gc.callbacks.append(stamp_during_collection)
    try:
        # when
        presence.flush_pending(force=True)
    finally:
        gc.callbacks.remove(stamp_during_collection)
        gc.set_threshold(*thresholds)
        if not enabled:
            gc.disable()

    # then: nothing raised, the stamps taken are written, a late one waits or is in
    presence.flush_pending(force=True)
    stamped = dict(ChargePoint.objects.values_list("id", "last_seen_at"))
    assert stamped["BUSY"] is not None and stamped["LATE"] is not None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer: no row locks"
)
def test_stamping_a_station_does_not_hold_up_a_session_that_references_it():
    # given: the stamps' UPDATE holds its rows (in a transaction kept open)
    station = ChargePointFactory(id="STAMPED")
    stamped, release = threading.Event(), threading.Event()

    def stamping():
        with transaction.atomic():
            presence.touch(station.pk)
            presence.flush_pending(force=True)
            stamped.set()
            release.wait(10)
        connections.close_all()

    worker = threading.Thread(target=stamping)
    worker.start()
    stamped.wait(5)

    # when: another worker's batch inserts a session of that station
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")
            session = TransactionFactory(charge_point=station)
    finally:
        release.set()
        worker.join()

    # then: the foreign-key check did not wait for the stamps' lock
    assert session.pk is not None


def test_a_stamp_is_written_again_only_once_the_stored_one_is_old(settings):
    # given: a station whose stamp was just written
    settings.OCPP_LAST_SEEN_WRITE_S = 0
    settings.OCPP_LAST_SEEN_RESOLUTION_S = 30
    station = ChargePointFactory(id="CHATTY", last_seen_at=None)
    presence.touch(station.id)
    presence.flush_pending()
    first = ChargePoint.objects.get(pk=station.pk).last_seen_at

    # when: it sends again at once, then after the resolution
    presence.touch(station.id)
    presence.flush_pending()
    soon = ChargePoint.objects.get(pk=station.pk).last_seen_at
    presence._written[station.id] -= 31
    presence.touch(station.id)
    presence.flush_pending()
    later = ChargePoint.objects.get(pk=station.pk).last_seen_at

    # then
    assert first is not None
    assert soon == first
    assert later > first
