"""Outbound OCPP 1.6 commands for the version-neutral operations.

1.6 has no EVSEs: the station model shows connector N as EVSE N with
connector N, and connector 0 is the station itself. A neutral ``evse_id`` is
therefore accepted where a connector is meant, and must agree with
``connector_id`` when both are given. Where the security whitepaper (edition 3)
has the newer message (ExtendedTriggerMessage, GetLog, SignedUpdateFirmware),
the builder picks it when the request needs it.
"""

from __future__ import annotations

import json
from datetime import datetime

from apps.ocpp.outbound import Command, invalid, optional, unsupported
from apps.ocpp.timeutil import format_ocpp_datetime

VERSION = "1.6"
ID_TAG_MAX_LENGTH = 20
TRIGGER_MESSAGES = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)
# Security whitepaper §6: only ExtendedTriggerMessage can ask for these.
EXTENDED_TRIGGER_MESSAGES = frozenset(
    {"LogStatusNotification", "SignChargePointCertificate"}
)
# 2.0.1 names an integrator may use for the same message.
TRIGGER_ALIASES = {"SignChargingStationCertificate": "SignChargePointCertificate"}
RESET_TYPES = {"Hard": "Hard", "Soft": "Soft", "Immediate": "Hard", "OnIdle": "Soft"}
LOG_TYPES = ("DiagnosticsLog", "SecurityLog")


def _connector(evse_id: int | None, connector_id: int | None) -> int | None:
    if evse_id is not None and connector_id is not None and evse_id != connector_id:
        raise invalid(
            "connector_id",
            "OCPP 1.6 has no EVSEs: connector N is EVSE N, so evse_id and "
            "connector_id must be equal when both are given.",
        )
    return connector_id if connector_id is not None else evse_id


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
    """RemoteStartTransaction; 1.6 carries no remoteStartId (1.6 §5.11)."""
    if len(id_tag) > ID_TAG_MAX_LENGTH:
        raise invalid("id_tag", "OCPP 1.6 idTags have at most 20 characters.")
    connector = _connector(evse_id, connector_id)
    if connector == 0:
        raise invalid("connector_id", "A transaction starts on a connector > 0.")
    return Command(
        "RemoteStartTransaction",
        {
            "idTag": id_tag,
            **optional(connectorId=connector, chargingProfile=charging_profile),
        },
    )


def remote_stop(*, transaction_id: str | int) -> Command:
    try:
        number = int(transaction_id)
    except (TypeError, ValueError):
        raise invalid(
            "transaction_id", "OCPP 1.6 transaction ids are integers."
        ) from None
    return Command("RemoteStopTransaction", {"transactionId": number})


def reset(*, type: str, evse_id: int | None) -> Command:
    if evse_id is not None:
        raise invalid("evse_id", "OCPP 1.6 resets the whole station only.")
    return Command("Reset", {"type": RESET_TYPES[type]})


def unlock(*, evse_id: int | None, connector_id: int | None) -> Command:
    connector = _connector(evse_id, connector_id)
    if not connector:
        raise invalid("connector_id", "Name the connector (> 0) to unlock.")
    return Command("UnlockConnector", {"connectorId": connector})


def change_availability(
    *, evse_id: int | None, connector_id: int | None, operative: bool
) -> Command:
    connector = _connector(evse_id, connector_id)
    return Command(
        "ChangeAvailability",
        {
            "connectorId": connector or 0,
            "type": "Operative" if operative else "Inoperative",
        },
    )


def trigger(*, message: str, evse_id: int | None, connector_id: int | None) -> Command:
    message = TRIGGER_ALIASES.get(message, message)
    connector = _connector(evse_id, connector_id)
    if message in TRIGGER_MESSAGES:
        action = "TriggerMessage"
    elif message in EXTENDED_TRIGGER_MESSAGES:
        action = "ExtendedTriggerMessage"
    else:
        choices = ", ".join(sorted(TRIGGER_MESSAGES | EXTENDED_TRIGGER_MESSAGES))
        raise invalid("message", f"OCPP 1.6 stations can be asked for: {choices}.")
    return Command(
        action, {"requestedMessage": message, **optional(connectorId=connector)}
    )


def clear_cache() -> Command:
    return Command("ClearCache", {})


def data_transfer(
    *, vendor_id: str, message_id: str | None, data: object | None
) -> Command:
    """1.6 ``data`` is a string: structured data goes as its JSON text."""
    if data is not None and not isinstance(data, str):
        data = json.dumps(data, separators=(",", ":"))
    return Command(
        "DataTransfer",
        {"vendorId": vendor_id, **optional(messageId=message_id, data=data)},
    )


def get_transaction_status(*, transaction_id: str | None) -> Command:
    raise unsupported("GetTransactionStatus", VERSION)


def base_report(*, request_id: int, report_base: str) -> Command:
    raise unsupported("GetBaseReport", VERSION)


def diagnostics(
    *,
    request_id: int,
    location: str,
    log_type: str,
    start_time: datetime | None,
    stop_time: datetime | None,
    retries: int | None,
    retry_interval: int | None,
) -> Command:
    """GetDiagnostics; a SecurityLog is the security extension's GetLog."""
    if log_type not in LOG_TYPES:
        raise invalid("log_type", f"OCPP 1.6 logs: {', '.join(LOG_TYPES)}.")
    retry = optional(retries=retries, retryInterval=retry_interval)
    if log_type == "SecurityLog":
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
                **retry,
            },
        )
    return Command(
        "GetDiagnostics",
        {
            "location": location,
            **retry,
            **optional(startTime=_when(start_time), stopTime=_when(stop_time)),
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
    """UpdateFirmware; a signed image is the security extension's
    SignedUpdateFirmware."""
    retry = optional(retries=retries, retryInterval=retry_interval)
    if signing_certificate:
        if not signature:
            raise invalid("signature", "A signed firmware update needs a signature.")
        return Command(
            "SignedUpdateFirmware",
            {
                "requestId": request_id,
                "firmware": {
                    "location": location,
                    "retrieveDateTime": _when(retrieve_at),
                    "signingCertificate": signing_certificate,
                    "signature": signature,
                    **optional(installDateTime=_when(install_at)),
                },
                **retry,
            },
        )
    if install_at is not None:
        raise invalid("install_at", "OCPP 1.6 UpdateFirmware has no install time.")
    return Command(
        "UpdateFirmware",
        {"location": location, "retrieveDate": _when(retrieve_at), **retry},
    )
