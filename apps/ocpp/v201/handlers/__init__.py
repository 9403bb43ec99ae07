"""All OCPP 2.0.1 handlers, one mixin per functional block."""

from apps.ocpp.v201.handlers.core import CoreHandlers
from apps.ocpp.v201.handlers.data_transfer import DataTransferHandlers
from apps.ocpp.v201.handlers.provisioning import ProvisioningHandlers
from apps.ocpp.v201.handlers.transactions import TransactionHandlers


class V201Handlers(
    CoreHandlers, TransactionHandlers, DataTransferHandlers, ProvisioningHandlers
):
    pass
