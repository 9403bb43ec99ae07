"""Shared pieces of the end-to-end tests: stations in the database, waiting."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async

from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.organizations.secrets import hash_secret

PASSWORD = "s3cret-station-password"


def make_station(
    station_id: str,
    *,
    organization: Organization | None = None,
    registration_status: str = "Accepted",
    security_profile: int = 1,
    password: str = PASSWORD,
) -> ChargePoint:
    organization = (
        organization
        or Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme"})[0]
    )
    return ChargePoint.objects.create(
        id=station_id,
        organization=organization,
        registration_status=registration_status,
        security_profile=security_profile,
        password_hash=hash_secret(password),
    )


def admit_station(
    station_id: str,
    username: str | None,
    password: str | None,
    *,
    tls: bool = False,
    slug: str | None = None,
    channel_name: str = "chan-1",
):
    """The admission service, as the handshake calls it for a 1.6 station."""
    from apps.chargepoints.services.lifecycle import station_admit

    return station_admit(
        charge_point_id=station_id,
        organization_slug=slug,
        username=username,
        password=password,
        tls=tls,
        ocpp_version="1.6",
        node_name="n1",
        channel_name=channel_name,
        remote_address="10.0.0.1",
    )


async def eventually(check, timeout: float = 5.0, interval: float = 0.05):
    """Poll ``check`` (sync, run in a thread) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await sync_to_async(check)()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


BOOT_16 = {
    "chargePointVendor": "VendorX",
    "chargePointModel": "ModelY",
    "chargePointSerialNumber": "SN-16",
    "firmwareVersion": "1.2.3",
}
BOOT_201 = {
    "reason": "PowerUp",
    "chargingStation": {
        "vendorName": "VendorZ",
        "model": "ModelQ",
        "serialNumber": "SN-201",
        "firmwareVersion": "4.5.6",
    },
}
