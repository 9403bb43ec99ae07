"""Version-neutral operations on a station: one function per operation.

The API and the admin speak in operations ("reset", "start charging on EVSE 2
for token X"); each function picks the builder of the station's OCPP version
(``apps/ocpp/v16|v201|v21/commands.py``) and sends the result through the one
command service, ``send_command``. Errors are ``send_command``'s (offline 409,
timeout 504, CallError 502, invalid 400) plus ``UnsupportedOperation`` (400)
for an operation the version does not have.
"""

from apps.ocpp.operations.base import ADAPTERS, OperationResult, station_adapter
from apps.ocpp.operations.control import (
    availability,
    clear_cache,
    data_transfer,
    get_transaction_status,
    remote_start,
    remote_stop,
    reset,
    trigger,
    unlock,
)
from apps.ocpp.operations.maintenance import diagnostics, firmware_update, report

__all__ = [
    "ADAPTERS",
    "OperationResult",
    "availability",
    "clear_cache",
    "data_transfer",
    "diagnostics",
    "firmware_update",
    "get_transaction_status",
    "remote_start",
    "remote_stop",
    "report",
    "reset",
    "station_adapter",
    "trigger",
    "unlock",
]
