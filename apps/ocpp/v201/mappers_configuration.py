"""OCPP 2.0.1 (and 2.1) device model messages <-> version-neutral data.

GetVariables, SetVariables, GetBaseReport, GetReport and NotifyReport (B05-B08).
An omitted attributeType means Actual (B05.FR.12, B06.FR.11); an omitted
mutability in a report means ReadWrite, persistent and constant false.
"""

from __future__ import annotations

from apps.chargepoints.services.device_model import (
    ReportedAttribute,
    ReportedCharacteristics,
    ReportedVariable,
    VariableRef,
    VariableResult,
)

ACTUAL = "Actual"


def component(ref: VariableRef) -> dict:
    """ComponentType."""
    result: dict = {"name": ref.component}
    if ref.component_instance:
        result["instance"] = ref.component_instance
    if ref.evse_id is not None:
        result["evse"] = {"id": ref.evse_id}
        if ref.connector_id is not None:
            result["evse"]["connectorId"] = ref.connector_id
    return result


def variable(ref: VariableRef) -> dict:
    """VariableType."""
    result = {"name": ref.variable}
    if ref.variable_instance:
        result["instance"] = ref.variable_instance
    return result


def ref_of(component_data: dict, variable_data: dict | None = None) -> VariableRef:
    evse = component_data.get("evse") or {}
    variable_data = variable_data or {}
    return VariableRef(
        component=component_data["name"],
        variable=variable_data.get("name", ""),
        component_instance=component_data.get("instance", ""),
        variable_instance=variable_data.get("instance", ""),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
    )


def _attribute_type(attribute_type: str | None) -> dict:
    return (
        {"attributeType": attribute_type}
        if attribute_type not in (None, ACTUAL)
        else {}
    )


def get_variables(items: list[tuple[VariableRef, str]]) -> dict:
    """GetVariablesRequest for (variable, attribute type) pairs."""
    return {
        "getVariableData": [
            {
                "component": component(ref),
                "variable": variable(ref),
                **_attribute_type(t),
            }
            for ref, t in items
        ]
    }


def get_variable_results(response: dict) -> list[VariableResult]:
    return [
        VariableResult(
            ref=ref_of(item["component"], item["variable"]),
            attribute_type=item.get("attributeType", ACTUAL),
            status=item["attributeStatus"],
            value=item.get("attributeValue"),
            status_info=item.get("attributeStatusInfo", {}),
        )
        for item in response["getVariableResult"]
    ]


def set_variables(items: list[tuple[VariableRef, str | None, str]]) -> dict:
    """SetVariablesRequest for (variable, attribute type, value) triples."""
    return {
        "setVariableData": [
            {
                "component": component(ref),
                "variable": variable(ref),
                "attributeValue": value,
                **_attribute_type(t),
            }
            for ref, t, value in items
        ]
    }


def set_variable_results(response: dict) -> list[VariableResult]:
    return [
        VariableResult(
            ref=ref_of(item["component"], item["variable"]),
            attribute_type=item.get("attributeType", ACTUAL),
            status=item["attributeStatus"],
            status_info=item.get("attributeStatusInfo", {}),
        )
        for item in response["setVariableResult"]
    ]


def get_base_report(request_id: int, report_base: str) -> dict:
    return {"requestId": request_id, "reportBase": report_base}


def get_report(request_id: int, criteria: list[str], refs: list[VariableRef]) -> dict:
    """GetReportRequest: components matching the criteria and/or these variables
    (a reference without a variable names the whole component)."""
    payload: dict = {"requestId": request_id}
    if criteria:
        payload["componentCriteria"] = list(criteria)
    if refs:
        payload["componentVariable"] = [
            {
                "component": component(ref),
                **({"variable": variable(ref)} if ref.variable else {}),
            }
            for ref in refs
        ]
    return payload


def _characteristics(data: dict | None) -> ReportedCharacteristics | None:
    if data is None:
        return None
    return ReportedCharacteristics(
        data_type=data["dataType"],
        supports_monitoring=data["supportsMonitoring"],
        unit=data.get("unit", ""),
        min_limit=data.get("minLimit"),
        max_limit=data.get("maxLimit"),
        max_elements=data.get("maxElements"),  # 2.1
        values_list=data.get("valuesList", ""),
    )


def report_data(items: list[dict]) -> list[ReportedVariable]:
    """NotifyReportRequest.reportData -> the variables it reports."""
    return [
        ReportedVariable(
            ref=ref_of(item["component"], item["variable"]),
            attributes=tuple(
                ReportedAttribute(
                    type=attribute.get("type", ACTUAL),
                    value=attribute.get("value"),
                    mutability=attribute.get("mutability", "ReadWrite"),
                    persistent=attribute.get("persistent", False),
                    constant=attribute.get("constant", False),
                )
                for attribute in item["variableAttribute"]
            ),
            characteristics=_characteristics(item.get("variableCharacteristics")),
        )
        for item in items
    ]
