"""Every way an incoming CALL can fail, mapped once to an OCPP CallError."""

from __future__ import annotations

from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.exceptions import OCPPError

from apps.ocpp.versions import Version
from csms.errors import ApplicationError, NotFound, PermissionDenied


class CallErrorReply(Exception):
    """Raised inside the edge to answer a CALL with this CallError."""

    def __init__(self, code: str, description: str, details: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description[:255]
        self.details = details or {}


def _spelled(code: str, version: Version) -> str:
    """The package's 2.x spellings, mapped to the version's own."""
    if code in ("FormatViolation", "FormationViolation"):
        return version.format_violation
    if code in ("OccurrenceConstraintViolation", "OccurenceConstraintViolation"):
        return version.occurrence_violation
    return code


def from_schema_error(error: SchemaError, version: Version) -> CallErrorReply:
    """jsonschema keyword -> the OCPP-J error that describes it (Part 4 §4.3)."""
    keyword = error.validator
    if keyword in ("type", "maxLength"):
        code = "TypeConstraintViolation"
    elif keyword in ("required", "minItems", "maxItems"):
        code = version.occurrence_violation
    elif keyword in ("enum", "minimum", "maximum", "pattern", "format", "minLength"):
        code = "PropertyConstraintViolation"
    else:  # additionalProperties and structural mismatches
        code = version.format_violation
    path = "/".join(str(p) for p in error.absolute_path)
    return CallErrorReply(code, error.message, {"field": path} if path else {})


def from_exception(exc: BaseException, version: Version) -> CallErrorReply:
    if isinstance(exc, CallErrorReply):
        return exc
    if isinstance(exc, OCPPError):
        return CallErrorReply(
            _spelled(exc.code, version),
            exc.description or "",
            exc.details if isinstance(exc.details, dict) else {},
        )
    if isinstance(exc, PermissionDenied):
        return CallErrorReply("SecurityError", exc.message, exc.details)
    if isinstance(exc, NotFound):
        return CallErrorReply("PropertyConstraintViolation", exc.message, exc.details)
    if isinstance(exc, ApplicationError):
        return CallErrorReply("GenericError", exc.message, exc.details)
    return CallErrorReply("InternalError", "An internal error occurred.", {})
