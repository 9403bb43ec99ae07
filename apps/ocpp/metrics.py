"""Per-action metrics of incoming CALLs, with children cached off the hot path."""

from __future__ import annotations

from typing import NamedTuple

from apps.operations.metrics import (
    OCPP_HANDLER_SECONDS,
    OCPP_MESSAGES_IN,
    OCPP_MESSAGES_OUT,
)


class CallMetrics(NamedTuple):
    received: object  # Counter child
    answered: object  # Counter child
    seconds: object  # Histogram child


_children: dict[tuple[str, str], CallMetrics] = {}


def call_metrics(version: str, action: str) -> CallMetrics:
    """The counters and latency histogram of one (version, action)."""
    key = (version, action)
    metrics = _children.get(key)
    if metrics is None:
        metrics = _children[key] = CallMetrics(
            OCPP_MESSAGES_IN.labels(version, action),
            OCPP_MESSAGES_OUT.labels(version, action),
            OCPP_HANDLER_SECONDS.labels(version, action),
        )
    return metrics
