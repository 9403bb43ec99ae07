"""OCPP-J frames: parsing with spec-correct errors, and building.

The ``ocpp`` package drops malformed frames silently; OCPP-J requires a
CALLERROR (with "-1" as MessageId when the id cannot be read, 2.0.1 Part 4
§4.2.3), so the edge owns this layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from apps.ocpp.versions import Version

CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND = 2, 3, 4, 5, 6
MAX_UNIQUE_ID = 36


@dataclass(slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict


@dataclass(slots=True)
class CallResult:
    unique_id: str
    payload: dict


@dataclass(slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict


@dataclass(slots=True)
class Send:
    """OCPP 2.1 SEND: a one-way message that gets no answer."""

    unique_id: str
    action: str
    payload: dict


class FrameError(Exception):
    """A frame that cannot be handled; answered with this CallError."""

    def __init__(self, unique_id: str, code: str, description: str):
        super().__init__(description)
        self.unique_id = unique_id
        self.code = code
        self.description = description


def parse(text: str | bytes, version: Version) -> Call | CallResult | CallError | Send:
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError(
            "-1", version.framework_error, "Frame is not valid JSON"
        ) from None
    if not isinstance(frame, list) or len(frame) < 3:
        raise FrameError(
            "-1",
            version.framework_error,
            "Frame must be a JSON array of 3 to 5 elements",
        )
    type_id, unique_id = frame[0], frame[1]
    if not isinstance(unique_id, str) or not unique_id:
        raise FrameError("-1", version.framework_error, "MessageId must be a string")
    if len(unique_id) > MAX_UNIQUE_ID:
        raise FrameError(
            unique_id[:MAX_UNIQUE_ID],
            version.framework_error,
            f"MessageId is longer than {MAX_UNIQUE_ID} characters",
        )
    if type_id == CALL or (type_id == SEND and version.number == "2.1"):
        if len(frame) != 4 or not isinstance(frame[2], str):
            raise FrameError(
                unique_id, version.framework_error, "A CALL is [2, id, action, payload]"
            )
        if not isinstance(frame[3], dict):
            raise FrameError(
                unique_id, version.format_violation, "Payload must be an object"
            )
        cls = Call if type_id == CALL else Send
        return cls(unique_id, frame[2], frame[3])
    if type_id == CALLRESULT:
        if len(frame) != 3 or not isinstance(frame[2], dict):
            raise FrameError(
                unique_id, version.framework_error, "A CALLRESULT is [3, id, payload]"
            )
        return CallResult(unique_id, frame[2])
    if type_id == CALLERROR or (type_id == CALLRESULTERROR and version.number == "2.1"):
        if len(frame) != 5:
            raise FrameError(
                unique_id,
                version.framework_error,
                "A CALLERROR is [4, id, code, description, details]",
            )
        details = frame[4] if isinstance(frame[4], dict) else {}
        return CallError(unique_id, str(frame[2]), str(frame[3]), details)
    code = (
        "MessageTypeNotSupported"
        if version.number != "1.6"
        else version.framework_error
    )
    raise FrameError(unique_id, code, f"MessageTypeId {type_id!r} is not supported")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Cannot serialize {type(value).__name__}")


def dumps(frame: list) -> str:
    return orjson.dumps(frame, default=_default).decode()


def build_call(unique_id: str, action: str, payload: dict) -> str:
    return dumps([CALL, unique_id, action, payload])


def build_result(unique_id: str, payload: dict) -> str:
    return dumps([CALLRESULT, unique_id, payload])


def build_error(
    unique_id: str, code: str, description: str, details: dict | None = None
) -> str:
    return dumps([CALLERROR, unique_id, code, description[:255], details or {}])
