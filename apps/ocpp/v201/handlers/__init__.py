"""All OCPP 2.0.1 handlers, one mixin per functional block."""

from apps.ocpp.v201.handlers.core import CoreHandlers


class V201Handlers(CoreHandlers):
    pass
