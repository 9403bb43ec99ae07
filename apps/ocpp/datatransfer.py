"""Incoming DataTransfer, routed to vendor handlers by vendorId and messageId.

A station sends DataTransfer for what OCPP does not cover (1.6 §4.3, 2.0.1 P02).
The CSMS answers ``UnknownVendorId`` for a vendorId no handler is registered
for (P02.FR.06), ``UnknownMessageId`` for a messageId the vendor's handlers do
not know (P02.FR.07), and otherwise whatever the handler answers.

Adding a handler
----------------

Write a function in any module and list the module in the setting
``OCPP_DATA_TRANSFER_HANDLERS`` (environment ``CSMS_DATA_TRANSFER_HANDLERS``,
comma-separated; the default is the built-ins, ``apps.ocpp.datatransfer_builtin``)::

    from apps.ocpp.datatransfer import DataTransferReply, vendor_handler

    @vendor_handler("com.acme", "MeterSerial")
    def meter_serial(request) -> DataTransferReply:
        station_note_meter(request.charge_point_id, request.data)  # your service
        return DataTransferReply("Accepted")

- ``message_id=None`` registers the vendor's fallback for any messageId
  (also for a request without one).
- ``request`` is an ``IncomingDataTransfer``: the station, its organization and
  OCPP version, ``vendor_id``, ``message_id`` and ``data`` exactly as sent: a
  string (or None) from 1.6; any JSON value from 2.0.1/2.1, never key-converted.
- A plain function runs in the edge's group commit (``run_db``), in the same
  transaction as the message journal: do database work there, quickly. An
  ``async def`` handler runs on the event loop and must not block it.
- Return ``DataTransferReply(status, data=None, reason_code=None,
  additional_info=None)``. For a 1.6 station ``data`` is sent as a string (a
  non-string value is JSON-encoded); ``reason_code``/``additional_info``
  become 2.0.1 ``statusInfo``. An exception is answered with a CallError.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.ocpp.db import run_db

ANY_MESSAGE = None


@dataclass(frozen=True)
class IncomingDataTransfer:
    charge_point_id: str
    organization_id: int
    ocpp_version: str
    vendor_id: str
    message_id: str | None
    data: Any = None


@dataclass(frozen=True)
class DataTransferReply:
    status: str = "Accepted"
    data: Any = None
    reason_code: str | None = None
    additional_info: str | None = None


Handler = Callable[[IncomingDataTransfer], DataTransferReply]

_handlers: dict[str, dict[str | None, Handler]] = {}
_loaded = False
_lock = threading.Lock()


def vendor_handler(vendor_id: str, message_id: str | None = ANY_MESSAGE):
    """Register the decorated function for ``vendor_id`` (and ``message_id``)."""

    def register(function: Handler) -> Handler:
        messages = _handlers.setdefault(vendor_id, {})
        if message_id in messages and messages[message_id] is not function:
            raise ValueError(
                f"DataTransfer {vendor_id}/{message_id} already has a handler."
            )
        messages[message_id] = function
        return function

    return register


def load_handlers() -> None:
    """Import the configured handler modules once (their decorators register)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            for module in settings.OCPP_DATA_TRANSFER_HANDLERS:
                importlib.import_module(module)
            _loaded = True


def handler_for(vendor_id: str, message_id: str | None) -> Handler | str:
    """The handler, or the status to answer when there is none."""
    load_handlers()
    messages = _handlers.get(vendor_id)
    if messages is None:
        return "UnknownVendorId"
    handler = messages.get(message_id) or messages.get(ANY_MESSAGE)
    return handler if handler is not None else "UnknownMessageId"


async def route(request: IncomingDataTransfer) -> DataTransferReply:
    handler = handler_for(request.vendor_id, request.message_id)
    if isinstance(handler, str):
        return DataTransferReply(handler)
    if inspect.iscoroutinefunction(handler):
        return await handler(request)
    return await run_db(handler, request)
