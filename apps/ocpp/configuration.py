"""Reading and changing a station's configuration, whatever its OCPP version.

One neutral shape for the API and the admin: 1.6 configuration keys
(GetConfiguration, ChangeConfiguration one key at a time) and 2.0.1/2.1 device
model variables (GetVariables, SetVariables batched, GetBaseReport and
GetReport answered by NotifyReport parts). Every answer is stored as the
station's last known configuration (``apps.chargepoints.services``). Batches
respect the limits the station reported (1.6 ``GetConfigurationMaxKeys``,
2.0.1 ``DeviceDataCtrlr.ItemsPerMessage[GetVariables|SetVariables]``, B05.FR.11,
B06.FR.05); an unknown limit sends everything in one message.

Synchronous, for views, admin pages and Celery tasks; errors are
``send_command``'s (offline 409, timeout 504, CallError 502, invalid 400).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType

from django.conf import settings

from apps.chargepoints.models import ChargePoint, DeviceModelReport, VariableAttribute
from apps.chargepoints.services.configuration import (
    configuration_key_changed,
    configuration_keys_reported,
    configured_limit,
)
from apps.chargepoints.services.device_model import (
    VariableRef,
    VariableResult,
    device_model_attributes,
    device_model_report_answered,
    device_model_report_start,
    device_model_values_read,
    device_model_values_set,
)
from apps.ocpp.dispatch import (
    InvalidCommand,
    StationOffline,
    StationRejected,
    send_command,
)
from apps.ocpp.models import CommandRequest
from apps.ocpp.v16 import mappers_configuration as v16
from apps.ocpp.v201 import mappers_configuration as v201
from csms.errors import ApplicationError, NotFound

REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
COMPONENT_CRITERIA = ("Active", "Available", "Enabled", "Problem")
ACTUAL = VariableAttribute.Type.ACTUAL
# Longest value each version's schema allows (ChangeConfiguration.value,
# SetVariableData.attributeValue).
VALUE_MAX_LENGTH = {"1.6": 500, "2.0.1": 1000, "2.1": 2500}
_REPORT_ENDED = {
    DeviceModelReport.Status.COMPLETE,
    DeviceModelReport.Status.REFUSED,
    DeviceModelReport.Status.FAILED,
}


@dataclass(frozen=True)
class ConfigurationChange:
    """A value to set: a 1.6 ``key``, or a 2.0.1 variable ``ref``."""

    value: str
    key: str = ""
    ref: VariableRef | None = None
    attribute_type: str | None = None


@dataclass(frozen=True)
class ChangeResult:
    change: ConfigurationChange
    status: str  # the station's, or "CallError" when it answered one
    status_info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefreshResult:
    """How a refresh went: ``status`` is the station's answer to a report
    request (None for GetConfiguration/GetVariables); ``complete`` is false
    while report parts are still outstanding."""

    status: str | None = None
    complete: bool = True
    report: DeviceModelReport | None = None
    results: list = field(default_factory=list)


def station_version(station_id: str) -> str:
    version = (
        ChargePoint.objects.filter(pk=station_id)
        .values_list("ocpp_version", flat=True)
        .first()
    )
    if version is None:
        if not ChargePoint.objects.filter(pk=station_id).exists():
            raise NotFound(f"Station {station_id} does not exist.")
        raise StationOffline(
            f"Station {station_id} has never connected; its OCPP version is unknown."
        )
    return version


def _mapper(version: str) -> ModuleType:
    return v16 if version == "1.6" else v201


def parse_refs(keys: Iterable[str], field_name: str = "key") -> list[VariableRef]:
    try:
        return [VariableRef.parse(key) for key in keys]
    except ValueError as error:
        raise InvalidCommand(str(error), details={field_name: [str(error)]}) from None


def _batches(items: list, limit: int | None) -> list[list]:
    size = limit or len(items) or 1
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- read ----------------------------------------------------------------------


def configuration_get(
    station_id: str, *, keys: list[str] | None = None, requested_by: str = ""
) -> RefreshResult:
    """Ask the station for its configuration and store the answer.

    1.6: GetConfiguration for ``keys`` (all keys without). 2.0.1/2.1: GetVariables
    for ``keys`` (variable references), or for every stored variable; with
    nothing stored yet, a FullInventory base report (B07.FR.14), waited for.
    """
    version = station_version(station_id)
    if version == "1.6":
        return _get_configuration(station_id, keys, requested_by)
    if keys:
        refs = parse_refs(keys)
        if not all(ref.variable for ref in refs):
            raise InvalidCommand(
                "GetVariables needs a variable for each component "
                "(a whole component is read with a report: criteria).",
                details={"key": ["Name a variable: Component.Variable."]},
            )
        items = [(ref, ACTUAL) for ref in refs]
    else:
        items = [
            (VariableRef.of(attribute.variable), attribute.type)
            for attribute in device_model_attributes(charge_point_id=station_id)
            if attribute.mutability != VariableAttribute.Mutability.WRITE_ONLY
        ]
        if not items:
            return device_model_report_request(
                station_id,
                report_base="FullInventory",
                requested_by=requested_by,
                wait=settings.OCPP_REPORT_WAIT,
            )
    return RefreshResult(results=_get_variables(station_id, items, requested_by))


def _get_configuration(
    station_id: str, keys: list[str] | None, requested_by: str
) -> RefreshResult:
    limit = configured_limit(charge_point_id=station_id, name="get_items")
    for batch in _batches(list(keys), limit) if keys else [None]:
        result = send_command(
            station_id,
            "GetConfiguration",
            v16.get_configuration(batch),
            requested_by=requested_by,
        )
        reported, unknown = v16.reported_keys(result.response)
        configuration_keys_reported(
            charge_point_id=station_id,
            keys=reported,
            unknown=unknown,
            complete=batch is None,
        )
    return RefreshResult()


def _get_variables(
    station_id: str, items: list[tuple[VariableRef, str]], requested_by: str
) -> list[VariableResult]:
    limit = configured_limit(charge_point_id=station_id, name="get_items")
    results: list[VariableResult] = []
    for batch in _batches(items, limit):
        result = send_command(
            station_id,
            "GetVariables",
            v201.get_variables(batch),
            requested_by=requested_by,
        )
        answered = v201.get_variable_results(result.response)
        device_model_values_read(charge_point_id=station_id, results=answered)
        results.extend(answered)
    return results


# --- reports -------------------------------------------------------------------


def _new_request_id(station_id: str, requested_by: str) -> int:
    """The requestId, from the one allocator of ids stations echo back."""
    return CommandRequest.objects.create(
        charge_point_id=station_id,
        kind=CommandRequest.Kind.REPORT,
        requested_by=requested_by[:150],
    ).pk


def device_model_report_request(
    station_id: str,
    *,
    report_base: str | None = None,
    criteria: list[str] | None = None,
    keys: list[str] | None = None,
    requested_by: str = "",
    wait: float | None = None,
) -> RefreshResult:
    """GetBaseReport (``report_base``) or GetReport (``criteria`` and/or ``keys``).

    The report is recorded before it is requested, so parts arriving with the
    answer are not missed; ``wait`` seconds: wait for its last part.
    """
    if station_version(station_id) == "1.6":
        raise InvalidCommand(
            "Reports are an OCPP 2.0.1 feature; a 1.6 station is read with "
            "GetConfiguration.",
            details={"report": ["Needs an OCPP 2.0.1 or 2.1 station."]},
        )
    refs = parse_refs(keys or [])
    request_id = _new_request_id(station_id, requested_by)
    if report_base:
        action, payload = "GetBaseReport", v201.get_base_report(request_id, report_base)
        recorded = {"report_base": report_base}
    else:
        action = "GetReport"
        payload = v201.get_report(request_id, criteria or [], refs)
        recorded = {"criteria": {"criteria": criteria or [], "keys": list(keys or [])}}
    device_model_report_start(
        charge_point_id=station_id,
        request_id=request_id,
        requested_by=requested_by,
        **recorded,
    )
    try:
        result = send_command(station_id, action, payload, requested_by=requested_by)
    except ApplicationError:
        device_model_report_answered(
            charge_point_id=station_id, request_id=request_id, station_status=None
        )
        raise
    report = device_model_report_answered(
        charge_point_id=station_id, request_id=request_id, station_status=result.status
    )
    if wait and result.status == "Accepted":
        report = _wait_for_report(report, wait)
    return RefreshResult(
        status=result.status, complete=report.status in _REPORT_ENDED, report=report
    )


def _wait_for_report(report: DeviceModelReport, timeout: float) -> DeviceModelReport:
    deadline = time.monotonic() + timeout
    while report.status not in _REPORT_ENDED and time.monotonic() < deadline:
        time.sleep(0.1)
        report.refresh_from_db()
    return report


# --- write ---------------------------------------------------------------------


def configuration_set(
    station_id: str, changes: list[ConfigurationChange], *, requested_by: str = ""
) -> list[ChangeResult]:
    """Set values; per change, the station's answer (incl. RebootRequired).

    Every change is checked before the first is sent, so an invalid one never
    leaves the configuration half changed.
    """
    version = station_version(station_id)
    _check_values(version, changes)
    if version == "1.6":
        if not all(change.key for change in changes):
            raise InvalidCommand(
                "A 1.6 station is configured by key.", details={"key": ["Required."]}
            )
        return [_change_configuration(station_id, c, requested_by) for c in changes]
    return _set_variables(station_id, changes, requested_by)


def _check_values(version: str, changes: list[ConfigurationChange]) -> None:
    limit = VALUE_MAX_LENGTH.get(version, 1000)
    errors = {
        f"{index}.value": [f"At most {limit} characters for OCPP {version}."]
        for index, change in enumerate(changes)
        if len(change.value) > limit
    }
    if errors:
        raise InvalidCommand("A value is too long for the station.", details=errors)


def _change_configuration(
    station_id: str, change: ConfigurationChange, requested_by: str
) -> ChangeResult:
    try:
        result = send_command(
            station_id,
            "ChangeConfiguration",
            v16.change_configuration(change.key, change.value),
            requested_by=requested_by,
        )
    except StationRejected as error:  # one key's CallError; the others go on
        return ChangeResult(change, "CallError", dict(error.details))
    configuration_key_changed(
        charge_point_id=station_id,
        key=change.key,
        value=change.value,
        status=result.status or "",
    )
    return ChangeResult(change, result.status or "")


def _set_variables(
    station_id: str, changes: list[ConfigurationChange], requested_by: str
) -> list[ChangeResult]:
    seen = set()
    for change in changes:
        if change.ref is None or not change.ref.variable:
            raise InvalidCommand(
                "A 2.0.1 station is configured by component and variable.",
                details={"variable": ["Required."]},
            )
        identity = (change.ref, change.attribute_type or ACTUAL)
        if identity in seen:  # B05.FR.13
            raise InvalidCommand(
                f"{change.ref} ({identity[1]}) is set twice.",
                details={"variable": [f"{change.ref} is set twice."]},
            )
        seen.add(identity)
    limit = configured_limit(charge_point_id=station_id, name="set_items")
    results = []
    for batch in _batches(changes, limit):
        result = send_command(
            station_id,
            "SetVariables",
            v201.set_variables([(c.ref, c.attribute_type, c.value) for c in batch]),
            requested_by=requested_by,
        )
        paired = _pair(batch, v201.set_variable_results(result.response))
        device_model_values_set(
            charge_point_id=station_id,
            results=[
                VariableResult(c.ref, a.attribute_type, a.status, c.value)
                for c, a in paired
                if a is not None
            ],
        )
        results.extend(
            ChangeResult(c, a.status, a.status_info)
            if a is not None
            else ChangeResult(c, "NoAnswer")
            for c, a in paired
        )
    return results


def _pair(
    batch: list[ConfigurationChange], answered: list[VariableResult]
) -> list[tuple[ConfigurationChange, VariableResult | None]]:
    """Each change with its result: by component, variable and attribute type
    (B05.FR.02), else by position (B05.FR.01: one result per element)."""
    by_identity = {(a.ref, a.attribute_type): a for a in answered}
    positional = len(answered) == len(batch)
    return [
        (
            change,
            by_identity.get((change.ref, change.attribute_type or ACTUAL))
            or (answered[index] if positional else None),
        )
        for index, change in enumerate(batch)
    ]
