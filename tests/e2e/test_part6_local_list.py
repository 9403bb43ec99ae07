"""OCPP 2.0.1 Part 6, block D: local authorization list management (D01, D02).

The test station keeps a real local list (``LocalList``): it answers
GetLocalListVersion with its version and applies SendLocalList as OCPP says.
"Manual Action: request the CSMS to ..." is the operator's API call on
``.../local-list/``.
"""

import pytest
from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint
from apps.transactions.models import IdTag
from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.config_helpers import LocalList, calls

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def register_tokens(station_id: str, *tokens: str) -> None:
    organization_id = ChargePoint.objects.get(pk=station_id).organization_id
    for token in tokens:
        IdTag.objects.create(organization_id=organization_id, id_tag=token)


@sync_to_async
def remove_token(token: str) -> None:
    IdTag.objects.filter(id_tag=token).delete()


def _tokens(request: dict) -> list[str]:
    return [
        item["idToken"]["idToken"] for item in request.get("localAuthorizationList", [])
    ]


async def test_tc_d_01_send_full_local_list(live):
    async with commanding(live, "TCD01", "2.0.1") as (station, api):
        await register_tokens("TCD01", "TOKEN-A", "TOKEN-B")
        local_list = LocalList("2.0.1", list_version=1)
        local_list.install(station)

        response = await api.post(
            station_url("TCD01", "local-list/"), json={"update_type": "Full"}
        )

    (request,) = calls(station, "SendLocalList")
    assert request["updateType"] == "Full"
    assert request["versionNumber"] > 0
    assert sorted(_tokens(request)) == ["TOKEN-A", "TOKEN-B"]  # not empty, unique
    assert all(
        item["idTokenInfo"]["status"] == "Accepted"
        for item in request["localAuthorizationList"]
    )
    assert response.status_code == 200
    assert response.json()["status"] == "Accepted"
    assert set(local_list.entries) == {"TOKEN-A", "TOKEN-B"}


async def test_tc_d_02_send_differential_update(live):
    async with commanding(live, "TCD02", "2.0.1") as (station, api):
        await register_tokens("TCD02", "TOKEN-A")
        LocalList("2.0.1", list_version=1).install(station)

        response = await api.post(
            station_url("TCD02", "local-list/"), json={"update_type": "Differential"}
        )

    assert [name for name, _ in station.received_calls[-2:]] == [
        "GetLocalListVersion",
        "SendLocalList",
    ]
    (request,) = calls(station, "SendLocalList")
    assert request["updateType"] == "Differential"
    assert request["versionNumber"] > 1  # bigger than the station's
    assert _tokens(request) == ["TOKEN-A"]
    assert response.json()["status"] == "Accepted"


async def test_tc_d_03_send_differential_remove(live):
    async with commanding(live, "TCD03", "2.0.1") as (station, api):
        await register_tokens("TCD03", "TOKEN-A", "TOKEN-GONE")
        local_list = LocalList("2.0.1")
        local_list.install(station)
        await api.post(station_url("TCD03", "local-list/"), json={})
        await remove_token("TOKEN-GONE")

        response = await api.post(
            station_url("TCD03", "local-list/"), json={"update_type": "Differential"}
        )

    full, differential = calls(station, "SendLocalList")
    assert full["updateType"] == "Full"
    assert differential["updateType"] == "Differential"
    assert differential["versionNumber"] > full["versionNumber"]
    assert differential["localAuthorizationList"] == [
        {"idToken": {"idToken": "TOKEN-GONE", "type": "ISO14443"}}
    ]
    assert response.json()["status"] == "Accepted"
    assert set(local_list.entries) == {"TOKEN-A"}


async def test_tc_d_04_send_full_empty_list(live):
    async with commanding(live, "TCD04", "2.0.1") as (station, api):
        LocalList("2.0.1").install(station)

        response = await api.post(
            station_url("TCD04", "local-list/"), json={"update_type": "Full"}
        )

    (request,) = calls(station, "SendLocalList")
    assert request["updateType"] == "Full"
    assert request["versionNumber"] > 0
    assert "localAuthorizationList" not in request  # empty: D01.FR.04
    assert response.json()["status"] == "Accepted"


async def test_tc_d_08_get_local_list_version_success(live):
    async with commanding(live, "TCD08", "2.0.1") as (station, api):
        LocalList("2.0.1", list_version=3).install(station)

        response = await api.get(
            station_url("TCD08", "local-list/"), params={"refresh": "1"}
        )

    assert calls(station, "GetLocalListVersion") == [{}]
    assert response.status_code == 200
    assert response.json()["reported_version"] == 3


async def test_tc_d_09_get_local_list_version_no_list(live):
    async with commanding(live, "TCD09", "2.0.1") as (station, api):
        LocalList("2.0.1", list_version=0).install(station)

        response = await api.get(
            station_url("TCD09", "local-list/"), params={"refresh": "1"}
        )

    assert calls(station, "GetLocalListVersion") == [{}]
    body = response.json()
    assert (body["reported_version"], body["station_version"]) == (0, 0)
    assert body["up_to_date"] is False
