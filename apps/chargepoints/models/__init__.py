from apps.chargepoints.models.configuration import (
    Component,
    DeviceModelReport,
    DeviceModelReportPart,
    StationConfigurationKey,
    Variable,
    VariableAttribute,
    VariableCharacteristics,
)
from apps.chargepoints.models.stations import (
    ChargePoint,
    Connector,
    Evse,
    OcppVersion,
    StationGroup,
    StatusChange,
    station_id_validator,
)

__all__ = [
    "ChargePoint",
    "Component",
    "Connector",
    "DeviceModelReport",
    "DeviceModelReportPart",
    "Evse",
    "OcppVersion",
    "StationConfigurationKey",
    "StationGroup",
    "StatusChange",
    "Variable",
    "VariableAttribute",
    "VariableCharacteristics",
    "station_id_validator",
]
