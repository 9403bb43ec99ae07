"""A station's configuration over real WebSockets: 1.6 keys, the 2.0.1/2.1 device
model, NotifyReport parts, the API's one shape and its permissions."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from apps.chargepoints.models import DeviceModelReport, StationConfigurationKey
from apps.chargepoints.services.configuration import (
    ReportedKey,
    configuration_keys_reported,
)
from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.config_helpers import (
    DeviceModel,
    calls,
    dynamic,
    notify_report,
    report_item,
    wait_for_calls,
)
from tests.stations import StationError

pytestmark = pytest.mark.django_db(transaction=True)

KEYS_16 = {
    "configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        {"key": "AuthorizationKey", "readonly": False},
    ]
}


def _get_configuration(values: dict[str, str]):
    """A 1.6 station's GetConfiguration answer for what was asked."""

    def answer(payload: dict) -> dict:
        asked = payload.get("key") or list(values)
        return {
            "configurationKey": [
                {"key": k, "readonly": False, "value": values[k]}
                for k in asked
                if k in values
            ],
            "unknownKey": [k for k in asked if k not in values],
        }

    return answer


# --- 1.6 -------------------------------------------------------------------------


async def test_v16_refresh_reads_and_stores_every_key(live):
    async with commanding(live, "CFG16", "1.6") as (station, api):
        station.replies["GetConfiguration"] = KEYS_16

        response = await api.get(station_url("CFG16", "configuration/?refresh=1"))
        stored = await api.get(station_url("CFG16", "configuration/"))

    assert calls(station, "GetConfiguration") == [{}]
    assert response.status_code == 200
    assert response.json() == stored.json()
    items = {item["key"]: item for item in response.json()}
    assert set(items) == {"AuthorizationKey", "HeartbeatInterval", "NumberOfConnectors"}
    assert items["NumberOfConnectors"]["readonly"] is True
    assert items["AuthorizationKey"]["value"] is None
    heartbeat = items["HeartbeatInterval"]
    assert (heartbeat["value"], heartbeat["component"], heartbeat["variable"]) == (
        "300",
        None,
        None,
    )


async def test_v16_refresh_of_some_keys_in_batches_of_get_configuration_max_keys(live):
    values = {"A": "1", "B": "2", "GetConfigurationMaxKeys": "2"}
    async with commanding(live, "CFG16MAX", "1.6") as (station, api):
        await sync_to_async(configuration_keys_reported)(
            charge_point_id="CFG16MAX",
            keys=[
                ReportedKey("GetConfigurationMaxKeys", True, "2"),
                ReportedKey("C", False, "x"),
            ],
        )
        dynamic(station, GetConfiguration=_get_configuration(values))

        response = await api.get(
            station_url("CFG16MAX", "configuration/"),
            params={"refresh": "1", "key": ["A", "B", "C"]},
        )

    assert calls(station, "GetConfiguration") == [{"key": ["A", "B"]}, {"key": ["C"]}]
    # C is unknown to the station now: forgotten.
    assert [(i["key"], i["value"]) for i in response.json()] == [("A", "1"), ("B", "2")]


async def test_v16_set_sends_one_change_configuration_per_key(live):
    answers = {
        "HeartbeatInterval": "Accepted",
        "MeterValueSampleInterval": "RebootRequired",
        "NumberOfConnectors": "Rejected",
    }
    async with commanding(live, "CFG16SET", "1.6") as (station, api):
        dynamic(station, ChangeConfiguration=lambda p: {"status": answers[p["key"]]})

        response = await api.post(
            station_url("CFG16SET", "configuration/"),
            json=[{"key": key, "value": "60"} for key in answers],
        )
        stored = await api.get(station_url("CFG16SET", "configuration/"))

    assert calls(station, "ChangeConfiguration") == [
        {"key": key, "value": "60"} for key in answers
    ]
    assert [(r["key"], r["status"]) for r in response.json()] == list(answers.items())
    assert {i["key"]: i["reboot_required"] for i in stored.json()} == {
        "HeartbeatInterval": False,
        "MeterValueSampleInterval": True,
    }


async def test_v16_a_call_error_for_one_key_does_not_stop_the_others(live):
    def answer(payload):
        if payload["key"] == "Broken":
            return StationError("InternalError", "flash failure")
        return {"status": "Accepted"}

    async with commanding(live, "CFG16ERR", "1.6") as (station, api):
        dynamic(station, ChangeConfiguration=answer)

        response = await api.post(
            station_url("CFG16ERR", "configuration/"),
            json=[{"key": "Broken", "value": "1"}, {"key": "Fine", "value": "2"}],
        )

    broken, fine = response.json()
    assert broken["status"] == "CallError"
    assert broken["status_info"]["code"] == "InternalError"
    assert fine["status"] == "Accepted"


async def test_invalid_changes_are_refused_before_anything_is_sent(live):
    async with commanding(live, "CFG16BAD", "1.6") as (station, api):
        url = station_url("CFG16BAD", "configuration/")
        empty = await api.post(url, json=[])
        no_key = await api.post(
            url, json=[{"component": "X", "variable": "Y", "value": "1"}]
        )
        too_long = await api.post(
            url, json=[{"key": "A", "value": "1"}, {"key": "B", "value": "x" * 501}]
        )
        not_a_list = await api.post(url, json={"key": "A", "value": "1"})

    assert [r.status_code for r in (empty, no_key, too_long, not_a_list)] == [400] * 4
    assert too_long.json()["error"]["details"] == {
        "1.value": ["At most 500 characters for OCPP 1.6."]
    }
    assert calls(station, "ChangeConfiguration") == []


async def test_viewer_reads_the_stored_configuration_but_cannot_ask_or_set(live):
    async with commanding(live, "CFGVIEW", "1.6", role="viewer") as (station, api):
        url = station_url("CFGVIEW", "configuration/")
        stored = await api.get(url)
        refresh = await api.get(url, params={"refresh": "1"})
        change = await api.post(url, json=[{"key": "A", "value": "1"}])

    assert stored.status_code == 200
    assert (refresh.status_code, change.status_code) == (403, 403)
    assert station.received_calls == []


async def test_refreshing_an_offline_station_is_a_conflict(live, admin_token):
    import httpx

    from tests.e2e.helpers import make_station

    await sync_to_async(make_station)("CFGOFF")
    async with httpx.AsyncClient(
        base_url=live.http_url, headers={"Authorization": f"Bearer {admin_token}"}
    ) as api:
        response = await api.get(station_url("CFGOFF", "configuration/?refresh=1"))
        stored = await api.get(station_url("CFGOFF", "configuration/"))

    assert response.status_code == 409
    assert (stored.status_code, stored.json()) == (200, [])


# --- 2.0.1 / 2.1 -----------------------------------------------------------------


async def test_v201_first_refresh_waits_for_a_full_inventory_in_parts(live):
    async with commanding(live, "CFG201", "2.0.1") as (station, api):
        refresh = asyncio.create_task(
            api.get(station_url("CFG201", "configuration/?refresh=1"))
        )
        (request,) = await wait_for_calls(station, "GetBaseReport")
        request_id = request["requestId"]
        parts = [
            notify_report(request_id, 0, [report_item("A.X", "1")], tbc=True),
            notify_report(request_id, 1, [report_item("A.Y", "2")], tbc=True),
            notify_report(request_id, 1, [report_item("A.Y", "2")], tbc=True),  # again
            notify_report(request_id, 2, [report_item("B.Z", "3")]),
        ]
        answers = [await station.call("NotifyReport", part) for part in parts]
        response = await refresh

    assert request["reportBase"] == "FullInventory"
    assert all(a.ok and a.payload == {} for a in answers)
    assert [(i["key"], i["value"]) for i in response.json()] == [
        ("A.X", "1"),
        ("A.Y", "2"),
        ("B.Z", "3"),
    ]
    report = await sync_to_async(DeviceModelReport.objects.get)(request_id=request_id)
    assert (report.status, report.parts_received, report.items_received) == (
        "complete",
        3,
        3,
    )


async def test_v201_refresh_asks_get_variables_for_every_stored_attribute(live):
    async with commanding(live, "CFG201GV", "2.0.1") as (station, api):
        refresh = asyncio.create_task(
            api.get(station_url("CFG201GV", "configuration/?refresh=1"))
        )
        (request,) = await wait_for_calls(station, "GetBaseReport")
        await station.call(
            "NotifyReport",
            notify_report(
                request["requestId"],
                0,
                [
                    report_item("A.X", "1"),
                    report_item("A.Secret", None, mutability="WriteOnly"),
                ],
            ),
        )
        await refresh
        DeviceModel({"A.X": "5"}).install(station)

        response = await api.get(station_url("CFG201GV", "configuration/?refresh=1"))

    (get_variables,) = calls(station, "GetVariables")
    assert get_variables["getVariableData"] == [
        {"component": {"name": "A"}, "variable": {"name": "X"}}
    ]
    assert {i["key"]: i["value"] for i in response.json()} == {
        "A.X": "5",
        "A.Secret": None,
    }


async def test_v201_set_shows_reboot_required_and_stores_the_value(live):
    async with commanding(live, "CFG201SET", "2.0.1") as (station, api):
        DeviceModel(
            {"OCPPCommCtrlr.HeartbeatInterval": "60", "EVSE@1.Power": "1"},
            set_status={
                "EVSE@1.Power": "RebootRequired",
                "Nope.Nope": "UnknownComponent",
            },
        ).install(station)

        response = await api.post(
            station_url("CFG201SET", "configuration/"),
            json=[
                {
                    "component": "OCPPCommCtrlr",
                    "variable": "HeartbeatInterval",
                    "value": "90",
                },
                {
                    "component": "EVSE",
                    "evse_id": 1,
                    "variable": "Power",
                    "value": "2",
                    "attribute_type": "Target",
                },
                {"key": "Nope.Nope", "value": "1"},
            ],
        )
        stored = await api.get(station_url("CFG201SET", "configuration/"))

    (request,) = calls(station, "SetVariables")
    assert request["setVariableData"][1] == {
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
        "attributeValue": "2",
        "attributeType": "Target",
    }
    assert [(r["key"], r["status"]) for r in response.json()] == [
        ("OCPPCommCtrlr.HeartbeatInterval", "Accepted"),
        ("EVSE@1.Power", "RebootRequired"),
        ("Nope.Nope", "UnknownComponent"),
    ]
    items = {(i["key"], i["attribute_type"]): i for i in stored.json()}
    assert set(items) == {
        ("OCPPCommCtrlr.HeartbeatInterval", "Actual"),
        ("EVSE@1.Power", "Target"),
    }
    assert items[("EVSE@1.Power", "Target")]["reboot_required"] is True


async def test_v201_the_same_variable_twice_in_one_request_is_refused(live):
    async with commanding(live, "CFG201DUP", "2.0.1") as (station, api):
        response = await api.post(
            station_url("CFG201DUP", "configuration/"),
            json=[{"key": "A.X", "value": "1"}, {"key": "A.X", "value": "2"}],
        )

    assert response.status_code == 400  # B05.FR.13
    assert calls(station, "SetVariables") == []


async def test_v21_report_with_max_elements_and_set_variables(live):
    async with commanding(live, "CFG21", "2.1") as (station, api):
        refresh = asyncio.create_task(
            api.get(
                station_url("CFG21", "configuration/"),
                params={"report": "FullInventory"},
            )
        )
        (request,) = await wait_for_calls(station, "GetBaseReport")
        item = report_item(
            "SampledDataCtrlr.TxUpdatedMeasurands",
            "Energy.Active.Import.Register",
            data_type="MemberList",
            maxElements=4,
        )
        answer = await station.call(
            "NotifyReport", notify_report(request["requestId"], 0, [item])
        )
        response = await refresh
        DeviceModel({}).install(station)
        changed = await api.post(
            station_url("CFG21", "configuration/"),
            json=[{"key": "SampledDataCtrlr.TxUpdatedMeasurands", "value": "x" * 2000}],
        )

    assert answer.ok, answer
    (stored,) = response.json()
    assert stored["data_type"] == "MemberList"
    assert changed.status_code == 200  # 2.1 allows 2500 characters
    assert changed.json()[0]["status"] == "Accepted"


async def test_notify_report_parts_nobody_asked_for_are_kept(live):
    async with commanding(live, "CFG201RAW", "2.0.1") as (station, api):
        answer = await station.call(
            "NotifyReport", notify_report(4242, 0, [report_item("A.X", "1")])
        )
        stored = await api.get(station_url("CFG201RAW", "configuration/"))

    assert answer.ok and answer.payload == {}
    assert [(i["key"], i["value"]) for i in stored.json()] == [("A.X", "1")]


@sync_to_async
def _keys(station_id):
    return list(
        StationConfigurationKey.objects.filter(charge_point_id=station_id).values_list(
            "key", flat=True
        )
    )
