"""All OCPP 1.6 handlers, one mixin per feature profile."""

from apps.ocpp.v16.handlers.core import CoreHandlers
from apps.ocpp.v16.handlers.data_transfer import DataTransferHandlers
from apps.ocpp.v16.handlers.transactions import TransactionHandlers


class V16Handlers(CoreHandlers, TransactionHandlers, DataTransferHandlers):
    pass
