"""Stations connect, authenticate and boot against the real server.

Cases follow OCPP 2.0.1 Part 6 (TC_A_*, TC_B_*) and the 1.6 specification.
"""

import asyncio

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from apps.chargepoints.models import ChargePoint, Connector
from apps.ocpp.models import MessageLog
from tests.e2e.helpers import BOOT_16, BOOT_201, PASSWORD, eventually, make_station
from tests.stations import Station, basic_auth

pytestmark = pytest.mark.django_db(transaction=True)


async def _status_201(station, evse_id=1, connector_id=1, status="Available"):
    return await station.call(
        "StatusNotification",
        {
            "timestamp": "2026-11-25T10:00:00Z",
            "connectorStatus": status,
            "evseId": evse_id,
            "connectorId": connector_id,
        },
    )


async def test_tc_a_01_basic_auth_valid_credentials_boot_accepted(live):
    # given
    await make_station_async("CS-A01")
    # when
    async with await Station.connect(
        live.ws_url, "CS-A01", PASSWORD, subprotocols=("ocpp2.0.1",)
    ) as station:
        boot = await station.call("BootNotification", BOOT_201)
        status = await _status_201(station)
    # then
    assert station.subprotocol == "ocpp2.0.1"
    assert boot.ok and boot.payload["status"] == "Accepted"
    assert boot.payload["interval"] == 300
    assert status.ok and status.payload == {}


async def test_tc_a_02_username_not_station_id_is_refused_with_401(live):
    await make_station_async("CS-A02")
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(
            f"{live.ws_url}/ocpp/CS-A02",
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic_auth("CS-A02Invalid", PASSWORD),
        )
    assert refused.value.response.status_code == 401


async def test_tc_a_03_invalid_password_is_refused_with_401(live):
    await make_station_async("CS-A03")
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(
            live.ws_url, "CS-A03", "x" * 24, subprotocols=("ocpp2.0.1",)
        )
    assert refused.value.response.status_code == 401
    assert "Basic" in refused.value.response.headers["WWW-Authenticate"]


async def test_missing_credentials_are_refused_with_401(live):
    await make_station_async("CS-NOAUTH")
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(live.ws_url, "CS-NOAUTH", None)
    assert refused.value.response.status_code == 401


async def test_unknown_station_is_refused_with_404(live):
    with pytest.raises(InvalidStatus) as refused:
        await Station.connect(live.ws_url, "NOBODY", PASSWORD)
    assert refused.value.response.status_code == 404


async def test_unknown_subprotocol_gets_no_protocol_and_is_closed(live):
    await make_station_async("CS-PROTO")
    # OCPP-J §3.1: the handshake completes without a subprotocol, then closes.
    ws = await websockets.connect(
        f"{live.ws_url}/ocpp/CS-PROTO",
        subprotocols=["ocpp1.5"],
        additional_headers=basic_auth("CS-PROTO", PASSWORD),
    )
    await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.subprotocol is None
    assert ws.close_code == 1002


async def test_tc_b_01_cold_boot_accepted_stores_station_data(live):
    await make_station_async("CS-B01")
    async with await Station.connect(
        live.ws_url, "CS-B01", PASSWORD, subprotocols=("ocpp2.0.1",)
    ) as station:
        boot = await station.call("BootNotification", BOOT_201)
        await _status_201(station, evse_id=1, connector_id=1, status="Available")
        await _status_201(station, evse_id=2, connector_id=1, status="Occupied")
        cp = await eventually(
            lambda: ChargePoint.objects.filter(pk="CS-B01", is_online=True).first()
        )
    assert boot.payload["status"] == "Accepted"
    assert (cp.vendor, cp.model, cp.serial_number, cp.firmware_version) == (
        "VendorZ",
        "ModelQ",
        "SN-201",
        "4.5.6",
    )
    assert cp.ocpp_version == "2.0.1"
    states = await eventually(
        lambda: sorted(
            Connector.objects.filter(evse__charge_point_id="CS-B01").values_list(
                "evse__evse_id", "connector_id", "status"
            )
        )
    )
    assert states == [(1, 1, "Available"), (2, 1, "Occupied")]


async def test_tc_b_02_pending_station_gets_pending_then_accepted(live):
    await make_station_async("CS-B02", registration_status="Pending")
    async with await Station.connect(
        live.ws_url, "CS-B02", PASSWORD, subprotocols=("ocpp2.0.1",)
    ) as station:
        first = await station.call("BootNotification", BOOT_201)
        await update_station("CS-B02", registration_status="Accepted")
        second = await station.call("BootNotification", BOOT_201)
        status = await _status_201(station)
    assert first.payload["status"] == "Pending"
    assert first.payload["interval"] > 0
    assert second.payload["status"] == "Accepted"
    assert status.ok


async def test_tc_b_30_pending_station_gets_security_error_for_other_calls(live):
    await make_station_async("CS-B30", registration_status="Pending")
    async with await Station.connect(
        live.ws_url, "CS-B30", PASSWORD, subprotocols=("ocpp2.0.1",)
    ) as station:
        boot = await station.call("BootNotification", BOOT_201)
        status = await _status_201(station)
    assert boot.payload["status"] == "Pending"
    assert status.error_code == "SecurityError"


async def test_rejected_station_gets_rejected(live):
    await make_station_async("CS-REJ", registration_status="Rejected")
    async with await Station.connect(live.ws_url, "CS-REJ", PASSWORD) as station:
        boot = await station.call("BootNotification", BOOT_16)
        heartbeat = await station.call("Heartbeat", {})
    assert boot.payload["status"] == "Rejected"
    assert heartbeat.error_code == "SecurityError"


async def test_ocpp16_station_boots_heartbeats_and_reports_status(live):
    await make_station_async("CP16")
    async with await Station.connect(live.ws_url, "CP16", PASSWORD) as station:
        boot = await station.call("BootNotification", BOOT_16)
        heartbeat = await station.call("Heartbeat", {})
        status0 = await station.call(
            "StatusNotification",
            {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
        )
        status1 = await station.call(
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "GroundFailure",
                "status": "Faulted",
                "timestamp": "2026-11-25T10:00:00Z",
                "vendorErrorCode": "E42",
            },
        )
        cp = await eventually(lambda: ChargePoint.objects.filter(pk="CP16").first())
    assert station.subprotocol == "ocpp1.6"
    assert boot.payload["status"] == "Accepted" and boot.payload["interval"] == 300
    assert heartbeat.payload["currentTime"].endswith("Z")
    assert status0.ok and status1.ok
    assert (cp.vendor, cp.model, cp.firmware_version, cp.ocpp_version) == (
        "VendorX",
        "ModelY",
        "1.2.3",
        "1.6",
    )
    assert cp.status == "Available"
    connector = await eventually(
        lambda: Connector.objects.filter(
            evse__charge_point_id="CP16", connector_id=1
        ).first()
    )
    assert (connector.status, connector.error_code, connector.vendor_error_code) == (
        "Faulted",
        "GroundFailure",
        "E42",
    )


async def test_station_shows_online_in_api_then_offline_after_disconnect(
    live, admin_token
):
    await make_station_async("CP-API")
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=live.http_url, headers=headers) as api:
        async with await Station.connect(live.ws_url, "CP-API", PASSWORD) as station:
            await station.call("BootNotification", BOOT_16)
            online = (await api.get("/api/v1/charge-points/CP-API/")).json()
        await eventually(lambda: not ChargePoint.objects.get(pk="CP-API").is_online)
        offline = (await api.get("/api/v1/charge-points/CP-API/")).json()
    assert online["is_online"] is True
    assert online["vendor"] == "VendorX" and online["ocpp_version"] == "1.6"
    assert offline["is_online"] is False


async def test_second_connection_replaces_the_first(live):
    await make_station_async("CP-TWICE")
    first = await Station.connect(live.ws_url, "CP-TWICE", PASSWORD)
    await first.call("BootNotification", BOOT_16)
    second = await Station.connect(live.ws_url, "CP-TWICE", PASSWORD)
    await first.ws.wait_closed()
    heartbeat = await second.call("Heartbeat", {})
    cp = await eventually(lambda: ChargePoint.objects.get(pk="CP-TWICE"))
    await second.close()
    assert first.ws.close_code == 4000
    assert heartbeat.ok and cp.is_online


async def test_journal_keeps_every_frame_in_and_out(live):
    await make_station_async("CP-JOURNAL")
    async with await Station.connect(live.ws_url, "CP-JOURNAL", PASSWORD) as station:
        await station.call("Heartbeat", {})
        rows = await eventually(
            lambda: (
                list(
                    MessageLog.objects.filter(charge_point_id="CP-JOURNAL")
                    .order_by("created_at", "id")
                    .values_list("direction", "message_type", "action")
                )
                if MessageLog.objects.filter(charge_point_id="CP-JOURNAL").count() >= 2
                else None
            )
        )
    assert rows == [("in", 2, "Heartbeat"), ("out", 3, "Heartbeat")]


async def make_station_async(station_id, **kwargs):
    from asgiref.sync import sync_to_async

    return await sync_to_async(make_station)(station_id, **kwargs)


async def update_station(station_id, **fields):
    from asgiref.sync import sync_to_async

    await sync_to_async(
        lambda: ChargePoint.objects.filter(pk=station_id).update(**fields)
    )()
