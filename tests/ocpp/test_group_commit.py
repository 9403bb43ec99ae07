"""The group-commit executor: ordering, preloading and the one-by-one fallback."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection, connections, transaction

from apps.ocpp import db, journal
from apps.ocpp.db import GroupCommitExecutor
from apps.ocpp.models import MessageLog
from apps.organizations.models import Organization
from csms.bulk import batch_cache, stage_rows
from tests.factories import ChargePointFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def executor():
    ex = GroupCommitExecutor()
    yield ex
    ex.shutdown()
    connections.close_all()


@pytest.fixture
def preloads(monkeypatch):
    calls = []

    def preload(keys):
        calls.append(sorted(keys))
        cache = batch_cache()
        for key in keys:
            cache[("test", key)] = f"row {key}"

    monkeypatch.setitem(db._preloaders, "test", preload)
    return calls


async def submit_together(executor, *items):
    """Queue every item before the thread takes the first: one batch."""
    gate = executor.submit(_block)  # keeps the thread busy while we queue
    futures = []
    for staged, fn, key in items:
        if staged:
            futures.append(executor.submit_staged(fn, ("test", key), (key,), {}))
        else:
            futures.append(executor.submit(fn, key))
    _release.set()
    await gate
    return await asyncio.gather(*futures, return_exceptions=True)


_release = None


def _block():
    _release.wait(5)


@pytest.fixture(autouse=True)
def release_gate():
    global _release
    _release = threading.Event()


async def test_ordinary_items_run_first_and_staged_rows_are_preloaded_once(
    executor, preloads
):
    order = []

    def ordinary(key):
        order.append(("ordinary", key))
        return key

    def staged(key):
        order.append(("staged", key, batch_cache()[("test", key)]))
        return key

    results = await submit_together(
        executor,
        (True, staged, "a"),
        (False, ordinary, "b"),
        (True, staged, "c"),
    )

    assert results == ["a", "b", "c"]  # in submission order
    assert order == [
        ("ordinary", "b"),
        ("staged", "a", "row a"),
        ("staged", "c", "row c"),
    ]
    assert preloads == [["a", "c"]]


async def test_ordinary_items_rows_are_preloaded_together_before_they_run(
    executor, preloads
):
    # given: two ordinary items naming rows, one naming two (and nothing)
    def ordinary(*keys):
        return [batch_cache().get(("test", key)) for key in keys]

    gate = executor.submit(_block)
    first = executor.submit_preloaded(ordinary, ("test", "a"), ("a",), {})
    second = executor.submit_preloaded(  # None: a key the message lacked
        ordinary, [("test", "b"), None, ("test", "c")], ("b", "c"), {}
    )
    _release.set()
    await gate

    # then: one preload for the batch, before either ran
    assert await first == ["row a"]
    assert await second == ["row b", "row c"]
    assert preloads == [["a", "b", "c"]]


async def test_a_failing_item_costs_no_other_item_its_result(executor, preloads):
    def staged(key):
        if key == "bad":
            raise ValueError("bad message")
        # Run on its own after the failed batch: no preload, the item reads.
        return batch_cache().get(("test", key), "read by itself")

    results = await submit_together(
        executor, (True, staged, "ok"), (True, staged, "bad")
    )

    assert results[0] == "read by itself"
    assert isinstance(results[1], ValueError)


async def test_after_commit_work_runs_outside_the_batch_and_cannot_fail_it(executor):
    # given: work after every batch, which fails
    seen = []

    def after():
        seen.append(connection.in_atomic_block)
        raise RuntimeError("stamps could not be written")

    executor.add_after_commit(after)

    # when
    result = await executor.submit(lambda: "answer")

    # then: the item keeps its result; the work ran, outside a transaction
    assert result == "answer"
    await asyncio.sleep(0.05)
    assert seen and not any(seen)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite savepoints cost no round trip; Django always takes them there",
)
async def test_the_batch_pass_takes_no_savepoints(executor, preloads):
    def nested(key):
        with transaction.atomic():
            return connection.savepoint_ids[-1]

    results = await submit_together(executor, (False, nested, "a"))

    assert results == [None]  # no SAVEPOINT round trip


@pytest.mark.usefixtures("thread_connections")
async def test_an_error_swallowed_inside_a_nested_block_reruns_the_batch(executor):
    # given: an item that catches a duplicate-key error, as get_or_create does,
    # batched with an item that writes
    org = await sync_to_async(OrganizationFactory)()

    def duplicate_then_read(key):
        try:
            with transaction.atomic():
                Organization.objects.create(name="Twin", slug=org.slug)
        except IntegrityError:
            return Organization.objects.get(slug=org.slug).pk

    def write(key):
        return Organization.objects.create(name=key, slug=key).pk

    # when
    results = await submit_together(
        executor, (False, write, "kept"), (False, duplicate_then_read, "")
    )

    # then: run again one by one, with savepoints: both did their work
    assert results[1] == org.pk
    assert await sync_to_async(Organization.objects.filter(pk=results[0]).exists)()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one worker (one writer)"
)
async def test_with_two_workers_a_slow_batch_does_not_hold_up_the_next():
    # given: two workers, the first stuck in a slow item
    two = GroupCommitExecutor(threads=2)
    stuck = threading.Event()
    try:
        slow = two.submit(stuck.wait, 5)
        await asyncio.sleep(0.1)  # the first worker has taken it

        # when / then: the second worker answers the next item meanwhile
        assert await asyncio.wait_for(two.submit(lambda: "quick"), 2) == "quick"
        assert not slow.done()
        stuck.set()
        assert await slow is True
    finally:
        stuck.set()
        two.shutdown()
        connections.close_all()


@pytest.mark.usefixtures("thread_connections")
async def test_connects_in_one_batch_share_one_locked_read_of_their_stations(
    executor, release_gate
):
    # given: two stations, one of which connects twice in the same batch
    from apps.chargepoints.models import ChargePoint
    from apps.chargepoints.services.lifecycle import preload_key
    from tests.e2e.helpers import PASSWORD, admit_station, make_station

    await sync_to_async(make_station)("ADM-1")
    await sync_to_async(make_station)("ADM-2")
    queries = []

    def admit(station_id, channel):
        connection.force_debug_cursor = True  # the worker's own connection
        before = len(connection.queries)
        admission = admit_station(
            station_id, station_id, PASSWORD, channel_name=channel
        )
        queries.append([q["sql"] for q in connection.queries[before:]])
        return admission

    def submit(station_id, channel):
        return executor.submit_preloaded(
            admit, preload_key(station_id), (station_id, channel), {}
        )

    # when: all three are queued before the worker takes the first
    gate = executor.submit(_block)
    futures = [
        submit("ADM-1", "ch-a"),
        submit("ADM-2", "ch-b"),
        submit("ADM-1", "ch-c"),
    ]
    _release.set()
    await gate
    first, second, third = await asyncio.gather(*futures)

    # then: each admitted; the later connect replaces the earlier one's channel
    assert [a.refusal for a in (first, second, third)] == ["", "", ""]
    assert (first.previous_channel, third.previous_channel) == ("", "ch-a")
    station = await sync_to_async(ChargePoint.objects.get)(pk="ADM-1")
    assert (station.is_online, station.channel_name) == (True, "ch-c")
    # and each connect wrote its row with one statement; the read was the batch's
    assert [len(q) for q in queries] == [1, 1, 1]
    assert all(q[0].startswith("UPDATE") for q in queries)


@pytest.mark.usefixtures("thread_connections")
async def test_journal_rows_survive_a_batch_whose_writes_fail(executor):
    # given: the journal with the batch; two stations' frames buffered, one of
    # whose items stages a row the database refuses at the batch's flush
    executor.add_before_commit(journal.flush_pending)
    station = await sync_to_async(ChargePointFactory)()
    journal.record(station.pk, "in", '[2,"1","Heartbeat",{}]')
    journal.record(station.pk, "in", '[2,"2","Heartbeat",{}]')

    def refused(key):
        stage_rows(MessageLog, journal.FIELDS, [(None, "in", "x", 2, "", "", None)])
        return key

    # when
    results = await submit_together(
        executor, (False, lambda key: key, "fine"), (False, refused, "refused")
    )

    # then: the batch was rerun item by item; every buffered frame is written
    assert results[0] == "fine"
    assert isinstance(results[1], IntegrityError)
    frames = await sync_to_async(
        lambda: sorted(MessageLog.objects.values_list("frame", flat=True))
    )()
    assert frames == ['[2,"1","Heartbeat",{}]', '[2,"2","Heartbeat",{}]']


async def test_a_small_batch_waits_to_gather_messages_arriving_meanwhile(settings):
    # given: batches gather for up to 300 ms until they hold three messages
    settings.OCPP_GROUP_COMMIT_GATHER_MS = 300
    settings.OCPP_GROUP_COMMIT_GATHER_BATCH = 3
    executor = GroupCommitExecutor(threads=1)

    def batch_id(_):
        return batch_cache()  # one per batch (kept alive by the result)

    try:
        # when: three messages 30 ms apart, then a fourth much later
        first = executor.submit(batch_id, 1)
        await asyncio.sleep(0.03)
        second = executor.submit(batch_id, 2)
        await asyncio.sleep(0.03)
        third = executor.submit(batch_id, 3)
        together = await asyncio.gather(first, second, third)
        started = asyncio.get_running_loop().time()
        alone = await executor.submit(batch_id, 4)
        waited = asyncio.get_running_loop().time() - started
    finally:
        executor.shutdown()
        await sync_to_async(connections.close_all)()

    # then: the three shared one batch; the lone one waited out the window
    assert together[0] is together[1] is together[2]
    assert alone is not together[0]
    assert 0.25 < waited < 2
