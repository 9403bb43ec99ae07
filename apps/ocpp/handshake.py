"""Admitting a station: identity, security profile and failure throttling.

Runs before the WebSocket is accepted. OCPP-J: an unknown identity SHOULD get
HTTP 404; bad credentials get 401 (Security whitepaper / 2.0.1 A00.FR.2xx).
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from django.conf import settings

from apps.chargepoints.services.lifecycle import Admission, preload_key, station_admit
from apps.ocpp.db import run_db
from apps.operations.metrics import OCPP_AUTH_FAILURES


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


class FailureCounter:
    """Failed handshakes per client address, in this process.

    In memory on purpose: a cache round trip (a thread hop for Django's cache
    API) on every connect would slow a reconnect storm, and a per-process
    limit is enough to stop password guessing.
    """

    MAX_ADDRESSES = 100_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    def count(self, address: str) -> int:
        entry = self._counts.get(address)
        if entry is None:
            return 0
        failures, since = entry
        if time.monotonic() - since > settings.OCPP_AUTH_FAILURE_WINDOW:
            del self._counts[address]
            return 0
        return failures

    def add(self, address: str) -> None:
        failures = self.count(address)
        if failures == 0 and len(self._counts) >= self.MAX_ADDRESSES:
            self._counts.pop(next(iter(self._counts)))  # the oldest entry
        since = self._counts.get(address, (0, time.monotonic()))[1]
        self._counts[address] = (failures + 1, since)

    def clear(self) -> None:
        self._counts.clear()


failures = FailureCounter()

_STATUS = {
    "unknown_station": 404,
    "wrong_organization": 404,
    "tls_required": 426,
    "client_certificate_unsupported": 401,
    "bad_credentials": 401,
}


def _is_tls(scope: dict) -> bool:
    if scope.get("scheme") == "wss":
        return True
    if settings.OCPP_TRUST_FORWARDED_PROTO:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-proto":
                return value.decode("latin1").lower() in ("https", "wss")
    return False


async def admit(
    scope: dict,
    station_id: str,
    organization_slug: str | None,
    *,
    ocpp_version: str,
    channel_name: str,
) -> Admission | Refusal:
    """Admit the station and record its connection, or say why not."""
    address = (scope.get("client") or ("unknown", 0))[0]
    if failures.count(address) >= settings.OCPP_AUTH_FAILURE_LIMIT:
        OCPP_AUTH_FAILURES.labels("throttled").inc()
        return Refusal(429, "too many failed attempts", ((b"retry-after", b"60"),))
    given = basic_credentials(scope.get("headers", []))
    admission = await run_db(
        station_admit,
        preload=preload_key(station_id),
        charge_point_id=station_id,
        organization_slug=organization_slug,
        username=given[0] if given else None,
        password=given[1] if given else None,
        tls=_is_tls(scope),
        ocpp_version=ocpp_version,
        node_name=settings.NODE_NAME,
        channel_name=channel_name,
        remote_address=address,
    )
    if admission.refusal:
        OCPP_AUTH_FAILURES.labels(admission.refusal).inc()
        failures.add(address)
        status = _STATUS.get(admission.refusal, 401)
        headers = UNAUTHORIZED if status == 401 else ()
        return Refusal(status, admission.refusal.replace("_", " "), headers)
    return admission
