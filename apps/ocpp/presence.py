"""Last-seen stamps, kept in memory and written with the next group commit.

Every frame from a station proves it is alive, but writing that per frame would
double the database work of the hot path; one UPDATE per station per second at
most is plenty for offline detection, which works in heartbeat intervals.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from apps.chargepoints.models import ChargePoint
from apps.ocpp.db import executor

WRITE_EVERY_S = 1.0

_seen: dict[str, datetime] = {}
_last_write = 0.0


def touch(charge_point_id: str) -> None:
    _seen[charge_point_id] = datetime.now(UTC)


def flush_pending(force: bool = False) -> None:
    """Write the stamps; runs inside the group-commit transaction."""
    global _last_write
    now = time.monotonic()
    if not _seen or (not force and now - _last_write < WRITE_EVERY_S):
        return
    _last_write = now
    stamps = dict(_seen)
    _seen.clear()
    for charge_point_id, seen_at in stamps.items():
        ChargePoint.objects.filter(pk=charge_point_id).update(last_seen_at=seen_at)


def has_pending() -> bool:
    return bool(_seen)


executor.add_before_commit(flush_pending)
