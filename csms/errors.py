"""The one error type for business failures.

Services raise ``ApplicationError`` (or a subclass); the API's exception handler
turns it into the error shape of API.md, and ``apps.ocpp.errors`` turns it into
an OCPP CallError.
"""

from __future__ import annotations


class ApplicationError(Exception):
    code = "application_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, details=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class NotFound(ApplicationError):
    code = "not_found"
    status = 404


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
