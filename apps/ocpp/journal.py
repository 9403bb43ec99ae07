"""The message journal, written in bulk with each group commit.

Frames are appended to an in-memory buffer as they pass the edge and inserted
inside the next group-commit transaction, with its other staged writes, so an
incoming CALL's journal row commits together with what its handler wrote.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from apps.ocpp.db import executor
from apps.ocpp.models import MessageLog
from csms.bulk import current_staging, stage_rows

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
    """Insert what is buffered; runs inside the group-commit transaction.

    Inside a batch the rows join the batch's other staged writes (one round
    trip); if the batch is given up they go back to the buffer, to be written
    by its item-by-item rerun.
    """
    rows = []
    while _pending:
        rows.append(_pending.popleft())
    if not rows:
        return
    staging = current_staging()
    if staging is not None:
        staging.on_discard(lambda: _pending.extendleft(reversed(rows)))
    stage_rows(MessageLog, FIELDS, rows)


executor.add_before_commit(flush_pending)
