"""OCPP 2.0.1 (and 2.1) transaction payloads <-> version-neutral data."""

from __future__ import annotations

from apps.ocpp.timeutil import format_ocpp_datetime, parse_ocpp_datetime
from apps.transactions.services.authorization import (
    GROUP_TYPE_DEFAULT,
    AuthorizationResult,
)
from apps.transactions.services.events import (
    TransactionEventInput,
    TransactionEventResult,
)
from apps.transactions.services.meter_values import SampledValueInput


def id_token_info(result: AuthorizationResult) -> dict:
    """IdTokenInfoType: status, cacheExpiryDateTime, groupIdToken (C01.FR.06)."""
    info: dict = {"status": result.status}
    if result.expiry_date is not None:
        info["cacheExpiryDateTime"] = format_ocpp_datetime(result.expiry_date)
    if result.group_id_tag:
        info["groupIdToken"] = {
            "idToken": result.group_id_tag,
            "type": result.group_type or GROUP_TYPE_DEFAULT,
        }
    return info


def _number_text(value: int | float) -> str:
    # repr keeps what the JSON said (0.1 stays "0.1", not a binary expansion).
    return repr(value) if isinstance(value, float) else str(value)


def sampled_values(meter_values: list[dict]) -> list[SampledValueInput]:
    """MeterValueType[]: each SampledValueType with unitOfMeasure and signature."""
    samples = []
    for meter_value in meter_values:
        timestamp = parse_ocpp_datetime(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            unit = sampled.get("unitOfMeasure", {})
            samples.append(
                SampledValueInput(
                    timestamp=timestamp,
                    raw_value=_number_text(sampled["value"]),
                    measurand=sampled.get("measurand", ""),
                    phase=sampled.get("phase", ""),
                    location=sampled.get("location", ""),
                    context=sampled.get("context", ""),
                    unit=unit.get("unit", ""),
                    multiplier=unit.get("multiplier", 0),
                    signed_data=sampled.get("signedMeterValue"),
                )
            )
    return samples


def transaction_event_input(payload: dict) -> TransactionEventInput:
    info = payload["transactionInfo"]
    evse = payload.get("evse") or {}
    token = payload.get("idToken")
    return TransactionEventInput(
        event_type=payload["eventType"],
        timestamp=parse_ocpp_datetime(payload["timestamp"]),
        trigger_reason=payload["triggerReason"],
        seq_no=payload["seqNo"],
        transaction_id=info["transactionId"],
        charging_state=info.get("chargingState", ""),
        time_spent_charging=info.get("timeSpentCharging"),
        stopped_reason=info.get("stoppedReason", ""),
        remote_start_id=info.get("remoteStartId"),
        offline=payload.get("offline", False),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        id_token=token["idToken"] if token else None,
        id_token_type=token["type"] if token else "",
        reservation_id=payload.get("reservationId"),
        samples=tuple(sampled_values(payload.get("meterValue", []))),
    )


def transaction_event_response(result: TransactionEventResult) -> dict:
    response: dict = {}
    if result.authorization is not None:
        response["idTokenInfo"] = id_token_info(result.authorization)
    if result.total_cost is not None:
        # Only with eventType Ended (TransactionEventResponse.totalCost).
        response["totalCost"] = float(result.total_cost)
    return response
