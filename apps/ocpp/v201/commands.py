"""Outbound OCPP 2.0.1 commands for the version-neutral operations.

Reset maps the neutral Hard/Soft to Immediate/OnIdle (B11/B12). An EVSE is
addressed by ``evse_id``; a connector needs its EVSE too (``EVSEType``).
"""

from __future__ import annotations

from datetime import datetime

from apps.ocpp.outbound import Command, invalid, optional
from apps.ocpp.timeutil import format_ocpp_datetime

VERSION = "2.0.1"
TRIGGER_MESSAGES = frozenset(
    {
        "BootNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "PublishFirmwareStatusNotification",
        "SignChargingStationCertificate",
        "SignCombinedCertificate",
        "SignV2GCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)
# 1.6 names an integrator may use for the same message.
TRIGGER_ALIASES = {
    "DiagnosticsStatusNotification": "LogStatusNotification",
    "SignChargePointCertificate": "SignChargingStationCertificate",
}
LOG_TYPES = ("DiagnosticsLog", "SecurityLog")
RESET_TYPES = {
    "Hard": "Immediate",
    "Soft": "OnIdle",
    "Immediate": "Immediate",
    "OnIdle": "OnIdle",
}


def _evse(evse_id: int | None, connector_id: int | None) -> dict | None:
    """EVSEType, or None for the whole station (EVSE 0 is the station)."""
    if connector_id is not None and not evse_id:
        raise invalid("evse_id", "A connector is addressed within its EVSE (> 0).")
    if not evse_id:
        return None
    return {"id": evse_id, **optional(connectorId=connector_id)}


def _when(value: datetime | None) -> str | None:
    return format_ocpp_datetime(value) if value is not None else None


def remote_start(
    *,
    id_tag: str,
    id_token_type: str,
    evse_id: int | None,
    connector_id: int | None,
    charging_profile: dict | None,
    remote_start_id: int,
) -> Command:
    """RequestStartTransaction (F01/F02): the TransactionEvent that starts the
    session carries ``remoteStartId`` back."""
    if connector_id is not None:
        # F01: the station chooses the connector of the EVSE.
        raise invalid(
            "connector_id",
            "OCPP 2.0.1 starts on an EVSE (evse_id); the station picks its connector.",
        )
    return Command(
        "RequestStartTransaction",
        {
            "idToken": {"idToken": id_tag, "type": id_token_type},
            "remoteStartId": remote_start_id,
            **optional(evseId=evse_id or None, chargingProfile=charging_profile),
        },
    )


def remote_stop(*, transaction_id: str | int) -> Command:
    return Command("RequestStopTransaction", {"transactionId": str(transaction_id)})


def reset(*, type: str, evse_id: int | None) -> Command:
    return Command(
        "Reset", {"type": RESET_TYPES[type], **optional(evseId=evse_id or None)}
    )


def unlock(*, evse_id: int | None, connector_id: int | None) -> Command:
    if not evse_id:
        raise invalid("evse_id", "OCPP 2.0.1 unlocks a connector of an EVSE (> 0).")
    if connector_id is None:
        raise invalid("connector_id", "Name the connector to unlock.")
    return Command("UnlockConnector", {"evseId": evse_id, "connectorId": connector_id})


def change_availability(
    *, evse_id: int | None, connector_id: int | None, operative: bool
) -> Command:
    return Command(
        "ChangeAvailability",
        {
            "operationalStatus": "Operative" if operative else "Inoperative",
            **optional(evse=_evse(evse_id, connector_id)),
        },
    )


def trigger(
    *,
    message: str,
    evse_id: int | None,
    connector_id: int | None,
    messages: frozenset[str] = TRIGGER_MESSAGES,
) -> Command:
    message = TRIGGER_ALIASES.get(message, message)
    if message not in messages:
        choices = ", ".join(sorted(messages))
        raise invalid("message", f"The station can be asked for: {choices}.")
    return Command(
        "TriggerMessage",
        {
            "requestedMessage": message,
            **optional(evse=_evse(evse_id, connector_id)),
        },
    )


def clear_cache() -> Command:
    return Command("ClearCache", {})


def data_transfer(
    *, vendor_id: str, message_id: str | None, data: object | None
) -> Command:
    return Command(
        "DataTransfer",
        {"vendorId": vendor_id, **optional(messageId=message_id, data=data)},
    )


def get_transaction_status(*, transaction_id: str | None) -> Command:
    """Without an id, the station answers whether any messages are queued."""
    return Command(
        "GetTransactionStatus",
        optional(transactionId=str(transaction_id) if transaction_id else None),
    )


def base_report(*, request_id: int, report_base: str) -> Command:
    return Command(
        "GetBaseReport", {"requestId": request_id, "reportBase": report_base}
    )


def diagnostics(
    *,
    request_id: int,
    location: str,
    log_type: str,
    start_time: datetime | None,
    stop_time: datetime | None,
    retries: int | None,
    retry_interval: int | None,
    log_types: tuple[str, ...] = LOG_TYPES,
) -> Command:
    """GetLog (N01)."""
    if log_type not in log_types:
        raise invalid("log_type", f"The station's logs: {', '.join(log_types)}.")
    return Command(
        "GetLog",
        {
            "log": {
                "remoteLocation": location,
                **optional(
                    oldestTimestamp=_when(start_time),
                    latestTimestamp=_when(stop_time),
                ),
            },
            "logType": log_type,
            "requestId": request_id,
            **optional(retries=retries, retryInterval=retry_interval),
        },
    )


def firmware_update(
    *,
    request_id: int,
    location: str,
    retrieve_at: datetime,
    install_at: datetime | None,
    retries: int | None,
    retry_interval: int | None,
    signing_certificate: str | None,
    signature: str | None,
) -> Command:
    """UpdateFirmware (L01/L02)."""
    return Command(
        "UpdateFirmware",
        {
            "requestId": request_id,
            "firmware": {
                "location": location,
                "retrieveDateTime": _when(retrieve_at),
                **optional(
                    installDateTime=_when(install_at),
                    signingCertificate=signing_certificate,
                    signature=signature,
                ),
            },
            **optional(retries=retries, retryInterval=retry_interval),
        },
    )
