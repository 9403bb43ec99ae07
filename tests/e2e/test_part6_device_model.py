"""OCPP 2.0.1 Part 6, block B cases of the device model: get/set variables
(B05/B06) and reports (B07/B08).

Each case is played by a test station against the live server; the "Manually
request CSMS to ..." step is the operator's API call on ``.../configuration/``.
"""

import asyncio

import pytest

from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.config_helpers import (
    DeviceModel,
    calls,
    component,
    notify_report,
    report_item,
    variable,
    wait_for_calls,
)

pytestmark = pytest.mark.django_db(transaction=True)

OFFLINE_THRESHOLD = "OCPPCommCtrlr.OfflineThreshold"
AUTHORIZE_REMOTE_START = "AuthCtrlr.AuthorizeRemoteStart"


def _requested(data: dict) -> tuple[dict, dict]:
    # "attributeType is absent or Actual" (Target, MinSet, MaxSet also allowed)
    assert data.get("attributeType", "Actual") in (
        "Actual",
        "Target",
        "MinSet",
        "MaxSet",
    )
    return data["component"], data["variable"]


def _values(response) -> dict:
    return {item["key"]: item["value"] for item in response.json()}


async def test_tc_b_06_get_variables_single_value(live):
    async with commanding(live, "TCB06", "2.0.1") as (station, api):
        DeviceModel({OFFLINE_THRESHOLD: "60"}).install(station)

        response = await api.get(
            station_url("TCB06", "configuration/"),
            params={"refresh": "1", "key": OFFLINE_THRESHOLD},
        )

    (request,) = calls(station, "GetVariables")
    (data,) = request["getVariableData"]
    assert _requested(data) == ({"name": "OCPPCommCtrlr"}, {"name": "OfflineThreshold"})
    # Post scenario: the CSMS has read the variable.
    assert response.status_code == 200
    assert _values(response) == {OFFLINE_THRESHOLD: "60"}


async def test_tc_b_07_get_variables_multiple_values(live):
    async with commanding(live, "TCB07", "2.0.1") as (station, api):
        DeviceModel({OFFLINE_THRESHOLD: "60", AUTHORIZE_REMOTE_START: "true"}).install(
            station
        )

        response = await api.get(
            station_url("TCB07", "configuration/"),
            params={"refresh": "1", "key": [OFFLINE_THRESHOLD, AUTHORIZE_REMOTE_START]},
        )

    (request,) = calls(station, "GetVariables")
    requested = [_requested(d) for d in request["getVariableData"]]
    assert len(requested) == 2
    assert ({"name": "OCPPCommCtrlr"}, {"name": "OfflineThreshold"}) in requested
    assert ({"name": "AuthCtrlr"}, {"name": "AuthorizeRemoteStart"}) in requested
    assert _values(response) == {
        OFFLINE_THRESHOLD: "60",
        AUTHORIZE_REMOTE_START: "true",
    }


async def test_tc_b_08_get_variables_limited_to_items_per_message(live):
    limit = "DeviceDataCtrlr.ItemsPerMessage[GetVariables]"
    wanted = [
        "DeviceDataCtrlr.ItemsPerMessage[GetReport]",
        limit,
        "DeviceDataCtrlr.BytesPerMessage[GetReport]",
        "DeviceDataCtrlr.BytesPerMessage[GetVariables]",
        AUTHORIZE_REMOTE_START,
    ]
    async with commanding(live, "TCB08", "2.0.1") as (station, api):
        model = DeviceModel({key: "4000" for key in wanted})
        model.values.update({limit: "4", AUTHORIZE_REMOTE_START: "false"})
        model.install(station)
        # Configuration state: the CSMS read ItemsPerMessage[GetVariables] = 4.
        await api.get(
            station_url("TCB08", "configuration/"),
            params={"refresh": "1", "key": limit},
        )

        response = await api.get(
            station_url("TCB08", "configuration/"),
            params={"refresh": "1", "key": wanted},
        )

    first, second = calls(station, "GetVariables")[1:]
    assert [len(r["getVariableData"]) for r in (first, second)] == [4, 1]
    requested = {
        (d["component"]["name"], d["variable"]["name"], d["variable"].get("instance"))
        for d in first["getVariableData"] + second["getVariableData"]
    }
    assert requested == {
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
        ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
        ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
        ("AuthCtrlr", "AuthorizeRemoteStart", None),
    }
    assert len(response.json()) == 5


async def test_tc_b_09_set_variables_single_value(live):
    async with commanding(live, "TCB09", "2.0.1") as (station, api):
        DeviceModel({OFFLINE_THRESHOLD: "60"}).install(station)

        response = await api.post(
            station_url("TCB09", "configuration/"),
            json=[
                {
                    "component": "OCPPCommCtrlr",
                    "variable": "OfflineThreshold",
                    "value": "123",
                }
            ],
        )
        stored = await api.get(station_url("TCB09", "configuration/"))

    (request,) = calls(station, "SetVariables")
    assert request["setVariableData"] == [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "OfflineThreshold"},
            "attributeValue": "123",
        }
    ]
    assert response.status_code == 200
    assert [r["status"] for r in response.json()] == ["Accepted"]
    assert _values(stored) == {OFFLINE_THRESHOLD: "123"}


async def test_tc_b_10_set_variables_multiple_values(live):
    async with commanding(live, "TCB10", "2.0.1") as (station, api):
        DeviceModel({OFFLINE_THRESHOLD: "60", AUTHORIZE_REMOTE_START: "true"}).install(
            station
        )

        response = await api.post(
            station_url("TCB10", "configuration/"),
            json=[
                {"key": OFFLINE_THRESHOLD, "value": "123"},
                {"key": AUTHORIZE_REMOTE_START, "value": "false"},
            ],
        )

    (request,) = calls(station, "SetVariables")
    assert sorted(
        (d["component"]["name"], d["variable"]["name"], d["attributeValue"])
        for d in request["setVariableData"]
    ) == [
        ("AuthCtrlr", "AuthorizeRemoteStart", "false"),
        ("OCPPCommCtrlr", "OfflineThreshold", "123"),
    ]
    assert all(
        d.get("attributeType", "Actual") == "Actual" for d in request["setVariableData"]
    )
    assert [(r["key"], r["status"]) for r in response.json()] == [
        (OFFLINE_THRESHOLD, "Accepted"),
        (AUTHORIZE_REMOTE_START, "Accepted"),
    ]


async def _base_report(
    live, station_id: str, report_base: str, parts: list[list[dict]]
):
    """Ask for a base report; the station answers it in ``parts``."""
    async with commanding(live, station_id, "2.0.1") as (station, api):
        refresh = asyncio.create_task(
            api.get(
                station_url(station_id, "configuration/"),
                params={"report": report_base},
            )
        )
        (request,) = await wait_for_calls(station, "GetBaseReport")
        for seq_no, items in enumerate(parts):
            tbc = seq_no < len(parts) - 1
            answer = await station.call(
                "NotifyReport",
                notify_report(request["requestId"], seq_no, items, tbc=tbc),
            )
            assert answer.ok and answer.payload == {}
        response = await refresh
    return request, response


async def test_tc_b_12_get_base_report_configuration_inventory(live):
    request, response = await _base_report(
        live,
        "TCB12",
        "ConfigurationInventory",
        [
            [report_item(OFFLINE_THRESHOLD, "60", unit="s")],
            [report_item(AUTHORIZE_REMOTE_START, "true", data_type="boolean")],
        ],
    )

    assert request["reportBase"] == "ConfigurationInventory"
    assert isinstance(request["requestId"], int) and request["requestId"] >= 0
    # Post scenario: all parts received and shown to the operator.
    assert response.headers["X-Refresh-Status"] == "Accepted"
    assert response.headers["X-Refresh-Complete"] == "true"
    items = {item["key"]: item for item in response.json()}
    assert items[OFFLINE_THRESHOLD]["unit"] == "s"
    assert items[AUTHORIZE_REMOTE_START]["data_type"] == "boolean"


async def test_tc_b_13_get_base_report_full_inventory(live):
    request, response = await _base_report(
        live,
        "TCB13",
        "FullInventory",
        [
            [
                report_item(
                    "ChargingStation.Model",
                    "Q",
                    mutability="ReadOnly",
                    data_type="string",
                )
            ],
            [
                report_item(
                    "EVSE@1.AvailabilityState",
                    "Available",
                    mutability="ReadOnly",
                    data_type="OptionList",
                    valuesList="Available,Occupied",
                )
            ],
            [report_item(OFFLINE_THRESHOLD, "60")],
        ],
    )

    assert request["reportBase"] == "FullInventory" and request["requestId"] >= 0
    assert response.headers["X-Refresh-Complete"] == "true"
    items = {item["key"]: item for item in response.json()}
    assert set(items) == {
        "ChargingStation.Model",
        "EVSE@1.AvailabilityState",
        OFFLINE_THRESHOLD,
    }
    assert items["EVSE@1.AvailabilityState"]["evse_id"] == 1
    assert items["EVSE@1.AvailabilityState"]["readonly"] is True
    assert items["EVSE@1.AvailabilityState"]["values_list"] == "Available,Occupied"


async def test_tc_b_14_get_base_report_summary_inventory(live):
    request, response = await _base_report(
        live,
        "TCB14",
        "SummaryInventory",
        [
            [
                report_item(
                    "ChargingStation.AvailabilityState",
                    "Available",
                    mutability="ReadOnly",
                    data_type="OptionList",
                )
            ]
        ],
    )

    assert request["reportBase"] == "SummaryInventory"
    assert response.headers["X-Refresh-Complete"] == "true"
    assert _values(response) == {"ChargingStation.AvailabilityState": "Available"}


async def test_tc_b_18_get_custom_report_with_criteria_and_variables(live):
    evse_state = "EVSE@1.AvailabilityState"
    async with commanding(live, "TCB18", "2.0.1") as (station, api):
        # 1-2: Problem components: the station has none (EmptyResultSet).
        station.replies["GetReport"] = {"status": "EmptyResultSet"}
        empty = await api.get(
            station_url("TCB18", "configuration/"),
            params={"criteria": "Problem", "key": evse_state},
        )
        # 3-6: Available components: accepted, then reported.
        station.replies["GetReport"] = {"status": "Accepted"}
        refresh = asyncio.create_task(
            api.get(
                station_url("TCB18", "configuration/"),
                params={"criteria": "Available", "key": evse_state},
            )
        )
        first, second = await wait_for_calls(station, "GetReport", 2)
        answer = await station.call(
            "NotifyReport",
            notify_report(
                second["requestId"],
                0,
                [
                    report_item(
                        evse_state,
                        "Available",
                        mutability="ReadOnly",
                        data_type="OptionList",
                    )
                ],
            ),
        )
        reported = await refresh

    for request, criterion in ((first, "Problem"), (second, "Available")):
        assert request["componentCriteria"] == [criterion]
        (component_variable,) = request["componentVariable"]
        assert component_variable["component"] == {"name": "EVSE", "evse": {"id": 1}}
        assert component_variable["variable"] == {"name": "AvailabilityState"}
    assert empty.status_code == 200 and empty.json() == []
    assert empty.headers["X-Refresh-Status"] == "EmptyResultSet"
    assert answer.ok and answer.payload == {}
    assert _values(reported) == {evse_state: "Available"}


# The helpers build what a station would send; make sure they agree with the API.
def test_helpers_name_components_like_the_api():
    assert component("EVSE@1:2.AvailabilityState") == {
        "name": "EVSE",
        "evse": {"id": 1, "connectorId": 2},
    }
    assert variable("DeviceDataCtrlr.ItemsPerMessage[GetVariables]") == {
        "name": "ItemsPerMessage",
        "instance": "GetVariables",
    }
