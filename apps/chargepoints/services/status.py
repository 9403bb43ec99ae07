"""What a station reports about its connectors: StatusNotification.

On the hot path (the group commit) a batch loads the connectors of all its
status reports' EVSEs with one query (``preload_evses``); each report updates
its connector and EVSE in memory and stages the writes, and its history row
goes in with the batch's bulk insert. No statement of its own.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.chargepoints.models import ChargePoint, Connector, Evse, StatusChange
from apps.events.publisher import publish_event
from csms.bulk import batch_cache, key_chunks, stage_rows, stage_update

STATION_LEVEL = 0
KIND = "evse"

STATUS_CHANGE_FIELDS = (
    "charge_point",
    "evse_id",
    "connector_id",
    "status",
    "previous_status",
    "error_code",
    "info",
    "vendor_error_code",
    "occurred_at",
    "recorded_at",
)
CONNECTOR_FIELDS = (
    "status",
    "error_code",
    "info",
    "vendor_id",
    "vendor_error_code",
    "updated_at",
)


def status_report(
    *,
    charge_point_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    occurred_at: datetime,
    organization_id: int | None = None,
    error_code: str = "",
    info: str = "",
    vendor_id: str = "",
    vendor_error_code: str = "",
) -> bool:
    """Record a reported status; returns whether the current status changed.

    History keeps every report. The current state only moves forward in time:
    a report older than the one shown (replayed after an outage) is history.
    """
    if organization_id is None:
        organization_id = ChargePoint.objects.values_list(
            "organization_id", flat=True
        ).get(pk=charge_point_id)
    if evse_id == STATION_LEVEL:
        previous = ChargePoint.objects.values_list("status", flat=True).get(
            pk=charge_point_id
        )
        current_at = None
    else:
        evse, mine = loaded_connector(charge_point_id, evse_id, connector_id)
        previous, current_at = mine.status, mine.updated_at
    stage_rows(
        StatusChange,
        STATUS_CHANGE_FIELDS,
        [
            (
                charge_point_id,
                evse_id,
                connector_id,
                status,
                previous,
                error_code,
                info,
                vendor_error_code,
                occurred_at,
                timezone.now(),
            )
        ],
    )
    if current_at is not None and occurred_at < current_at:
        return False
    if evse_id == STATION_LEVEL:
        ChargePoint.objects.filter(pk=charge_point_id).update(
            status=status, error_code=error_code
        )
    else:
        mine.status, mine.error_code, mine.info = status, error_code, info
        mine.vendor_id, mine.vendor_error_code = vendor_id, vendor_error_code
        mine.updated_at = occurred_at
        stage_update(mine, CONNECTOR_FIELDS)
        evse_status = _evse_status([c.status for c in evse.loaded_connectors])
        if evse_status != evse.status:  # updated_at: the status's since
            evse.status, evse.updated_at = evse_status, occurred_at
            stage_update(evse, ("status", "updated_at"))
    changed = previous != status
    if changed:
        publish_event(
            "charge_point.status_changed",
            organization_id=organization_id,
            data={
                "charge_point": charge_point_id,
                "evse_id": evse_id,
                "connector_id": connector_id,
                "status": status,
                "previous_status": previous,
                "error_code": error_code,
                "occurred_at": occurred_at,
            },
        )
    return changed


def _evse_status(statuses: list[str]) -> str:
    """An EVSE shows the 'worst' of its connectors' states."""
    present = set(statuses)
    for status in ("Faulted", "Unavailable", "Occupied", "Charging", "Reserved"):
        if status in present:
            return status
    return next(iter(present), "")


def _key(charge_point_id: str, evse_id: int) -> tuple:
    return (KIND, charge_point_id, evse_id)


def loaded_connector(
    charge_point_id: str, evse_id: int, connector_id: int
) -> tuple[Evse, Connector]:
    """The connector and its EVSE, every connector of which is in
    ``loaded_connectors``; the EVSE and the connector are created if new.

    From the batch's preload when there is one. The connectors do not point
    back at the EVSE: a cycle would outlive the batch as garbage for the
    collector (a pair per status report).
    """
    cache = batch_cache()
    key = _key(charge_point_id, evse_id)
    evse = cache.get(key) if cache is not None else None
    connector = _find(evse, connector_id) if evse is not None else None
    if connector is None:
        evse = _load_evse(charge_point_id, evse_id, connector_id)
        if cache is not None:
            cache[key] = evse
        connector = _find(evse, connector_id)
    return evse, connector


def _find(evse: Evse, connector_id: int) -> Connector | None:
    return next(
        (c for c in evse.loaded_connectors if c.connector_id == connector_id), None
    )


def _load_evse(charge_point_id: str, evse_id: int, connector_id: int) -> Evse:
    evse, _ = Evse.objects.get_or_create(
        charge_point_id=charge_point_id, evse_id=evse_id
    )
    Connector.objects.get_or_create(evse=evse, connector_id=connector_id)
    evse.loaded_connectors = list(Connector.objects.filter(evse_id=evse.pk))
    return evse


def preload_evses(keys: list[tuple[str, int]]) -> None:
    """Load the EVSEs ``keys`` name, with their connectors, in one query.

    An EVSE not found is left out: its report creates it.
    """
    wanted = sorted(set(keys))
    quote = connection.ops.quote_name
    evse_table, connector_table = Evse._meta.db_table, Connector._meta.db_table
    cache = batch_cache()
    for condition, params in key_chunks(
        ("e.charge_point_id", "e.evse_id"), ("varchar", "integer"), wanted
    ):
        sql = (
            "SELECT e.id, e.charge_point_id, e.evse_id, e.status, e.updated_at, "  # noqa: S608
            "c.id, c.connector_id, c.status, c.error_code, c.info, c.vendor_id, "
            "c.vendor_error_code, c.updated_at "
            f"FROM {quote(connector_table)} c JOIN {quote(evse_table)} e "
            f"ON c.evse_id = e.id WHERE {condition}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        evses: dict[int, Evse] = {}
        connectors: dict[int, list[Connector]] = {}
        converters = _converters()
        for row in rows:
            row = [
                convert(value) for convert, value in zip(converters, row, strict=True)
            ]
            evse = evses.get(row[0])
            if evse is None:
                evse = evses[row[0]] = Evse(
                    id=row[0],
                    charge_point_id=row[1],
                    evse_id=row[2],
                    status=row[3],
                    updated_at=row[4],
                )
            connectors.setdefault(row[0], []).append(
                Connector(
                    id=row[5],
                    evse_id=row[0],
                    connector_id=row[6],
                    status=row[7],
                    error_code=row[8],
                    info=row[9],
                    vendor_id=row[10],
                    vendor_error_code=row[11],
                    updated_at=row[12],
                )
            )
        for pk, evse in evses.items():
            evse.loaded_connectors = connectors[pk]
            if cache is not None:
                cache[_key(evse.charge_point_id, evse.evse_id)] = evse


def _same(value):
    return value


def _converters() -> list:
    """SQLite hands datetimes back as text: convert them as the ORM would."""
    if connection.vendor != "sqlite":
        return [_same] * 13
    field = Connector._meta.get_field("updated_at")
    to_datetime = connection.ops.convert_datetimefield_value

    def stamp(value):
        return to_datetime(value, field, connection)

    converters = [_same] * 13
    converters[4] = converters[12] = stamp
    return converters


def preload_key(charge_point_id: str, evse_id: int) -> tuple[str, tuple] | None:
    """What a status report's group-commit item names for ``preload_evses``."""
    if evse_id == STATION_LEVEL:
        return None
    return (KIND, (charge_point_id, evse_id))
