"""Last-seen stamps, kept in memory and written after a group commit.

Every frame from a station proves it is alive, but writing that per frame would
double the database work of the hot path; one UPDATE for all stations every
few seconds is plenty for offline detection, which works in heartbeat intervals.
And a station's stamp is written again only once the one written is
``OCPP_LAST_SEEN_RESOLUTION_S`` old: with 10,000 stations each sending every
few seconds, each write touched every station's row; now about a sixth of
them (offline detection allows for the resolution).

The UPDATE runs on its own, after a batch (not inside one): with 10,000
stations it touches thousands of rows, and inside a batch it held their locks
until that batch committed, where the other worker's inserts of sessions of
those stations (their foreign-key checks) and status updates had to wait.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection

from apps.chargepoints.models import ChargePoint
from apps.ocpp.db import executor

_seen: dict[str, datetime] = {}
_lock = threading.Lock()
_last_write = 0.0
# When this process last wrote each station's stamp (time.monotonic()).
_written: dict[str, float] = {}


def touch(charge_point_id: str) -> None:
    _seen[charge_point_id] = datetime.now(UTC)


def flush_pending(force: bool = False) -> None:
    """Write the stamps in one statement; runs after a group commit.

    ``force``: now, every pending stamp (shutdown, tests)."""
    global _last_write
    with _lock:  # one worker takes the stamps
        now = time.monotonic()
        if not _seen or (
            not force and now - _last_write < settings.OCPP_LAST_SEEN_WRITE_S
        ):
            return
        _last_write = now
        taken = _drain()
    # Two flat lists, not a tuple per station: no tracked object per station
    # for the young garbage collection to count and trace.
    due = now - settings.OCPP_LAST_SEEN_RESOLUTION_S
    ids: list[str] = []
    stamps: list[datetime] = []
    for station, seen in taken.items():
        if force or _written.get(station, due) <= due:
            ids.append(station)
            stamps.append(seen)
            _written[station] = now
    if not ids:
        return
    table = connection.ops.quote_name(ChargePoint._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(
                f"UPDATE {table} SET last_seen_at = %s WHERE id = %s",  # noqa: S608
                zip(
                    map(connection.ops.adapt_datetimefield_value, stamps),
                    ids,
                    strict=True,
                ),
            )
            return
        # Rows a worker's batch holds (a station connecting, booting) are
        # skipped, not waited for; that station's stamp is written with a
        # later frame (offline detection allows for the resolution).
        # NO KEY: the lock an UPDATE of a non-key column takes anyway, which
        # lets inserts that reference the station (sessions) go on.
        cursor.execute(
            f"UPDATE {table} AS cp SET last_seen_at = v.seen "  # noqa: S608
            "FROM unnest(%s::varchar[], %s::timestamptz[]) AS v(id, seen) "
            f"WHERE cp.id = v.id AND cp.id IN (SELECT id FROM {table} "
            "WHERE id = ANY(%s::varchar[]) FOR NO KEY UPDATE SKIP LOCKED)",
            [ids, stamps, ids],
        )


def _drain() -> dict[str, datetime]:
    """Take the stamps out one by one: the event loop's thread goes on adding
    them meanwhile (copying the dict whole failed with "dictionary changed
    size during iteration" with 10,000 stations: a garbage collection inside
    the copy lets the loop's thread run)."""
    taken: dict[str, datetime] = {}
    while True:
        try:
            station, seen = _seen.popitem()
        except KeyError:
            return taken
        # A station taken twice was stamped again meanwhile: the later wins.
        taken[station] = seen


def has_pending() -> bool:
    return bool(_seen)


executor.add_after_commit(flush_pending)
