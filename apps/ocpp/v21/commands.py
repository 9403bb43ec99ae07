"""Outbound OCPP 2.1 commands for the version-neutral operations.

For these operations the 2.1 schemas are supersets of 2.0.1's (new optional
fields, free-form ``IdTokenType.type``, longer URLs), so 2.0.1's builders
serve; the differences that reach a neutral operation are here.
"""

from __future__ import annotations

from apps.ocpp.outbound import Command
from apps.ocpp.v201 import commands as v201
from apps.ocpp.v201.commands import (
    base_report,
    change_availability,
    clear_cache,
    data_transfer,
    firmware_update,
    get_transaction_status,
    remote_start,
    remote_stop,
    reset,
    unlock,
)

VERSION = "2.1"
# 2.1 adds SignV2G20Certificate; CustomTrigger needs its customTrigger name,
# which only the raw command can give.
TRIGGER_MESSAGES = v201.TRIGGER_MESSAGES | {"SignV2G20Certificate"}
# 2.1 adds the DataCollectorLog (N01).
LOG_TYPES = (*v201.LOG_TYPES, "DataCollectorLog")


def trigger(*, message: str, evse_id: int | None, connector_id: int | None) -> Command:
    return v201.trigger(
        message=message,
        evse_id=evse_id,
        connector_id=connector_id,
        messages=TRIGGER_MESSAGES,
    )


def diagnostics(**kwargs) -> Command:
    return v201.diagnostics(**kwargs, log_types=LOG_TYPES)


__all__ = [
    "base_report",
    "change_availability",
    "clear_cache",
    "data_transfer",
    "diagnostics",
    "firmware_update",
    "get_transaction_status",
    "remote_start",
    "remote_stop",
    "reset",
    "trigger",
    "unlock",
]
