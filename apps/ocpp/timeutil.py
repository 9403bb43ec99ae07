"""OCPP timestamps: RFC 3339 in UTC on the wire, aware datetimes inside."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_ocpp_datetime(value: str) -> datetime:
    """Parse an OCPP dateTime; a value without offset is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_ocpp_datetime(value: datetime) -> str:
    """UTC with millisecond precision and a Z, as stations expect."""
    return (
        value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def now_ocpp() -> str:
    return format_ocpp_datetime(datetime.now(UTC))
