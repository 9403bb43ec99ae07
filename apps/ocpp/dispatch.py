"""Commands to stations, from any process: ``send_command``.

The API, the admin and Celery tasks all call this one service. It validates the
payload against the station's OCPP version, records a ``CommandLog``, sends the
CALL to whichever process holds the station (directly when that is this
process, over the channel layer otherwise) and waits for the answer.
"""

from __future__ import annotations

import asyncio
import decimal
import time
import uuid
from dataclasses import dataclass

import orjson
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.utils import timezone
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.messages import get_validator

from apps.chargepoints.models import ChargePoint
from apps.ocpp import mailbox, registry
from apps.ocpp.catalog import TO_STATION
from apps.ocpp.models import CommandLog
from csms.errors import ApplicationError, Conflict, NotFound

# Schemas whose numbers carry multipleOf 0.1: validate them as Decimals, as the
# package does (floats like 21.4 fail multipleOf otherwise).
_DECIMAL_SCHEMAS = {("1.6", "SetChargingProfile"), ("1.6", "RemoteStartTransaction")}
# Time the channel layer may add on top of the station's own answer time.
_TRANSPORT_MARGIN_S = 2.0


class StationOffline(Conflict):
    code = "station_offline"


class StationTimeout(ApplicationError):
    code = "station_timeout"
    status = 504


class StationRejected(ApplicationError):
    """The station answered with a CallError."""

    code = "station_call_error"
    status = 502


class InvalidCommand(ApplicationError):
    code = "invalid_payload"
    status = 400


@dataclass(frozen=True)
class CommandResult:
    action: str
    response: dict
    log_id: int
    duration_ms: int

    @property
    def status(self) -> str | None:
        """The station's status field, where the response has one."""
        value = self.response.get("status")
        return value if isinstance(value, str) else None


def validate_command(ocpp_version: str, action: str, payload: dict) -> dict:
    """Check ``action`` and ``payload`` against the version's CSMS->CP schema."""
    if action not in TO_STATION.get(ocpp_version, ()):
        raise InvalidCommand(
            f"{action} is not a CSMS-to-station action of OCPP {ocpp_version}.",
            details={"action": [f"Not a CSMS-to-station action of {ocpp_version}."]},
        )
    if not isinstance(payload, dict):
        raise InvalidCommand("The payload must be an object.", details={"payload": []})
    checked = payload
    parse_float = float
    if (ocpp_version, action) in _DECIMAL_SCHEMAS:
        parse_float = decimal.Decimal
        checked = orjson.loads(orjson.dumps(payload))
        checked = _decimals(checked)
    validator = get_validator(2, action, ocpp_version, parse_float=parse_float)
    errors = sorted(validator.iter_errors(checked), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidCommand(
            f"The payload is not a valid {action} of OCPP {ocpp_version}.",
            details={_field(error): [error.message] for error in errors},
        )
    return payload


def _decimals(value):
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def _field(error: SchemaError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"payload.{path}" if path else "payload"


# What sending needs of the station: callers that load it anyway load these.
STATION_FIELDS = ("id", "ocpp_version", "is_online", "channel_name")


def _prepare(
    station_id: str,
    action: str,
    payload: dict,
    requested_by: str,
    station: ChargePoint | None = None,
):
    if station is None:
        found = ChargePoint.objects.filter(pk=station_id).only(*STATION_FIELDS)
        station = found.first()
    if station is None:
        raise NotFound(f"Station {station_id} does not exist.")
    if not station.ocpp_version:
        raise StationOffline(
            f"Station {station_id} has never connected; its OCPP version is unknown."
        )
    validate_command(station.ocpp_version, action, payload)
    log = CommandLog.objects.create(
        charge_point=station,
        requested_by=requested_by[:150],
        action=action,
        payload=payload,
        unique_id=str(uuid.uuid4()),
    )
    if not station.is_online or not station.channel_name:
        _finish(log, {"outcome": "offline"}, 0)
        raise StationOffline(
            f"Station {station_id} is offline.", details={"command_id": log.pk}
        )
    return station, log


def _finish(log: CommandLog, reply: dict, duration_ms: int) -> None:
    log.outcome = reply["outcome"]
    log.response = reply.get("response")
    log.error_code = reply.get("code", "")[:64]
    log.error_description = reply.get("description", "")[:255]
    log.completed_at = timezone.now()
    log.duration_ms = duration_ms
    log.save(
        update_fields=[
            "outcome",
            "response",
            "error_code",
            "error_description",
            "completed_at",
            "duration_ms",
        ]
    )


async def send_command_async(
    station_id: str,
    action: str,
    payload: dict,
    *,
    timeout: float | None = None,
    requested_by: str = "",
) -> CommandResult:
    """Asynchronous entry, for code on an event loop."""
    timeout = timeout or settings.OCPP_COMMAND_TIMEOUT
    station, log = await database_sync_to_async(_prepare)(
        station_id, action, payload, requested_by
    )
    started = time.perf_counter()
    reply = await _deliver(station, action, payload, timeout, log.unique_id)
    duration_ms = int((time.perf_counter() - started) * 1000)
    await database_sync_to_async(_finish)(log, reply, duration_ms)
    return _result(station_id, action, timeout, log, reply, duration_ms)


def send_command(
    station_id: str,
    action: str,
    payload: dict,
    *,
    timeout: float | None = None,
    requested_by: str = "",
    station: ChargePoint | None = None,
) -> CommandResult:
    """Synchronous entry for views, admin actions and Celery tasks.

    The database work runs in the calling thread; only the exchange with the
    station crosses to the event loop, once (a crossing is a wait in the
    loop's queue, long when stations keep the loop busy). A caller that has
    just loaded the station (with ``STATION_FIELDS``) passes it along.
    """
    timeout = timeout or settings.OCPP_COMMAND_TIMEOUT
    station, log = _prepare(station_id, action, payload, requested_by, station)
    _release_connection()  # the station may take long: give it back meanwhile
    started = time.perf_counter()
    reply = _deliver_from_thread(station, action, payload, timeout, log.unique_id)
    duration_ms = int((time.perf_counter() - started) * 1000)
    _finish(log, reply, duration_ms)
    return _result(station_id, action, timeout, log, reply, duration_ms)


def _result(
    station_id: str,
    action: str,
    timeout: float,
    log: CommandLog,
    reply: dict,
    duration_ms: int,
) -> CommandResult:
    """The station's answer, or the error that says why there is none."""
    outcome = reply["outcome"]
    if outcome == "ok":
        return CommandResult(action, reply["response"], log.pk, duration_ms)
    # Errors name the CommandLog, so callers can link or look it up.
    if outcome == "offline":
        raise StationOffline(
            f"Station {station_id} went offline.", details={"command_id": log.pk}
        )
    if outcome == "timeout":
        raise StationTimeout(
            f"Station {station_id} did not answer {action} within {timeout:g} s.",
            details={"command_id": log.pk},
        )
    raise StationRejected(
        f"Station {station_id} answered {action} with {reply['code']}: "
        f"{reply.get('description', '')}",
        details={
            "code": reply["code"],
            "description": reply.get("description", ""),
            "details": reply.get("details", {}),
            "command_id": log.pk,
        },
    )


def _release_connection() -> None:
    """Give a pooled database connection back while the thread waits.

    Not inside a transaction (the caller's must go on) nor without a pool
    (reconnecting would cost more than keeping it).
    """
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


def _deliver_from_thread(
    station: ChargePoint, action: str, payload: dict, timeout: float, unique_id: str
) -> dict:
    """``_deliver`` from a synchronous caller: on the loop that holds this
    process's connections, one crossing; without one (a Celery worker, a
    shell), on a loop of its own."""
    loop = registry.loop
    if loop is None or not loop.is_running() or _on_a_loop():
        # (On a loop, async_to_sync says why it cannot wait here.)
        return async_to_sync(_deliver)(station, action, payload, timeout, unique_id)
    delivery = _deliver(station, action, payload, timeout, unique_id)
    future = asyncio.run_coroutine_threadsafe(delivery, loop)
    try:
        # _deliver bounds its own wait; this only guards a loop that stops.
        return future.result(timeout + 2 * _TRANSPORT_MARGIN_S)
    except TimeoutError:
        future.cancel()
        return {"outcome": "timeout"}


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _deliver(
    station: ChargePoint, action: str, payload: dict, timeout: float, unique_id: str
) -> dict:
    from apps.ocpp.consumer import execute_call

    local = registry.connected.get(station.id)
    if local is not None and local.channel_name == station.channel_name:
        call = execute_call(
            local.session, action, payload, timeout=timeout, unique_id=unique_id
        )
        if asyncio.get_running_loop() is registry.loop:
            return await call
        # On another thread's loop: run the call on the loop that owns the
        # station's connection.
        future = asyncio.run_coroutine_threadsafe(call, registry.loop)
        return await asyncio.wrap_future(future)
    box = await mailbox.of_this_loop()
    reply_to, answer = box.expect()
    try:
        await mailbox.send(
            station.channel_name,
            {
                "type": "ocpp.call",
                "action": action,
                "payload": payload,
                "timeout": timeout,
                "request_id": unique_id,
                "reply_to": reply_to,
            },
        )
        reply = await asyncio.wait_for(answer, timeout + _TRANSPORT_MARGIN_S)
    except TimeoutError:
        # Nobody answered for the station: its process is gone, or the station.
        return {"outcome": "timeout"}
    finally:
        box.close(reply_to)
    if reply.get("undelivered"):
        return {"outcome": "offline"}  # the connection had closed meanwhile
    return reply
