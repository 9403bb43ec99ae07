"""What the command tests share: a booted station, an integrator's API client.

``async with commanding(live, "CS1", "2.0.1") as (station, api):`` connects a
real WebSocket station of that version (booted, Accepted) to the live server
and opens an httpx client authenticated as an operator of its organization.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import RefreshToken

from apps.organizations.models import Membership, Organization
from tests.e2e.helpers import BOOT_16, BOOT_201, PASSWORD, make_station
from tests.factories import UserFactory
from tests.stations import Station

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocpp"
SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}


def command_table(version: str) -> dict:
    """Minimal valid request and answer per CSMS -> station action."""
    return json.loads((FIXTURES / f"commands_{version}.json").read_text())


def boot_payload(version: str) -> dict:
    return BOOT_16 if version == "1.6" else BOOT_201


def token_for(role: str, organization: Organization, username: str = "") -> str:
    """A JWT of a new user with ``role`` in ``organization`` (valid on the server)."""
    user = UserFactory(**({"username": username} if username else {}))
    Membership.objects.create(user=user, organization=organization, role=role)
    return str(RefreshToken.for_user(user).access_token)


def api_client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


async def connect_station(
    ws_url: str, station_id: str, version: str, *, boot: bool = True
) -> Station:
    station = await Station.connect(
        ws_url, station_id, PASSWORD, subprotocols=(SUBPROTOCOLS[version],)
    )
    if boot:
        answer = await station.call("BootNotification", boot_payload(version))
        assert answer.payload["status"] == "Accepted", answer
    return station


@asynccontextmanager
async def commanding(live, station_id: str, version: str, *, role="operator"):
    cp = await sync_to_async(make_station)(station_id)
    token = await sync_to_async(token_for)(role, cp.organization, f"op-{station_id}")
    station = await connect_station(live.ws_url, station_id, version)
    async with api_client(live.http_url, token) as api:
        try:
            yield station, api
        finally:
            await station.close()


def station_url(station_id: str, path: str) -> str:
    return f"/api/v1/charge-points/{station_id}/{path}"
