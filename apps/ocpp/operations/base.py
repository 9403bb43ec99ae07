"""What every operation shares: the station's adapter, sending, allocated ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from django.db import transaction as db_transaction

from apps.chargepoints.models import ChargePoint
from apps.ocpp.dispatch import STATION_FIELDS, StationOffline, send_command
from apps.ocpp.models import CommandRequest
from apps.ocpp.outbound import Command
from apps.ocpp.v16 import commands as v16
from apps.ocpp.v21 import commands as v21
from apps.ocpp.v201 import commands as v201
from csms.errors import ApplicationError, NotFound

ADAPTERS: dict[str, ModuleType] = {"1.6": v16, "2.0.1": v201, "2.1": v21}


@dataclass(frozen=True)
class OperationResult:
    """The station's answer to the command an operation sent."""

    action: str
    payload: dict
    response: dict
    command_id: int
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str | None:
        value = self.response.get("status")
        return value if isinstance(value, str) else None

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "response": self.response,
            "command_id": self.command_id,
            "action": self.action,
            **self.extra,
        }


def station_adapter(station_id: str) -> tuple[ChargePoint, ModuleType]:
    """The station and the command builders of its OCPP version."""
    station = (
        ChargePoint.objects.filter(pk=station_id)
        .only("organization_id", *STATION_FIELDS)
        .first()
    )
    if station is None:
        raise NotFound(f"Station {station_id} does not exist.")
    if station.ocpp_version not in ADAPTERS:
        raise StationOffline(
            f"Station {station_id} has never connected; its OCPP version is unknown."
        )
    return station, ADAPTERS[station.ocpp_version]


def send(
    station: ChargePoint,
    command: Command,
    *,
    requested_by: str,
    timeout: float | None,
    request: CommandRequest | None = None,
) -> OperationResult:
    """Send through ``send_command``; link ``request`` to the command's log."""
    try:
        result = send_command(
            station.pk,
            command.action,
            command.payload,
            timeout=timeout,
            requested_by=requested_by,
            station=station,
        )
    except ApplicationError as error:
        if request is not None and error.details.get("command_id"):
            _link(request, error.details["command_id"])
        raise
    extra = {}
    if request is not None:
        _link(request, result.log_id)
        extra = {_REQUEST_KEYS[request.kind]: request.pk}
    return OperationResult(
        command.action, command.payload, result.response, result.log_id, extra
    )


_REQUEST_KEYS = {
    CommandRequest.Kind.REMOTE_START: "remote_start_id",
    CommandRequest.Kind.REPORT: "request_id",
    CommandRequest.Kind.LOG: "request_id",
    CommandRequest.Kind.FIRMWARE: "request_id",
}


def _link(request: CommandRequest, command_id: int) -> None:
    CommandRequest.objects.filter(pk=request.pk).update(command_id=command_id)


def with_request(
    station: ChargePoint,
    kind: str,
    build: Callable[[int], Command],
    *,
    requested_by: str,
    **recorded,
) -> tuple[CommandRequest, Command]:
    """Allocate the id the station will echo back (the row's key) and build
    the command with it; a build error leaves no row behind."""
    with db_transaction.atomic():
        request = CommandRequest.objects.create(
            charge_point=station,
            kind=kind,
            requested_by=requested_by[:150],
            **recorded,
        )
        return request, build(request.pk)
