"""Local authorization lists over real WebSockets: OCPP 1.6 (Local Auth List
Management profile), version tracking, chunking, and the sync on boot.

In the embedded run the boot's sync runs as an eager task beside the server;
on PostgreSQL + Redis it is queued to a real Celery worker started here.
"""

import asyncio
import subprocess
import sys
import threading

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from apps.authlists.models import StationLocalList
from apps.chargepoints.models import ChargePoint
from apps.chargepoints.services.configuration import (
    ReportedKey,
    configuration_keys_reported,
)
from apps.organizations.models import Organization
from apps.transactions.models import IdTag
from tests.e2e.command_helpers import (
    boot_payload,
    commanding,
    connect_station,
    station_url,
)
from tests.e2e.config_helpers import LocalList, calls, wait_for_calls
from tests.e2e.helpers import eventually, make_station
from tests.e2e.server import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def register_tokens(station_id: str, *tokens: str, **fields) -> None:
    organization_id = ChargePoint.objects.get(pk=station_id).organization_id
    for token in tokens:
        IdTag.objects.create(organization_id=organization_id, id_tag=token, **fields)


@sync_to_async
def set_token(token: str, **fields) -> None:
    IdTag.objects.filter(id_tag=token).update(**fields)


def _tags(request: dict) -> dict[str, dict | None]:
    return {
        item["idTag"]: item.get("idTagInfo")
        for item in request.get("localAuthorizationList", [])
    }


async def test_v16_full_then_differential_tracks_the_station_version(live):
    async with commanding(live, "LL16", "1.6") as (station, api):
        # given
        await register_tokens("LL16", "CARD-1", "CARD-2")
        await register_tokens("LL16", "CARD-WITH-A-VERY-LONG-ID")  # > 20: not 1.6
        local_list = LocalList("1.6")
        local_list.install(station)

        # when
        first = await api.post(station_url("LL16", "local-list/"), json={})
        await set_token("CARD-2", status=IdTag.Status.BLOCKED)
        second = await api.post(station_url("LL16", "local-list/"), json={})
        third = await api.post(station_url("LL16", "local-list/"), json={})
        status = await api.get(station_url("LL16", "local-list/"))

    # then
    full, differential = calls(station, "SendLocalList")
    assert (full["updateType"], full["listVersion"]) == ("Full", 1)
    assert _tags(full) == {
        "CARD-1": {"status": "Accepted"},
        "CARD-2": {"status": "Accepted"},
    }
    assert (differential["updateType"], differential["listVersion"]) == (
        "Differential",
        2,
    )
    assert _tags(differential) == {"CARD-2": {"status": "Blocked"}}
    assert [r.json()["status"] for r in (first, second, third)] == [
        "Accepted",
        "Accepted",
        "UpToDate",
    ]
    assert local_list.version == 2
    body = status.json()
    assert (body["current_version"], body["station_version"]) == (2, 2)
    assert body["up_to_date"] is True


async def test_v16_a_long_list_goes_in_messages_of_send_local_list_max_length(live):
    async with commanding(live, "LL16CHUNK", "1.6") as (station, api):
        await register_tokens("LL16CHUNK", "A", "B", "C")
        await sync_to_async(configuration_keys_reported)(
            charge_point_id="LL16CHUNK",
            keys=[ReportedKey("SendLocalListMaxLength", True, "2")],
        )
        local_list = LocalList("1.6")
        local_list.install(station)

        response = await api.post(station_url("LL16CHUNK", "local-list/"), json={})

    sent = calls(station, "SendLocalList")
    assert [(m["updateType"], m["listVersion"], len(_tags(m))) for m in sent] == [
        ("Full", 1, 2),
        ("Differential", 2, 1),
    ]
    assert response.json()["messages"] == 2
    assert set(local_list.entries) == {"A", "B", "C"}


async def test_v16_refused_differential_is_followed_by_the_full_list(live):
    async with commanding(live, "LL16RETRY", "1.6") as (station, api):
        await register_tokens("LL16RETRY", "A")
        local_list = LocalList("1.6")
        local_list.install(station)
        await api.post(station_url("LL16RETRY", "local-list/"), json={})
        await register_tokens("LL16RETRY", "B")
        local_list.refuse_differential = "Failed"

        response = await api.post(station_url("LL16RETRY", "local-list/"), json={})

    assert [m["updateType"] for m in calls(station, "SendLocalList")] == [
        "Full",
        "Differential",
        "Full",
    ]
    assert response.json()["status"] == "Accepted"
    assert response.json()["update_type"] == "Full"
    assert set(local_list.entries) == {"A", "B"}


async def test_v16_station_without_local_list_support_gets_nothing(live):
    async with commanding(live, "LL16NONE", "1.6") as (station, api):
        station.replies["GetLocalListVersion"] = {"listVersion": -1}

        response = await api.post(station_url("LL16NONE", "local-list/"), json={})

    assert response.json()["status"] == "NotSupported"
    assert calls(station, "SendLocalList") == []


async def test_viewer_sees_the_version_but_cannot_push(live):
    async with commanding(live, "LLVIEW", "1.6", role="viewer") as (station, api):
        status = await api.get(station_url("LLVIEW", "local-list/"))
        refresh = await api.get(
            station_url("LLVIEW", "local-list/"), params={"refresh": 1}
        )
        push = await api.post(station_url("LLVIEW", "local-list/"), json={})

    assert status.status_code == 200
    assert (refresh.status_code, push.status_code) == (403, 403)
    assert station.received_calls == []


# --- sync on boot ----------------------------------------------------------------


@pytest.fixture
def celery_worker(live):
    """A real worker on the server's database and broker, unless tasks are eager."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "csms",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--purge",
        ],
        cwd=ROOT,
        env=live.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()

    def read():
        for line in process.stderr:
            if " ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(30), "the Celery worker did not start"
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@sync_to_async
def auto_sync_station(station_id: str, enabled: bool = True) -> None:
    organization, _ = Organization.objects.get_or_create(
        slug=f"sync-{station_id.lower()}", defaults={"name": station_id}
    )
    organization.local_list_auto_sync = enabled
    organization.save()
    make_station(station_id, organization=organization)
    IdTag.objects.create(organization=organization, id_tag="SYNCED-CARD")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_boot_syncs_the_list_when_the_organization_asks(
    live, celery_worker, version
):
    station_id = f"SYNC{version.replace('.', '')}"
    await auto_sync_station(station_id)

    # when: the station boots
    station = await connect_station(live.ws_url, station_id, version, boot=False)
    local_list = LocalList(version)
    local_list.install(station)
    try:
        await station.call("BootNotification", boot_payload(version))
        await wait_for_calls(station, "SendLocalList", timeout=20)
        await eventually(
            lambda: StationLocalList.objects.filter(
                charge_point_id=station_id, version=1, last_status="Accepted"
            ).exists(),
            timeout=10,
        )
        # and boots again, already up to date
        await station.call("BootNotification", boot_payload(version))
        await wait_for_calls(station, "GetLocalListVersion", 2, timeout=20)
        await asyncio.sleep(0.5)
    finally:
        await station.close()

    # then: the list was sent once, and the station knows the token
    assert len(calls(station, "SendLocalList")) == 1
    assert set(local_list.entries) == {"SYNCED-CARD"}


async def test_boot_does_not_sync_when_the_organization_does_not(live, celery_worker):
    await auto_sync_station("NOSYNC", enabled=False)

    station = await connect_station(live.ws_url, "NOSYNC", "1.6")
    await asyncio.sleep(1.5)  # the sync would come a second after the boot
    await station.close()

    assert station.received_calls == []
