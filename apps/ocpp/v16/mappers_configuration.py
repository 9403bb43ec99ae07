"""OCPP 1.6 GetConfiguration / ChangeConfiguration <-> stored configuration keys."""

from __future__ import annotations

from apps.chargepoints.services.configuration import ReportedKey


def get_configuration(keys: list[str] | None) -> dict:
    """GetConfiguration.req: no ``key`` asks for every key (§5.8)."""
    return {"key": list(keys)} if keys else {}


def reported_keys(response: dict) -> tuple[list[ReportedKey], list[str]]:
    """GetConfiguration.conf: the keys with their values, and the unknown keys."""
    keys = [
        ReportedKey(key=item["key"], readonly=item["readonly"], value=item.get("value"))
        for item in response.get("configurationKey", [])
    ]
    return keys, list(response.get("unknownKey", []))


def change_configuration(key: str, value: str) -> dict:
    return {"key": key, "value": value}
