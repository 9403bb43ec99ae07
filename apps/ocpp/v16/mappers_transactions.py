"""OCPP 1.6 transaction payloads <-> version-neutral data."""

from __future__ import annotations

from apps.ocpp.timeutil import format_ocpp_datetime, parse_ocpp_datetime
from apps.transactions.services.authorization import AuthorizationResult
from apps.transactions.services.meter_values import SampledValueInput

ID_TAG_MAX = 20  # CiString20Type


def id_tag_info(result: AuthorizationResult) -> dict:
    """IdTagInfo (1.6 §6.x): status, expiryDate, parentIdTag."""
    info: dict = {"status": result.status}
    if result.expiry_date is not None:
        info["expiryDate"] = format_ocpp_datetime(result.expiry_date)
    # A 2.0.1-length group token does not fit 1.6; leave it out, never cut it.
    if result.group_id_tag and len(result.group_id_tag) <= ID_TAG_MAX:
        info["parentIdTag"] = result.group_id_tag
    return info


def sampled_values(meter_values: list[dict]) -> list[SampledValueInput]:
    """MeterValue[] (MeterValues.meterValue, StopTransaction.transactionData)."""
    samples = []
    for meter_value in meter_values:
        timestamp = parse_ocpp_datetime(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            value_format = sampled.get("format", "")
            samples.append(
                SampledValueInput(
                    timestamp=timestamp,
                    raw_value=sampled["value"],
                    measurand=sampled.get("measurand", ""),
                    phase=sampled.get("phase", ""),
                    location=sampled.get("location", ""),
                    context=sampled.get("context", ""),
                    unit=sampled.get("unit", ""),
                    format=value_format,
                    signed_data=(
                        {"signedMeterData": sampled["value"]}
                        if value_format == "SignedData"
                        else None
                    ),
                )
            )
    return samples
