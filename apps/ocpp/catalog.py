"""Which actions each OCPP version defines, and in which direction.

From shared/ref/ocpp/MESSAGES.md Part A (checked against the 1.6 spec, the
security whitepaper, the 2.0.1 Part 2 message chapter and the 2.1 Part 2 text);
``tests/ocpp/test_catalog.py`` checks the union against the package's schemas.
DataTransfer goes both ways.
"""

V16_TO_STATION = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "InstallCertificate",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SignedUpdateFirmware",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

V16_TO_CSMS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)

V201_TO_STATION = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)

V201_TO_CSMS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

V21_NEW_TO_STATION = frozenset(
    {
        "AFRRSignal",
        "AdjustPeriodicEventStream",
        "ChangeTransactionTariff",
        "ClearDERControl",
        "ClearTariffs",
        "GetDERControl",
        "GetPeriodicEventStream",
        "GetTariffs",
        "NotifyAllowedEnergyTransfer",
        "NotifyWebPaymentStarted",
        "RequestBatterySwap",
        "SetDERControl",
        "SetDefaultTariff",
        "UpdateDynamicSchedule",
        "UsePriorityCharging",
    }
)

V21_NEW_TO_CSMS = frozenset(
    {
        "BatterySwap",
        "ClosePeriodicEventStream",
        "GetCertificateChainStatus",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyPriorityCharging",
        "NotifySettlement",
        "OpenPeriodicEventStream",
        "PullDynamicScheduleUpdate",
        "ReportDERControl",
        "VatNumberValidation",
    }
)

V21_TO_STATION = V201_TO_STATION | V21_NEW_TO_STATION
V21_TO_CSMS = V201_TO_CSMS | V21_NEW_TO_CSMS

TO_STATION = {"1.6": V16_TO_STATION, "2.0.1": V201_TO_STATION, "2.1": V21_TO_STATION}
TO_CSMS = {"1.6": V16_TO_CSMS, "2.0.1": V201_TO_CSMS, "2.1": V21_TO_CSMS}
