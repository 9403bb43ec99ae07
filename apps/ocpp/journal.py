"""The message journal, written in bulk with each group commit.

Frames are appended to an in-memory buffer as they pass the edge and inserted
with ``bulk_create`` inside the next group-commit transaction, so an incoming
CALL's journal row commits together with what its handler wrote.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from apps.ocpp.db import executor
from apps.ocpp.models import MessageLog
from csms.bulk import insert_rows

FIELDS = (
    "charge_point",
    "direction",
    "frame",
    "message_type",
    "unique_id",
    "action",
    "created_at",
)
_pending: deque[tuple] = deque()


def record(
    charge_point_id: str,
    direction: str,
    frame: str,
    *,
    message_type: int | None = None,
    unique_id: str = "",
    action: str = "",
) -> None:
    _pending.append(
        (
            charge_point_id,
            direction,
            frame,
            message_type,
            unique_id[:64],
            action[:64],
            datetime.now(UTC),
        )
    )


def has_pending() -> bool:
    return bool(_pending)


def flush_pending() -> None:
    """Insert what is buffered; runs inside the group-commit transaction."""
    rows = []
    while _pending:
        rows.append(_pending.popleft())
    insert_rows(MessageLog, FIELDS, rows)


executor.add_before_commit(flush_pending)
