"""What the per-version command builders share: the command and their errors.

Builders (``apps/ocpp/v16/commands.py``, ``v201/commands.py``, ``v21/...``) turn
a version-neutral operation into the version's action and payload. They name
the API's fields (``evse_id``, ``id_tag``...) in their errors, not the wire's,
because that is what the caller typed; the schema check in ``send_command``
catches everything else.
"""

from __future__ import annotations

from typing import NamedTuple

from apps.ocpp.dispatch import InvalidCommand


class Command(NamedTuple):
    action: str
    payload: dict


class UnsupportedOperation(InvalidCommand):
    """The operation has no equivalent in the station's OCPP version."""

    code = "operation_not_supported"


def invalid(field: str, message: str) -> InvalidCommand:
    return InvalidCommand(message, details={field: [message]})


def unsupported(operation: str, version: str) -> UnsupportedOperation:
    return UnsupportedOperation(
        f"{operation} is not available for OCPP {version} stations.",
        details={"ocpp_version": [f"{operation} needs OCPP 2.0.1 or later."]},
    )


def optional(**values) -> dict:
    """The keyword arguments that are not None (optional payload fields)."""
    return {key: value for key, value in values.items() if value is not None}
