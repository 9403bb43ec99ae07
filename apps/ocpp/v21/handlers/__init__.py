"""OCPP 2.1 handlers: 2.0.1's where the messages did not change, plus 2.1's own."""

from apps.ocpp.v201.handlers import V201Handlers


class V21Handlers(V201Handlers):
    pass
