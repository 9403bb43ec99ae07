"""Stations that go away show offline within the configured time."""

import asyncio
import base64
import socket

import pytest
from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from tests.e2e.helpers import BOOT_16, PASSWORD, eventually, make_station
from tests.e2e.server import Server
from tests.stations import Station

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fast_server(transactional_db):
    """Pings every second, offline check every second, in-process jobs on."""
    server = Server(
        "uvicorn",
        {
            "CSMS_WS_PING_INTERVAL": "1",
            "CSMS_WS_PING_TIMEOUT": "1",
            "CSMS_RUN_PERIODIC_IN_PROCESS": "true",
            "CSMS_OFFLINE_CHECK_INTERVAL": "1",
            "CSMS_LAST_SEEN_WRITE_S": "0.5",
            "CSMS_LAST_SEEN_RESOLUTION_S": "0.5",
            "CSMS_AUTH_FAILURE_LIMIT": "3",
        },
    ).start()
    yield server
    server.stop()


async def test_silent_station_is_marked_offline_after_missed_heartbeats(fast_server):
    # given: heartbeats expected every second; offline after 2 missed
    org = await sync_to_async(Organization.objects.create)(
        name="Fast", slug="fast", heartbeat_interval=1
    )
    await sync_to_async(make_station)("CP-SILENT", organization=org)
    async with await Station.connect(
        fast_server.ws_url, "CP-SILENT", PASSWORD
    ) as station:
        boot = await station.call("BootNotification", BOOT_16)
        # when: the station stays connected (answers pings) but sends nothing
        cp = await eventually(
            lambda: ChargePoint.objects.filter(pk="CP-SILENT", is_online=False).first(),
            timeout=8,
        )
    # then
    assert boot.payload["interval"] == 1
    assert cp.disconnected_at is not None


def _raw_upgrade(port: int, station_id: str) -> socket.socket:
    """A peer that completes the handshake and then never answers a ping."""
    sock = socket.create_connection(("127.0.0.1", port))
    auth = base64.b64encode(f"{station_id}:{PASSWORD}".encode()).decode()
    sock.sendall(
        (
            f"GET /ocpp/{station_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic {auth}\r\n\r\n"
        ).encode()
    )
    response = sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


async def test_dead_peer_is_dropped_by_ping_timeout_and_shown_offline(fast_server):
    await sync_to_async(make_station)("CP-DEAD")
    sock = await asyncio.to_thread(_raw_upgrade, fast_server.port, "CP-DEAD")
    try:
        await eventually(
            lambda: ChargePoint.objects.get(pk="CP-DEAD").is_online, timeout=5
        )
        cp = await eventually(
            lambda: ChargePoint.objects.filter(pk="CP-DEAD", is_online=False).first(),
            timeout=8,
        )
    finally:
        sock.close()
    assert cp.channel_name == ""


async def test_repeated_failures_from_one_address_are_throttled(fast_server):
    from websockets.exceptions import InvalidStatus

    await sync_to_async(make_station)("CP-THROTTLE")
    statuses = []
    for password in [
        "wrong-password-1",
        "wrong-password-2",
        "wrong-password-3",
        PASSWORD,
    ]:
        try:
            station = await Station.connect(fast_server.ws_url, "CP-THROTTLE", password)
            await station.close()
            statuses.append(101)
        except InvalidStatus as refused:
            statuses.append(refused.response.status_code)
    assert statuses == [401, 401, 401, 429]
