"""API: a station's local authorization list (API.md "Commands").

``GET .../local-list/`` compares the version the station holds with its list's
current one (``?refresh=1`` asks the station first: GetLocalListVersion);
``POST`` pushes the list (SendLocalList, full or differential) and answers
with the station's status.
"""

from __future__ import annotations

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.fields import BooleanField
from rest_framework.response import Response

from apps.authlists.serializers import (
    LocalListPushResultSerializer,
    LocalListPushSerializer,
    LocalListStatusSerializer,
)
from apps.authlists.services import local_list_status
from apps.chargepoints.models import ChargePoint
from apps.chargepoints.views_configuration import requested_by
from apps.ocpp.local_list import local_list_push, local_list_version_get
from apps.organizations.scoping import has_role


class ChargePointLocalListView(generics.GenericAPIView):
    serializer_class = LocalListPushSerializer
    pagination_class = None
    filter_backends = ()

    def get_station(self) -> ChargePoint:
        station = get_object_or_404(
            ChargePoint.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        self.check_object_permissions(self.request, station)
        return station

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "refresh",
                bool,
                description="Ask the station for its version first (operator role).",
            )
        ],
        responses=LocalListStatusSerializer,
    )
    def get(self, request, pk: str):
        station = self.get_station()
        if BooleanField().to_internal_value(request.query_params.get("refresh", "0")):
            if not has_role(request.user, station.organization_id, "operator"):
                raise PermissionDenied("Asking the station needs the operator role.")
            local_list_version_get(station.pk, requested_by=requested_by(request))
        status = local_list_status(charge_point=station)
        state = status["state"]
        return Response(
            LocalListStatusSerializer(
                {
                    "local_list": status["local_list"],
                    "current_version": status["current_version"],
                    "entries": status["entries"],
                    "station_version": state.version if state else 0,
                    "reported_version": state.reported_version if state else None,
                    "reported_at": state.reported_at if state else None,
                    "last_update_type": (state.last_update_type or None)
                    if state
                    else None,
                    "last_status": (state.last_status or None) if state else None,
                    "last_sync_at": state.last_sync_at if state else None,
                    "up_to_date": status["up_to_date"],
                }
            ).data
        )

    @extend_schema(
        request=LocalListPushSerializer, responses=LocalListPushResultSerializer
    )
    def post(self, request, pk: str):
        station = self.get_station()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = local_list_push(
            station.pk,
            update_type=serializer.validated_data.get("update_type"),
            requested_by=requested_by(request),
        )
        return Response(LocalListPushResultSerializer(asdict(result)).data)
