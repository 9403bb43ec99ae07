"""OCPP 2.0.1 (and 2.1) local authorization list <-> version-neutral messages."""

from __future__ import annotations

from apps.authlists.services import ListMessage
from apps.ocpp.timeutil import format_ocpp_datetime, parse_ocpp_datetime

DEFAULT_TYPE = "ISO14443"


def _id_token_info(info: dict) -> dict:
    """IdTokenInfoType: status, cacheExpiryDateTime, groupIdToken."""
    result = {"status": info["status"]}
    if info.get("expiry_date"):
        result["cacheExpiryDateTime"] = format_ocpp_datetime(
            parse_ocpp_datetime(info["expiry_date"])
        )
    if info.get("parent_id_tag"):
        result["groupIdToken"] = {
            "idToken": info["parent_id_tag"],
            "type": info.get("group_type") or "Central",
        }
    return result


def send_local_list(message: ListMessage) -> dict:
    """SendLocalListRequest; an entry without idTokenInfo removes it (D01.FR.17).

    The list is left out when empty: its schema wants at least one item, and a
    Full update without it empties the station's list (D01.FR.04).
    """
    items = []
    for tag, info in message.entries.items():
        known = info if info is not None else message.removed.get(tag, {})
        item = {"idToken": {"idToken": tag, "type": known.get("type") or DEFAULT_TYPE}}
        if info is not None:
            item["idTokenInfo"] = _id_token_info(info)
        items.append(item)
    payload = {"versionNumber": message.version, "updateType": message.update_type}
    if items:
        payload["localAuthorizationList"] = items
    return payload


def list_version(response: dict) -> int:
    """GetLocalListVersionResponse: 0 means no list installed (D02)."""
    return response["versionNumber"]
