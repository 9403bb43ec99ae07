"""Routes an incoming CALL to its handler, with schema validation both ways.

Handlers are registered with the ``ocpp`` package's ``@on`` decorator and found
with its ``create_route_map``; payloads are validated with its schema
validators, inline (no thread-pool hop, DESIGN.md Known traps). What the package
gets wrong for the station (error codes, unanswered unknown 2.1 actions,
snake_case mangling of free-form data) the router does itself: handlers get and
return payloads exactly as on the wire.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable

import jsonschema_rs
from django.conf import settings
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.messages import get_validator
from ocpp.routing import create_route_map

from apps.ocpp.errors import CallErrorReply, from_exception, from_schema_error
from apps.ocpp.versions import Version

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[dict]]

_ENUM_MODULES = {
    "1.6": "ocpp.v16.enums",
    "2.0.1": "ocpp.v201.enums",
    "2.1": "ocpp.v21.enums",
}


def known_actions(version: Version) -> frozenset[str]:
    """Every action the version defines (either direction)."""
    enums = importlib.import_module(_ENUM_MODULES[version.number])
    return frozenset(str(a.value) for a in enums.Action)


_ALLOWED_BEFORE_ACCEPTED = frozenset({"BootNotification"})


class Router:
    def __init__(self, version: Version, handlers: object):
        self.version = version
        self.handlers = handlers
        self.routes: dict[str, Handler] = {
            action: route["_on_action"]
            for action, route in create_route_map(handlers).items()
            if "_on_action" in route
        }
        self.known = known_actions(version)
        self.validate_responses = getattr(settings, "OCPP_VALIDATE_RESPONSES", True)
        self._fast: dict[tuple[int, str], object] = {}

    def validate(self, message_type: int, action: str, payload: dict) -> None:
        """Check ``payload`` against the package's schema for ``action``.

        A compiled validator (jsonschema-rs, ~100x faster than jsonschema on
        these schemas) decides valid frames; only a frame it refuses is checked
        again by the package's own jsonschema validator, which names the
        failing keyword for the CallError and has the last word.
        """
        key = (message_type, action)
        fast = self._fast.get(key)
        if fast is None:
            fast = self._fast[key] = self._compile(message_type, action)
        if fast.is_valid(payload):
            return
        validator = self._validator(message_type, action)
        try:
            validator.validate(payload)
        except SchemaError as error:
            raise from_schema_error(error, self.version) from None

    def _validator(self, message_type: int, action: str):
        try:
            return get_validator(message_type, action, self.version.number)
        except OSError:
            raise CallErrorReply("NotImplemented", f"No schema for {action}") from None

    def _compile(self, message_type: int, action: str):
        schema = self._validator(message_type, action).schema
        # The package validates every version with Draft 4 semantics and no
        # format checks; so does the fast validator, or it would accept less.
        schema = {k: v for k, v in schema.items() if k != "$schema"}
        return jsonschema_rs.Draft4Validator(schema, validate_formats=False)

    async def dispatch(self, session, action: str, payload: dict) -> dict:
        """The response payload, or ``CallErrorReply`` to answer with."""
        handler = self.routes.get(action)
        if handler is None:
            if action in self.known:
                # OCPP-J: "recognized but not supported by the receiver".
                raise CallErrorReply("NotSupported", f"{action} is not supported")
            raise CallErrorReply("NotImplemented", f"{action} is not a known action")
        if not session.accepted and action not in _ALLOWED_BEFORE_ACCEPTED:
            if action not in session.triggered_actions:
                raise CallErrorReply(
                    "SecurityError",
                    f"Station is {session.registration_status}: only "
                    "BootNotification is allowed until it is Accepted",
                )
            session.triggered_actions.discard(action)
        self.validate(2, action, payload)
        try:
            response = await handler(session, payload)
        except Exception as exc:
            reply = from_exception(exc, self.version)
            if reply.code == "InternalError":
                logger.exception("Handler for %s failed", action)
            raise reply from exc
        if self.validate_responses:
            try:
                self.validate(3, action, response)
            except CallErrorReply as invalid:
                logger.error("Invalid %s response %r: %s", action, response, invalid)
                raise CallErrorReply(
                    "InternalError", "The CSMS produced an invalid response"
                ) from None
        return response
