"""Test stations that answer configuration and local-list commands like real ones.

``dynamic(station)`` lets ``station.replies[action]`` be a function of the
request's payload. ``DeviceModel`` answers GetVariables/SetVariables from a
table of values; ``LocalList`` keeps a station's local authorization list and
answers GetLocalListVersion/SendLocalList per OCPP (2.0.1 D01/D02, 1.6 §5.10).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from apps.chargepoints.services.device_model import VariableRef
from apps.ocpp.timeutil import now_ocpp
from tests.stations import Station


class _Replies(dict):
    def __init__(self, station: Station, replies: dict):
        super().__init__(replies)
        self.station = station

    def get(self, action, default=None):
        reply = super().get(action, default)
        if callable(reply):
            # The station records a CALL before it looks up its answer.
            return reply(self.station.received_calls[-1][1])
        return reply


def dynamic(station: Station, **replies: Callable | dict) -> Station:
    station.replies = _Replies(station, {**station.replies, **replies})
    return station


def calls(station: Station, action: str) -> list[dict]:
    return [payload for name, payload in station.received_calls if name == action]


async def wait_for_calls(
    station: Station, action: str, count: int = 1, timeout: float = 10
) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(calls(station, action)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{action} x{count} not received; got {station.received_calls!r}"
            )
        await asyncio.sleep(0.02)
    return calls(station, action)


# --- 2.0.1 device model ---------------------------------------------------------


def component(key: str) -> dict:
    ref = VariableRef.parse(key)
    data: dict = {"name": ref.component}
    if ref.component_instance:
        data["instance"] = ref.component_instance
    if ref.evse_id is not None:
        data["evse"] = {"id": ref.evse_id}
        if ref.connector_id is not None:
            data["evse"]["connectorId"] = ref.connector_id
    return data


def variable(key: str) -> dict:
    ref = VariableRef.parse(key)
    data = {"name": ref.variable}
    if ref.variable_instance:
        data["instance"] = ref.variable_instance
    return data


def key_of(item: dict) -> str:
    evse = item["component"].get("evse") or {}
    return str(
        VariableRef(
            component=item["component"]["name"],
            variable=item["variable"]["name"],
            component_instance=item["component"].get("instance", ""),
            variable_instance=item["variable"].get("instance", ""),
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
        )
    )


class DeviceModel:
    """A station's variables (Actual values by reference) for Get/SetVariables."""

    def __init__(
        self, values: dict[str, str], set_status: dict[str, str] | None = None
    ):
        self.values = dict(values)
        self.set_status = set_status or {}

    def install(self, station: Station) -> Station:
        return dynamic(
            station, GetVariables=self.get_variables, SetVariables=self.set_variables
        )

    def get_variables(self, payload: dict) -> dict:
        results = []
        for item in payload["getVariableData"]:
            key = key_of(item)
            result = {
                "attributeStatus": "Accepted"
                if key in self.values
                else "UnknownVariable",
                "attributeType": item.get("attributeType", "Actual"),
                "component": item["component"],
                "variable": item["variable"],
            }
            if key in self.values:
                result["attributeValue"] = self.values[key]
            results.append(result)
        return {"getVariableResult": results}

    def set_variables(self, payload: dict) -> dict:
        results = []
        for item in payload["setVariableData"]:
            key = key_of(item)
            status = self.set_status.get(key, "Accepted")
            if status in ("Accepted", "RebootRequired"):
                self.values[key] = item["attributeValue"]
            results.append(
                {
                    "attributeStatus": status,
                    "attributeType": item.get("attributeType", "Actual"),
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return {"setVariableResult": results}


def report_item(
    key: str,
    value: str | None,
    *,
    mutability: str = "ReadWrite",
    data_type: str = "integer",
    unit: str | None = None,
    **characteristics,
) -> dict:
    """One ReportDataType of a NotifyReport."""
    attribute: dict = {"type": "Actual", "mutability": mutability}
    if value is not None:
        attribute["value"] = value
    described = {"dataType": data_type, "supportsMonitoring": False, **characteristics}
    if unit:
        described["unit"] = unit
    return {
        "component": component(key),
        "variable": variable(key),
        "variableAttribute": [attribute],
        "variableCharacteristics": described,
    }


def notify_report(
    request_id: int, seq_no: int, items: list[dict], *, tbc: bool = False
) -> dict:
    payload = {
        "requestId": request_id,
        "generatedAt": now_ocpp(),
        "seqNo": seq_no,
        "reportData": items,
    }
    if tbc:
        payload["tbc"] = True
    return payload


# --- local authorization lists ---------------------------------------------------


class LocalList:
    """A station's local list; answers like a 1.6 or a 2.0.1 station."""

    def __init__(
        self,
        version: str,
        *,
        list_version: int = 0,
        refuse_differential: str | None = None,
    ):
        self.v16 = version == "1.6"
        self.version = list_version
        self.entries: dict[str, dict | None] = {}
        self.refuse_differential = refuse_differential

    def install(self, station: Station) -> Station:
        return dynamic(
            station,
            GetLocalListVersion=self.get_version,
            SendLocalList=self.send_local_list,
        )

    def get_version(self, payload: dict) -> dict:
        return {"listVersion" if self.v16 else "versionNumber": self.version}

    def send_local_list(self, payload: dict) -> dict:
        number = payload["listVersion" if self.v16 else "versionNumber"]
        differential = payload["updateType"] == "Differential"
        if differential and self.refuse_differential:
            return {"status": self.refuse_differential}
        if differential and number <= self.version:  # D01.FR.19
            return {"status": "VersionMismatch"}
        if not differential:
            self.entries = {}
        for item in payload.get("localAuthorizationList", []):
            token = item["idTag"] if self.v16 else item["idToken"]["idToken"]
            info = item.get("idTagInfo" if self.v16 else "idTokenInfo")
            if info is None:
                self.entries.pop(token, None)
            else:
                self.entries[token] = info
        self.version = number
        return {"status": "Accepted"}
