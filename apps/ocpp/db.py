"""Group commit: the OCPP edge's one way into the database.

Every handler hands its database work to ``run_db``. One thread per process
takes all work queued since its last round, runs it in a single transaction
together with the pending journal rows and last-seen stamps, commits once, and
only then resolves each caller's future. So a station is answered only after
what the answer acknowledges is durable, while hundreds of stations share one
commit and no message pays a thread hop of its own.

If anything in a batch fails, the batch is rolled back and each item is run
again in a transaction of its own, so one bad message never costs another
station its work.

The hottest handlers (meter values, status) go through ``run_db_staged``:
they name the row they need up front, so the batch loads all of them with one
query, and they stage their writes (``csms.bulk``) instead of issuing them,
so the batch writes them all with a few statements. They run after the
ordinary items, so ordinary ORM code never sees a row they staged. Ordinary
items may name rows to preload too (session starts and stops: their session
and token), and stage writes that only they read back; a service that reads
what may be staged flushes first (``flush_staged``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from apps.operations.metrics import GROUP_COMMIT_ITEMS, GROUP_COMMIT_SECONDS
from csms.bulk import begin_staging, end_staging

logger = logging.getLogger(__name__)

MAX_BATCH = 500
CONNECTION_CHECK_S = 1.0
_STOP = object()


_preloaders: dict[str, Callable[[list], None]] = {}
# What an item names for preloading: one (kind, key), a list of them (a None
# in it names nothing: a key the message may lack), or None.
Preload = tuple[str, Any] | list[tuple[str, Any] | None] | None


def register_preloader(kind: str, loader: Callable[[list], None]) -> None:
    """``loader(keys)`` loads the rows a batch's staged items named into its cache."""
    _preloaders[kind] = loader


class _Item:
    __slots__ = ("fn", "args", "kwargs", "future", "loop", "staged", "preload")

    def __init__(self, fn, args, kwargs, staged=False, preload=()):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.future = None  # set when submitted, with the submitter's loop
        self.loop = None
        self.staged = staged  # stages its writes (run after the ordinary items)
        self.preload = preload  # ((kind, key), ...): the rows it needs


class GroupCommitExecutor:
    """``threads`` workers take batches from one queue, each on its own
    connection: while one waits for PostgreSQL to commit, the next batch runs.
    A station has one message in flight, so its messages never sit in two
    batches at once and keep their order."""

    def __init__(self, threads: int | None = None) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._size = threads  # None: as configured (resolved at first use)
        self._lock = threading.Lock()
        self._take_lock = threading.Lock()
        self._before_commit: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._local = threading.local()  # per worker: its last connection check

    def add_before_commit(self, hook: Callable[[], None]) -> None:
        """Register work run inside every batch's transaction (journal, stamps)."""
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    def add_after_commit(self, hook: Callable[[], None]) -> None:
        """Register work run after every batch, once its stations are answered,
        outside any transaction: writes that need not share the batch's commit
        and whose row locks must not last as long as the batch's."""
        if hook not in self._after_commit:
            self._after_commit.append(hook)

    def submit(self, fn: Callable, *args, **kwargs) -> asyncio.Future:
        return self._submit(_Item(fn, args, kwargs))

    def submit_preloaded(
        self, fn: Callable, preload: Preload, args, kwargs, *, staged: bool = False
    ) -> asyncio.Future:
        item = _Item(fn, args, kwargs, staged=staged, preload=_pairs(preload))
        return self._submit(item)

    def submit_staged(
        self, fn: Callable, preload: Preload, args, kwargs
    ) -> asyncio.Future:
        return self.submit_preloaded(fn, preload, args, kwargs, staged=True)

    def _submit(self, item: _Item) -> asyncio.Future:
        item.loop = asyncio.get_running_loop()
        item.future = item.loop.create_future()
        self._ensure_thread()
        self._queue.put(item)
        return item.future

    def flush_soon(self) -> asyncio.Future:
        """A no-op item: its batch writes whatever the hooks have pending."""
        return self.submit(_noop)

    def _ensure_thread(self) -> None:
        if self._threads and all(t.is_alive() for t in self._threads):
            return
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            size = self._size or _configured_threads()
            while len(self._threads) < size:
                thread = threading.Thread(
                    target=self._run,
                    name=f"ocpp-group-commit-{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Finish queued work, close the workers' connections, stop."""
        with self._lock:
            threads, self._threads = self._threads, []
        alive = [t for t in threads if t.is_alive()]
        for _ in alive:
            self._queue.put(_STOP)
        for thread in alive:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch, stop = self._take()
            if batch or stop:
                self._run_batch(batch)
            if stop:
                connection.close()
                return

    def _take(self) -> tuple[list[_Item], bool]:
        """The next batch, and whether to stop after it.

        One worker takes at a time, so a batch that waits to gather more
        messages is not raced by another worker taking them one by one.
        """
        with self._take_lock:
            first = self._queue.get()
            if first is _STOP:
                return [], True
            batch = [first]
            gather_s, gather_batch = _gathering()
            deadline = time.monotonic() + gather_s
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    wait = deadline - time.monotonic()
                    if len(batch) >= gather_batch or wait <= 0:
                        break
                    try:
                        item = self._queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if item is _STOP:
                    return batch, True
                batch.append(item)
            return batch, False

    def _run_batch(self, batch: list[_Item]) -> None:
        started = time.perf_counter()
        if started - getattr(self._local, "checked_at", 0.0) > CONNECTION_CHECK_S:
            # A health check is a round trip: once a second, not per batch.
            self._local.checked_at = started
            close_old_connections()
        staging = begin_staging()
        try:
            with transaction.atomic(), _without_savepoints():
                results = _call_all(batch)
                if any(isinstance(r, _Failure) for r in results):
                    raise _BatchFailed
                self._run_hooks()  # the journal stages its rows: one flush for all
                staging.flush()
                if connection.needs_rollback:  # an error was caught and swallowed
                    raise _BatchFailed
        except _BatchFailed:
            staging.discard()
            results = self._run_one_by_one(batch)
        except Exception:  # the writes or the commit itself failed
            logger.exception("Group commit failed; retrying one by one")
            staging.discard()
            close_old_connections()  # a broken connection is replaced now
            results = self._run_one_by_one(batch)
        finally:
            end_staging()
        GROUP_COMMIT_SECONDS.observe(time.perf_counter() - started)
        GROUP_COMMIT_ITEMS.observe(len(batch))
        # One wake-up of each loop per batch, not one per message.
        answers: dict[asyncio.AbstractEventLoop, list] = {}
        for item, result in zip(batch, results, strict=True):
            answers.setdefault(item.loop, []).append((item.future, result))
        for loop, resolutions in answers.items():
            loop.call_soon_threadsafe(_resolve_all, resolutions)
        for hook in self._after_commit:
            try:
                hook()
            except Exception:
                logger.exception("After-commit write failed")
                close_old_connections()

    def _run_hooks(self) -> None:
        for hook in self._before_commit:
            hook()

    def _run_one_by_one(self, batch: list[_Item]) -> list:
        results = []
        for item in batch:
            try:
                with transaction.atomic():
                    staging = begin_staging()
                    result = _call(item)
                    if isinstance(result, _Failure):
                        raise _ItemFailed(result)
                    staging.flush()
            except _ItemFailed as failed:
                result = failed.failure
            except Exception as exc:
                result = _Failure(exc)
            results.append(result)
        end_staging()
        try:
            with transaction.atomic():
                self._run_hooks()
        except Exception:
            logger.exception("Journal/stamp flush failed")
        return results


@contextmanager
def _without_savepoints():
    """No savepoints in the batch pass: nested atomic blocks cost two round
    trips each, and the batch needs none. An error inside one fails the whole
    batch, which is then run again item by item, with savepoints."""
    features = connection.features
    features.uses_savepoints = False
    try:
        yield
    finally:
        del features.uses_savepoints  # back to the backend's own value


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


class _BatchFailed(Exception):
    pass


class _ItemFailed(Exception):
    def __init__(self, failure: _Failure):
        self.failure = failure


def _pairs(preload: Preload) -> tuple:
    if not preload:
        return ()
    if isinstance(preload, tuple):
        return (preload,)
    return tuple(pair for pair in preload if pair is not None)


def _preload(items: list[_Item]) -> None:
    keys: dict[str, list] = {}
    for item in items:
        for kind, key in item.preload:
            keys.setdefault(kind, []).append(key)
    for kind, wanted in keys.items():
        _preloaders[kind](wanted)


def _call_all(batch: list[_Item]) -> list:
    """Ordinary items first, then the staged ones; results in batch order.

    Items of different stations are independent, so their order within a
    batch is free; this way no ORM read of an ordinary item can miss a staged
    write, and rows are preloaded after the ordinary items changed them. The
    ordinary items' own rows are preloaded before them, together.
    """
    results: list = [None] * len(batch)
    ordinary = [item for item in batch if not item.staged]
    _preload(ordinary)
    for index, item in enumerate(batch):
        if not item.staged:
            results[index] = _call(item)
    _preload([item for item in batch if item.staged])
    for index, item in enumerate(batch):
        if item.staged:
            results[index] = _call(item)
    return results


def _call(item: _Item) -> Any:
    try:
        return item.fn(*item.args, **item.kwargs)
    except Exception as exc:
        return _Failure(exc)


def _resolve_all(resolutions: list[tuple[asyncio.Future, Any]]) -> None:
    for future, result in resolutions:
        if future.done():
            continue
        if isinstance(result, _Failure):
            future.set_exception(result.exc)
        else:
            future.set_result(result)


def _noop() -> None:
    return None


def _gathering() -> tuple[float, int]:
    """How long a small batch waits for more messages (s), and how many are enough."""
    return (
        settings.OCPP_GROUP_COMMIT_GATHER_MS / 1000,
        settings.OCPP_GROUP_COMMIT_GATHER_BATCH,
    )


def _configured_threads() -> int:
    """As configured; SQLite has one writer, so one there."""
    if connection.vendor == "sqlite":
        return 1
    return settings.OCPP_GROUP_COMMIT_THREADS


executor = GroupCommitExecutor()


async def run_db(fn: Callable, *args, preload: Preload = None, **kwargs) -> Any:
    """Run ``fn(*args, **kwargs)`` in the next group commit; return its result.

    ``preload``: (kind, key) pairs, as for ``run_db_staged``, of rows ``fn``
    will look up (through the batch cache) and that the batch may load for
    all its items at once before running them.
    """
    if preload:
        return await executor.submit_preloaded(fn, preload, args, kwargs)
    return await executor.submit(fn, *args, **kwargs)


async def run_db_staged(fn: Callable, *args, preload: Preload = None, **kwargs) -> Any:
    """``run_db`` for a function that stages its writes (``csms.bulk``).

    ``preload`` is (kind, key) for a preloader registered with
    ``register_preloader``: the batch loads every item's row with one query.
    The function must still work when its row is not preloaded (an item run
    on its own after a failed batch), and must call ``flush_staged`` before
    ORM code that reads what it or an earlier staged item wrote.
    """
    return await executor.submit_staged(fn, preload, args, kwargs)
