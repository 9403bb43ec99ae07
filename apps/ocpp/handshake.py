"""Admitting a station: identity, security profile and failure throttling.

Runs before the WebSocket is accepted. OCPP-J: an unknown identity SHOULD get
HTTP 404; bad credentials get 401 (Security whitepaper / 2.0.1 A00.FR.2xx).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from apps.chargepoints.services.lifecycle import (
    StationCredentials,
    station_auto_register,
    station_credentials,
)
from apps.ocpp.db import run_db
from apps.operations.metrics import OCPP_AUTH_FAILURES
from apps.organizations.secrets import verify_secret


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


UNAUTHORIZED = ((b"www-authenticate", b'Basic realm="OCPP", charset="UTF-8"'),)


def basic_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, encoded = value.decode("latin1").partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, sep, password = decoded.partition(":")
            return (username, password) if sep else None
    return None


def _failure_key(address: str) -> str:
    return f"ocpp:authfail:{address}"


async def is_throttled(address: str) -> bool:
    return (
        await cache.aget(_failure_key(address), 0)
    ) >= settings.OCPP_AUTH_FAILURE_LIMIT


async def _note_failure(address: str, reason: str) -> None:
    OCPP_AUTH_FAILURES.labels(reason).inc()
    key = _failure_key(address)
    if not await cache.aadd(key, 1, settings.OCPP_AUTH_FAILURE_WINDOW):
        try:
            await cache.aincr(key)
        except ValueError:  # expired between add and incr
            await cache.aset(key, 1, settings.OCPP_AUTH_FAILURE_WINDOW)


def _is_tls(scope: dict) -> bool:
    if scope.get("scheme") == "wss":
        return True
    if settings.OCPP_TRUST_FORWARDED_PROTO:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-proto":
                return value.decode("latin1").lower() in ("https", "wss")
    return False


async def admit(
    scope: dict, station_id: str, organization_slug: str | None
) -> StationCredentials | Refusal:
    address = (scope.get("client") or ("unknown", 0))[0]
    if await is_throttled(address):
        OCPP_AUTH_FAILURES.labels("throttled").inc()
        return Refusal(429, "too many failed attempts", ((b"retry-after", b"60"),))
    given = basic_credentials(scope.get("headers", []))
    station = await run_db(station_credentials, charge_point_id=station_id)
    if station is None:
        station = await run_db(
            station_auto_register,
            charge_point_id=station_id,
            organization_slug=organization_slug or settings.OCPP_DEFAULT_ORGANIZATION,
            password=given[1] if given and given[0] == station_id else None,
        )
        if station is None:
            await _note_failure(address, "unknown_station")
            return Refusal(404, "unknown station")
    if organization_slug and organization_slug != station.organization_slug:
        await _note_failure(address, "wrong_organization")
        return Refusal(404, "unknown station")
    if station.security_profile == 0:
        return station
    if station.security_profile >= 2 and not _is_tls(scope):
        await _note_failure(address, "tls_required")
        return Refusal(426, "security profile requires TLS")
    if station.security_profile == 3:
        # Profile 3 authenticates by client certificate, which the ASGI server
        # does not expose; it needs a TLS-terminating proxy feature not built yet.
        await _note_failure(address, "profile3_unsupported")
        return Refusal(401, "client certificate authentication is not available")
    if (
        given is None
        or given[0] != station_id
        or not station.password_hash
        or not verify_secret(given[1], station.password_hash)
    ):
        await _note_failure(address, "bad_credentials")
        return Refusal(401, "bad credentials", UNAUTHORIZED)
    return station
