"""Measure every garbage collection; export the longest pause.

Full collections stall every station held by the process (DESIGN.md, Known
traps), so the pause is worth watching next to what ``gc.freeze`` saves.

The callback only touches plain module variables. It must not call
prometheus_client: a collection can start while this very thread holds a
metric's (non-reentrant) lock, and taking that lock again inside the callback
would deadlock. The metrics read the variables when scraped.
"""

from __future__ import annotations

import gc
import threading
import time

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from apps.operations.metrics import GC_FROZEN_OBJECTS, GC_MAX_PAUSE

_GENERATIONS = 3
_started_at = 0.0
max_pause = 0.0
frozen_objects = 0  # moved to the permanent generation by ``freeze`` so far
pauses = [0] * _GENERATIONS
pause_seconds = [0.0] * _GENERATIONS
_install_lock = threading.Lock()
_installed = False


def _on_gc(phase: str, info: dict) -> None:
    global _started_at, max_pause
    if phase == "start":
        _started_at = time.perf_counter()
        return
    pause = time.perf_counter() - _started_at
    generation = min(int(info.get("generation", 0)), _GENERATIONS - 1)
    pauses[generation] += 1
    pause_seconds[generation] += pause
    if pause > max_pause:
        max_pause = pause


class _PauseCollector(Collector):
    def collect(self):
        count = CounterMetricFamily(
            "csms_gc_pauses", "Garbage collections measured", labels=["generation"]
        )
        total = CounterMetricFamily(
            "csms_gc_pause_seconds",
            "Time spent in garbage collections",
            labels=["generation"],
        )
        for generation in range(_GENERATIONS):
            count.add_metric([str(generation)], pauses[generation])
            total.add_metric([str(generation)], pause_seconds[generation])
        yield count
        yield total


def install() -> bool:
    """Start measuring (once per process). Returns whether this call installed it."""
    global _installed
    with _install_lock:
        if _installed:
            return False
        gc.callbacks.append(_on_gc)
        GC_MAX_PAUSE.set_function(lambda: max_pause)
        GC_FROZEN_OBJECTS.set_function(lambda: frozen_objects)
        REGISTRY.register(_PauseCollector())
        _installed = True
        return True


def freeze(*, full_collect: bool) -> int:
    """Move every live object to the permanent generation, which GC never scans.

    At start-up a full collection first keeps start-up garbage out of it. Later
    only the young generations are collected first: a full collection is the
    very stall this avoids. Cyclic garbage that has aged into the old
    generation by then stays frozen for good; the interval bounds that cost.
    Returns how many objects ``freeze`` has moved so far.
    """
    global frozen_objects
    gc.collect(2 if full_collect else 1)
    # What moves is what no freeze has moved yet (after the collection, nearly
    # all in the oldest generation): counting it costs as much as it is big.
    # gc.get_freeze_count() walks every frozen object: with 800,000 of them, a
    # 100 ms stall of every station (bench/README.md).
    moving = len(gc.get_objects())
    gc.freeze()
    frozen_objects += moving
    return frozen_objects


class FreezeSchedule:
    """When to ``freeze``: every ``interval`` seconds, and once a wave of new
    connections has settled.

    Each new connection leaves some sixty long-lived objects (protocol,
    consumer, session, their queues and tasks) in the young generations; two
    thousand of them made the next middle-generation collection a 110 ms stall
    in the middle of traffic (bench/README.md). Freezing when the wave ends
    takes that collection at a moment of our choosing and keeps those objects
    out of every later one. During a wave (more than a quarter of
    ``after_connections`` new in the last check) it waits, so a reconnect
    storm is not collected again and again.
    """

    def __init__(self, interval: float, after_connections: int, now: float) -> None:
        self.interval = interval
        self.after_connections = after_connections
        self._frozen_at = now
        self._frozen_with = 0
        self._last_seen = 0

    def due(self, now: float, connections: int) -> bool:
        """Whether to freeze now; a True is taken as done."""
        joined_lately = connections - self._last_seen
        self._last_seen = connections
        wave_settled = (
            self.after_connections > 0
            and connections - self._frozen_with >= self.after_connections
            and joined_lately < self.after_connections / 4
        )
        if not wave_settled and now - self._frozen_at < self.interval:
            return False
        self._frozen_at = now
        self._frozen_with = connections
        return True
