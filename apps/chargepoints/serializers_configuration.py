"""API shape of a station's configuration: one item shape for 1.6 and 2.0.1.

A 1.6 item is a configuration key (``key``, ``value``, ``readonly``); a 2.0.1
item is one attribute of a device model variable, with ``key`` its reference
(``Component[instance]@evse:connector.Variable[instance]``) and the component
and variable also given field by field. Fields of the other version are null.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.chargepoints.models import (
    StationConfigurationKey,
    VariableAttribute,
    VariableCharacteristics,
)
from apps.chargepoints.services.device_model import VariableRef


class ConfigurationItemSerializer(serializers.Serializer):
    """Documents the item; ``configuration_item`` builds it."""

    key = serializers.CharField(
        help_text="1.6: the configuration key. 2.0.1: the variable's reference."
    )
    component = serializers.CharField(allow_null=True)
    component_instance = serializers.CharField(allow_null=True)
    evse_id = serializers.IntegerField(allow_null=True)
    connector_id = serializers.IntegerField(allow_null=True)
    variable = serializers.CharField(allow_null=True)
    variable_instance = serializers.CharField(allow_null=True)
    attribute_type = serializers.CharField(
        allow_null=True, help_text="2.0.1: Actual, Target, MinSet or MaxSet."
    )
    value = serializers.CharField(allow_null=True)
    readonly = serializers.BooleanField()
    mutability = serializers.CharField(allow_null=True)
    persistent = serializers.BooleanField(allow_null=True)
    constant = serializers.BooleanField(allow_null=True)
    reboot_required = serializers.BooleanField(
        help_text="Set with the answer RebootRequired: in effect after a reboot."
    )
    data_type = serializers.CharField(allow_null=True)
    unit = serializers.CharField(allow_null=True)
    min_limit = serializers.FloatField(allow_null=True)
    max_limit = serializers.FloatField(allow_null=True)
    values_list = serializers.CharField(allow_null=True)
    supports_monitoring = serializers.BooleanField(allow_null=True)
    updated_at = serializers.DateTimeField()


_VARIABLE_FIELDS = (
    "component",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable",
    "variable_instance",
    "attribute_type",
    "mutability",
    "persistent",
    "constant",
    "data_type",
    "unit",
    "min_limit",
    "max_limit",
    "values_list",
    "supports_monitoring",
)


def _iso(value) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


def configuration_item(row: StationConfigurationKey | VariableAttribute) -> dict:
    if isinstance(row, StationConfigurationKey):
        return {
            "key": row.key,
            **dict.fromkeys(_VARIABLE_FIELDS),
            "value": row.value,
            "readonly": row.readonly,
            "reboot_required": row.reboot_required,
            "updated_at": _iso(row.updated_at),
        }
    variable = row.variable
    component = variable.component
    try:
        characteristics = variable.characteristics
    except VariableCharacteristics.DoesNotExist:
        characteristics = None
    return {
        "key": str(VariableRef.of(variable)),
        "component": component.name,
        "component_instance": component.instance or None,
        "evse_id": component.evse_id,
        "connector_id": component.connector_id,
        "variable": variable.name,
        "variable_instance": variable.instance or None,
        "attribute_type": row.type,
        "value": row.value,
        "readonly": row.mutability == VariableAttribute.Mutability.READ_ONLY,
        "mutability": row.mutability or None,
        "persistent": row.persistent,
        "constant": row.constant,
        "reboot_required": row.reboot_required,
        "data_type": characteristics.data_type if characteristics else None,
        "unit": (characteristics.unit or None) if characteristics else None,
        "min_limit": characteristics.min_limit if characteristics else None,
        "max_limit": characteristics.max_limit if characteristics else None,
        "values_list": (characteristics.values_list or None)
        if characteristics
        else None,
        "supports_monitoring": characteristics.supports_monitoring
        if characteristics
        else None,
        "updated_at": _iso(row.updated_at),
    }


class ConfigurationChangeSerializer(serializers.Serializer):
    """One value to set: 1.6 ``key``; 2.0.1 ``component`` and ``variable``
    (with their instances, EVSE and connector) or their reference as ``key``."""

    key = serializers.CharField(required=False, max_length=250)
    component = serializers.CharField(required=False, max_length=50)
    component_instance = serializers.CharField(
        required=False, allow_blank=True, max_length=50, default=""
    )
    evse_id = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    connector_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=0
    )
    variable = serializers.CharField(required=False, max_length=50)
    variable_instance = serializers.CharField(
        required=False, allow_blank=True, max_length=50, default=""
    )
    attribute_type = serializers.ChoiceField(
        choices=VariableAttribute.Type.choices, required=False
    )
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("key") and not (
            attrs.get("component") and attrs.get("variable")
        ):
            raise serializers.ValidationError(
                "Give the 1.6 key, or the 2.0.1 component and variable."
            )
        return attrs


class ConfigurationChangeResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    component = serializers.CharField(allow_null=True)
    variable = serializers.CharField(allow_null=True)
    attribute_type = serializers.CharField(allow_null=True)
    value = serializers.CharField()
    status = serializers.CharField(
        help_text="The station's answer: Accepted, Rejected, RebootRequired, "
        "NotSupported (1.6), UnknownComponent, UnknownVariable, "
        "NotSupportedAttributeType (2.0.1), or CallError."
    )
    status_info = serializers.DictField(
        help_text="2.0.1 attributeStatusInfo, or the CallError's code and description."
    )
