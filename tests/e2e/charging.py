"""What the charging end-to-end tests share.

- ``make_tenant`` (``tenant`` from async code): an organization with a
  station, a default tariff and a viewer's JWT; ``tag`` adds an id tag.
- ``ocpp``: a station CALL whose request and answer are checked against the
  OCPP JSON schemas of the station's version (and must be a CALLRESULT).
- ``resend``: a frame with a unique id of our choosing, for repeats.
- ``EventFeed``: the operator event WebSocket, read in the background.
- ``mv16``/``mv201``: meter values in kWh/kW as stations send them;
  ``start16``/``meter_values16``/``stop16``: 1.6 transaction payloads.
- API reads as an integrator does them; the Part 6 tokens.

``tests.e2e.tx201.Tx201`` plays one 2.0.1 transaction.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import websockets
from asgiref.sync import sync_to_async
from ocpp.messages import get_validator

from apps.billing.models import Tariff
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.transactions.models import IdTag
from tests.e2e.command_helpers import api_client, token_for
from tests.e2e.helpers import make_station
from tests.stations import Answer, Station

VERSIONS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
# The test tariff: 0.30/kWh, 0.02/min of charging, 0.50 per session, idle
# 0.10/min from the end of charging (no grace).
PRICE_PER_KWH = Decimal("0.30")
PRICE_PER_MINUTE = Decimal("0.02")
SESSION_FEE = Decimal("0.50")
IDLE_FEE_PER_MINUTE = Decimal("0.10")
_frames = itertools.count(1)


@dataclass
class Tenant:
    organization: Organization
    station_id: str
    tariff: Tariff
    jwt: str  # a viewer of the organization


def make_tenant(
    slug: str,
    station_id: str,
    *,
    stop_token_mismatch: str = Organization.StopTokenMismatch.ACCEPT_AND_FLAG,
) -> Tenant:
    organization = Organization.objects.create(
        name=slug.title(), slug=slug, stop_token_mismatch=stop_token_mismatch
    )
    make_station(station_id, organization=organization)
    tariff = Tariff.objects.create(
        organization=organization,
        name="Standard",
        currency="EUR",
        price_per_kwh=PRICE_PER_KWH,
        price_per_minute=PRICE_PER_MINUTE,
        session_fee=SESSION_FEE,
        idle_fee_per_minute=IDLE_FEE_PER_MINUTE,
        is_default=True,
    )
    jwt = token_for("viewer", organization, f"viewer-{slug}")
    return Tenant(organization, station_id, tariff, jwt)


def add_id_tag(
    organization: Organization,
    id_tag: str,
    *,
    status: str = IdTag.Status.ACCEPTED,
    parent: str = "",
    type: str = IdTag.Type.ISO14443,
    expiry_date: datetime | None = None,
) -> IdTag:
    return IdTag.objects.create(
        organization=organization,
        id_tag=id_tag,
        status=status,
        parent_id_tag=parent,
        type=type,
        expiry_date=expiry_date,
    )


async def tenant(slug: str, station_id: str, **options) -> Tenant:
    return await sync_to_async(make_tenant)(slug, station_id, **options)


async def tag(owner: Tenant, id_tag: str, **options) -> IdTag:
    return await sync_to_async(add_id_tag)(owner.organization, id_tag, **options)


def money(value: Decimal) -> Decimal:
    """Rounded half-up to the cent, as billing rounds each component."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- time ----------------------------------------------------------------------


def session_start(hours_ago: float = 2) -> datetime:
    """A whole-minute UTC moment in the past: the start of a test session."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(hours=hours_ago)


def at(t0: datetime, minutes: float = 0) -> str:
    """``t0`` + ``minutes`` as an OCPP dateTime (UTC, milliseconds, Z)."""
    moment = t0 + timedelta(minutes=minutes)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def api_time(t0: datetime, minutes: float = 0) -> str:
    """The same moment as the REST API and the event feed write it."""
    moment = t0 + timedelta(minutes=minutes)
    return moment.isoformat().replace("+00:00", "Z")


# --- station calls -------------------------------------------------------------


def _check(message_type: int, action: str, version: str, payload: dict) -> None:
    get_validator(message_type, action, version).validate(payload)


async def ocpp(station: Station, action: str, payload: dict) -> Answer:
    """A schema-valid CALL; its answer is a schema-valid CALLRESULT."""
    version = VERSIONS[station.subprotocol]
    _check(2, action, version, payload)
    answer = await station.call(action, payload)
    assert answer.ok, (action, answer)
    _check(3, action, version, answer.payload)
    return answer


async def resend(station: Station, unique_id: str, action: str, payload: dict):
    """Send a CALL under ``unique_id`` (again); return its answer."""
    _check(2, action, VERSIONS[station.subprotocol], payload)
    answer = await station.send_raw(json.dumps([2, unique_id, action, payload]))
    assert answer.unique_id == unique_id and answer.ok, answer
    return answer


def frame_id(prefix: str) -> str:
    return f"{prefix}-{next(_frames)}"


# --- meter values --------------------------------------------------------------


def mv16(
    timestamp: str,
    kwh: str,
    *,
    kw: str | None = None,
    context: str = "Sample.Periodic",
) -> dict:
    """A 1.6 MeterValue: the energy register in kWh, the power in kW."""
    sampled = [
        {
            "value": kwh,
            "context": context,
            "measurand": ENERGY,
            "location": "Outlet",
            "unit": "kWh",
        }
    ]
    if kw is not None:
        sampled.append(
            {
                "value": kw,
                "context": context,
                "measurand": POWER,
                "location": "Outlet",
                "unit": "kW",
            }
        )
    return {"timestamp": timestamp, "sampledValue": sampled}


def signed_meter_value(reading: str) -> dict:
    """A SignedMeterValueType as a signing meter would send it (OCMF)."""
    return {
        "signedMeterData": f'OCMF|{{"RD":[{{"RV":{reading},"RU":"kWh"}}]}}',
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
    }


def mv201(
    timestamp: str,
    kwh: float,
    *,
    kw: float | None = None,
    context: str = "Sample.Periodic",
    signed: bool = False,
) -> dict:
    """A 2.0.1 MeterValueType: the energy register in kWh, the power in kW."""
    energy: dict = {
        "value": kwh,
        "context": context,
        "measurand": ENERGY,
        "location": "Outlet",
        "unitOfMeasure": {"unit": "kWh"},
    }
    if signed:
        energy["signedMeterValue"] = signed_meter_value(repr(kwh))
    sampled = [energy]
    if kw is not None:
        sampled.append(
            {
                "value": kw,
                "context": context,
                "measurand": POWER,
                "location": "Outlet",
                "unitOfMeasure": {"unit": "kW"},
            }
        )
    return {"timestamp": timestamp, "sampledValue": sampled}


def start16(
    t0: datetime, id_tag: str = "CARD-16", meter_start: int = 12000, connector=1
) -> dict:
    return {
        "connectorId": connector,
        "idTag": id_tag,
        "meterStart": meter_start,
        "timestamp": at(t0),
    }


def meter_values16(transaction_id: int, timestamp: str, kwh: str, kw=None) -> dict:
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [mv16(timestamp, kwh, kw=kw)],
    }


def stop16(
    transaction_id: int, t0: datetime, minutes: float, meter_stop: int, **fields
) -> dict:
    return {
        "transactionId": transaction_id,
        "meterStop": meter_stop,
        "timestamp": at(t0, minutes),
        **fields,
    }


# --- the REST API, as an integrator reads it ------------------------------------


async def get_json(api, path: str) -> dict:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def only_transaction(live, tenant: Tenant, station_id: str) -> dict:
    """The station's only transaction, in detail, as its tenant's API shows it."""
    async with api_client(live.http_url, tenant.jwt) as api:
        page = await get_json(api, f"/api/v1/transactions/?charge_point={station_id}")
        assert page["count"] == 1, page
        pk = page["results"][0]["id"]
        return await get_json(api, f"/api/v1/transactions/{pk}/")


async def meter_values_of(live, tenant: Tenant, pk: int) -> list[dict]:
    async with api_client(live.http_url, tenant.jwt) as api:
        page = await get_json(api, f"/api/v1/transactions/{pk}/meter-values/")
    return page["results"]


# --- the event feed ------------------------------------------------------------


class EventFeed:
    """The operator event WebSocket of one user, read in the background."""

    def __init__(self, ws):
        self.ws = ws
        self.events: list[dict] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, ws_url: str, jwt: str) -> EventFeed:
        ws = await websockets.connect(
            f"{ws_url}/ws/events/?token={jwt}", open_timeout=10
        )
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.events.append(json.loads(text))
        except websockets.ConnectionClosed:
            pass

    def of_type(self, prefix: str) -> list[dict]:
        return [event for event in self.events if event["type"].startswith(prefix)]

    async def wait_for(self, prefix: str, count: int, timeout: float = 10) -> list:
        """The first ``count`` events whose type starts with ``prefix``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of_type(prefix)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{count} {prefix!r} events expected, got {self.events!r}"
                )
            await asyncio.sleep(0.02)
        return self.of_type(prefix)[:count]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


def by_type(events: list[dict]) -> dict[str, dict]:
    """Events keyed by type (each type once): the publisher may reorder them."""
    keyed = {event["type"]: event for event in events}
    assert len(keyed) == len(events), events
    return keyed


# --- Part 6: configured tokens and the CSMS's records ----------------------------

# <Configured valid_idtoken>, <valid_idtoken2>, ... of the OCTT.
VALID = {"idToken": "OCTT-VALID-1", "type": "ISO14443"}
VALID2 = {"idToken": "OCTT-VALID-2", "type": "ISO14443"}
INVALID = {"idToken": "OCTT-INVALID", "type": "ISO14443"}
BLOCKED = {"idToken": "OCTT-BLOCKED", "type": "ISO14443"}
EXPIRED = {"idToken": "OCTT-EXPIRED", "type": "ISO14443"}
MASTER = {"idToken": "OCTT-MASTER", "type": "ISO14443"}
GROUP = "OCTT-GROUP"
MASTER_PASS_GROUP = "OCTT-MASTERPASS"


def register(station_id: str, token: dict, **fields) -> IdTag:
    """The token as the CSMS knows it, in the station's organization."""
    station = ChargePoint.objects.get(pk=station_id)
    return add_id_tag(
        station.organization, token["idToken"], type=token["type"], **fields
    )


def set_stop_token_policy(station_id: str, policy: str) -> None:
    Organization.objects.filter(charge_points__id=station_id).update(
        stop_token_mismatch=policy
    )


async def api_transaction(api, station_id: str, transaction_id: str) -> dict:
    """A transaction by its OCPP id, in detail, as the operator's API shows it."""
    page = await api.get(
        "/api/v1/transactions/",
        params={"charge_point": station_id, "search": transaction_id},
    )
    assert page.status_code == 200, page.text
    (found,) = [
        t for t in page.json()["results"] if t["transaction_id"] == transaction_id
    ]
    detail = await api.get(f"/api/v1/transactions/{found['id']}/")
    return detail.json()


async def api_meter_values(api, pk: int) -> list[dict]:
    page = await api.get(f"/api/v1/transactions/{pk}/meter-values/")
    assert page.status_code == 200, page.text
    return page.json()["results"]
