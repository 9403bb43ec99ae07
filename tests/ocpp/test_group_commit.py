"""The group-commit executor: ordering, preloading and the one-by-one fallback."""

import asyncio

import pytest
from django.db import connections

from apps.ocpp import db
from apps.ocpp.db import GroupCommitExecutor
from csms.bulk import batch_cache

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
    import threading

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
