"""Per-action message counters, with children cached off the hot path."""

from __future__ import annotations

from apps.operations.metrics import OCPP_MESSAGES_IN, OCPP_MESSAGES_OUT

_children: dict[tuple[str, str, str], object] = {}


def message_counter(direction: str, version: str, action: str):
    key = (direction, version, action)
    child = _children.get(key)
    if child is None:
        family = OCPP_MESSAGES_IN if direction == "in" else OCPP_MESSAGES_OUT
        child = _children[key] = family.labels(version, action)
    return child
