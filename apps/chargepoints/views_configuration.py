"""API: a station's configuration, read and changed (API.md "Commands").

``GET .../configuration/`` answers the stored configuration (the last known);
with ``?refresh=1`` it first asks the station (1.6 GetConfiguration; 2.0.1
GetVariables, or a base report when nothing is stored yet), with ``?report=``
a base report, with ``?criteria=`` a custom report. ``POST`` sets values and
answers each one's status from the station, "RebootRequired" included.
Asking the station needs the operator role, like every command.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.chargepoints.models import ChargePoint
from apps.chargepoints.serializers_configuration import (
    ConfigurationChangeResultSerializer,
    ConfigurationChangeSerializer,
    ConfigurationItemSerializer,
    configuration_item,
)
from apps.chargepoints.services.configuration import configuration_keys
from apps.chargepoints.services.device_model import (
    VariableRef,
    device_model_attributes,
    refs_filter,
)
from apps.ocpp.configuration import (
    COMPONENT_CRITERIA,
    REPORT_BASES,
    ChangeResult,
    ConfigurationChange,
    RefreshResult,
    configuration_get,
    configuration_set,
    device_model_report_request,
    parse_refs,
)
from apps.organizations.authentication import ApiKeyPrincipal
from apps.organizations.scoping import has_role


def requested_by(request) -> str:
    """Who asked, as CommandLog records it: ``user:<name>`` or ``api-key:<prefix>``."""
    user = request.user
    if isinstance(user, ApiKeyPrincipal):
        return user.username
    return f"user:{user.get_username()}"


class ConfigurationQuerySerializer(serializers.Serializer):
    refresh = serializers.BooleanField(default=False)
    key = serializers.ListField(
        child=serializers.CharField(max_length=250), required=False
    )
    report = serializers.ChoiceField(choices=REPORT_BASES, required=False)
    criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=COMPONENT_CRITERIA), required=False
    )


_PARAMETERS = [
    OpenApiParameter(
        "refresh", bool, description="Ask the station first (operator role)."
    ),
    OpenApiParameter(
        "key",
        str,
        many=True,
        description="Only these: 1.6 keys, or 2.0.1 variable references "
        "(Component[instance]@evse:connector.Variable[instance]). With refresh, "
        "ask the station for just these.",
    ),
    OpenApiParameter(
        "report",
        str,
        enum=REPORT_BASES,
        description="2.0.1: refresh through this base report (GetBaseReport).",
    ),
    OpenApiParameter(
        "criteria",
        str,
        many=True,
        enum=COMPONENT_CRITERIA,
        description="2.0.1: refresh through a custom report (GetReport) of the "
        "components matching these criteria and/or the given keys.",
    ),
]


class ChargePointConfigurationView(generics.GenericAPIView):
    serializer_class = ConfigurationItemSerializer
    pagination_class = None
    filter_backends = ()

    def get_station(self) -> ChargePoint:
        station = get_object_or_404(
            ChargePoint.objects.visible_to(self.request.user).only(
                "id", "organization_id", "ocpp_version"
            ),
            pk=self.kwargs["pk"],
        )
        self.check_object_permissions(self.request, station)
        return station

    @extend_schema(
        parameters=_PARAMETERS, responses=ConfigurationItemSerializer(many=True)
    )
    def get(self, request, pk: str):
        station = self.get_station()
        query = ConfigurationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        keys = options.get("key") or None
        headers = {}
        if options["refresh"] or options.get("report") or options.get("criteria"):
            if not has_role(request.user, station.organization_id, "operator"):
                raise PermissionDenied("Asking the station needs the operator role.")
            result = self._refresh(station, options, keys, requested_by(request))
            if result.status:
                headers["X-Refresh-Status"] = result.status
            headers["X-Refresh-Complete"] = "true" if result.complete else "false"
        rows = self._stored(station, keys)
        return Response([configuration_item(row) for row in rows], headers=headers)

    def _refresh(self, station, options, keys, who) -> RefreshResult:
        if options.get("report") or options.get("criteria"):
            return device_model_report_request(
                station.pk,
                report_base=options.get("report"),
                criteria=options.get("criteria"),
                keys=keys if options.get("criteria") else None,
                requested_by=who,
                wait=settings.OCPP_REPORT_WAIT,
            )
        return configuration_get(station.pk, keys=keys, requested_by=who)

    def _stored(self, station: ChargePoint, keys: list[str] | None):
        if station.ocpp_version == "1.6":
            rows = configuration_keys(charge_point_id=station.pk)
            return rows.filter(key__in=keys) if keys else rows
        rows = device_model_attributes(charge_point_id=station.pk)
        return rows.filter(refs_filter(parse_refs(keys))) if keys else rows

    @extend_schema(
        request=ConfigurationChangeSerializer(many=True),
        responses=ConfigurationChangeResultSerializer(many=True),
    )
    def post(self, request, pk: str):
        station = self.get_station()
        serializer = ConfigurationChangeSerializer(
            data=request.data, many=True, allow_empty=False
        )
        serializer.is_valid(raise_exception=True)
        changes = [_change(station, item) for item in serializer.validated_data]
        results = configuration_set(
            station.pk, changes, requested_by=requested_by(request)
        )
        return Response([_result(result) for result in results])


def _change(station: ChargePoint, item: dict) -> ConfigurationChange:
    common = {"value": item["value"], "attribute_type": item.get("attribute_type")}
    if station.ocpp_version == "1.6":
        if not item.get("key"):
            raise serializers.ValidationError(
                {"key": ["A 1.6 station is configured by key."]}
            )
        return ConfigurationChange(key=item["key"], **common)
    if item.get("component") and item.get("variable"):
        ref = VariableRef(
            component=item["component"],
            variable=item["variable"],
            component_instance=item.get("component_instance", ""),
            variable_instance=item.get("variable_instance", ""),
            evse_id=item.get("evse_id"),
            connector_id=item.get("connector_id"),
        )
    else:
        ref = parse_refs([item["key"]])[0]
    return ConfigurationChange(ref=ref, **common)


def _result(result: ChangeResult) -> dict:
    change = result.change
    ref = change.ref
    return {
        "key": change.key or str(ref),
        "component": ref.component if ref else None,
        "variable": ref.variable if ref else None,
        "attribute_type": (change.attribute_type or "Actual") if ref else None,
        "value": change.value,
        "status": result.status,
        "status_info": result.status_info,
    }
