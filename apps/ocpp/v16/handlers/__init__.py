"""All OCPP 1.6 handlers, one mixin per feature profile."""

from apps.ocpp.v16.handlers.core import CoreHandlers


class V16Handlers(CoreHandlers):
    pass
