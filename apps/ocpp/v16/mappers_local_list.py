"""OCPP 1.6 Local Auth List Management <-> version-neutral list messages.

1.6 idTags have at most 20 characters (CiString20Type): longer tokens cannot
be in a 1.6 station's list and are left out, as is a longer parentIdTag.
"""

from __future__ import annotations

from apps.authlists.services import ListMessage
from apps.ocpp.timeutil import format_ocpp_datetime, parse_ocpp_datetime

ID_TAG_MAX = 20


def _id_tag_info(info: dict) -> dict:
    result = {"status": info["status"]}
    if info.get("expiry_date"):
        result["expiryDate"] = format_ocpp_datetime(
            parse_ocpp_datetime(info["expiry_date"])
        )
    parent = info.get("parent_id_tag")
    if parent and len(parent) <= ID_TAG_MAX:
        result["parentIdTag"] = parent
    return result


def send_local_list(message: ListMessage) -> dict:
    """SendLocalList.req; an entry without idTagInfo removes the token (§6.38)."""
    items = [
        {"idTag": tag}
        if info is None
        else {"idTag": tag, "idTagInfo": _id_tag_info(info)}
        for tag, info in message.entries.items()
        if len(tag) <= ID_TAG_MAX
    ]
    payload = {"listVersion": message.version, "updateType": message.update_type}
    if items:
        payload["localAuthorizationList"] = items
    return payload


def list_version(response: dict) -> int:
    """GetLocalListVersion.conf: 0 no list, -1 not supported (§5.10)."""
    return response["listVersion"]
