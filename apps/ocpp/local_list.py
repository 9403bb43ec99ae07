"""Local authorization lists towards a station: GetLocalListVersion, SendLocalList.

Version-neutral: ``apps.authlists.services`` plans what the station needs, each
version's mapper writes the payloads, ``send_command`` carries them. Used by the
API, the admin and the auto-sync task (all synchronous callers).

A push first asks the station which version it holds (as OCTT's TC_D_02 expects),
then sends the full list or the difference in as many messages as the station's
limit (1.6 ``SendLocalListMaxLength``, 2.0.1 ``LocalAuthListCtrlr.ItemsPerMessage``)
requires. A differential update the station refuses (Failed, VersionMismatch) is
followed by the full list, as OCPP recommends (1.6 §5.15, 2.0.1 D01.FR.03).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from apps.authlists.services import (
    DIFFERENTIAL,
    FULL,
    SyncPlan,
    local_list_plan,
    local_list_sync_result,
    local_list_version_reported,
)
from apps.chargepoints.services.configuration import configured_limit
from apps.ocpp.configuration import station_version
from apps.ocpp.dispatch import send_command
from apps.ocpp.v16 import mappers_local_list as v16
from apps.ocpp.v201 import mappers_local_list as v201
from csms.errors import ApplicationError

_MAPPERS = {"1.6": v16, "2.0.1": v201, "2.1": v201}
NOT_SUPPORTED = -1  # 1.6 GetLocalListVersion: the station has no local list
UP_TO_DATE = "UpToDate"
_RETRY_FULL = frozenset({"Failed", "VersionMismatch"})


@dataclass(frozen=True)
class LocalListPush:
    """The outcome of a push; ``status`` is the station's answer to the last
    SendLocalList, ``UpToDate`` (nothing to send) or ``NotSupported``."""

    status: str
    update_type: str | None
    version: int
    station_version: int
    messages: int
    response: dict | None = None


def _mapper(station_id: str) -> ModuleType:
    return _MAPPERS.get(station_version(station_id), v201)


def local_list_version_get(station_id: str, *, requested_by: str = "") -> int:
    """Ask the station which list version it holds, and remember the answer."""
    mapper = _mapper(station_id)
    result = send_command(
        station_id, "GetLocalListVersion", {}, requested_by=requested_by
    )
    version = mapper.list_version(result.response)
    local_list_version_reported(charge_point_id=station_id, version=version)
    return version


def _send(
    station_id: str, mapper: ModuleType, plan: SyncPlan, requested_by: str
) -> tuple[str, dict | None, int]:
    """Send the plan's messages until one is not accepted; record how far it
    got. Returns the last answer's status and payload, and how many were sent."""
    status, response, accepted, sent = UP_TO_DATE, None, 0, 0
    try:
        for message in plan.messages:
            sent += 1
            result = send_command(
                station_id,
                "SendLocalList",
                mapper.send_local_list(message),
                requested_by=requested_by,
            )
            status, response = result.status or "", result.response
            if status != "Accepted":
                break
            accepted += 1
    except ApplicationError as error:
        local_list_sync_result(
            charge_point_id=station_id, plan=plan, accepted=accepted, status=error.code
        )
        raise
    local_list_sync_result(
        charge_point_id=station_id, plan=plan, accepted=accepted, status=status
    )
    return status, response, sent


def local_list_push(
    station_id: str, *, update_type: str | None = None, requested_by: str = ""
) -> LocalListPush:
    """Bring the station's local list to its list's current version.

    ``update_type`` Full or Differential forces the kind of the first message;
    None sends the difference when the station's content is known exactly.
    """
    mapper = _mapper(station_id)
    held = local_list_version_get(station_id, requested_by=requested_by)
    if held == NOT_SUPPORTED:
        return LocalListPush("NotSupported", None, 0, held, 0)
    limit = configured_limit(charge_point_id=station_id, name="local_list_items")
    plan = local_list_plan(
        charge_point_id=station_id, update_type=update_type, max_items=limit
    )
    status, response, sent = _send(station_id, mapper, plan, requested_by)
    if plan.update_type == DIFFERENTIAL and status in _RETRY_FULL:
        plan = local_list_plan(
            charge_point_id=station_id, update_type=FULL, max_items=limit
        )
        status, response, more = _send(station_id, mapper, plan, requested_by)
        sent += more
    return LocalListPush(status, plan.update_type, plan.version, held, sent, response)
