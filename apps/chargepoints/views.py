"""API: stations and their message journal (API.md "Stations")."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from apps.chargepoints.filters import ChargePointFilter, MessageLogFilter
from apps.chargepoints.models import ChargePoint
from apps.chargepoints.selectors import charge_points_visible_to
from apps.chargepoints.serializers import (
    ChargePointCreateSerializer,
    ChargePointSerializer,
    ChargePointUpdateSerializer,
    MessageLogSerializer,
)
from apps.chargepoints.services.management import (
    station_create,
    station_delete,
    station_set_password,
    station_update,
)
from apps.ocpp.models import MessageLog
from apps.organizations.selectors import organization_for_create

# What station_id_validator accepts; DRF's default lookup stops at dots.
STATION_ID_PATTERN = r"[A-Za-z0-9._~\-*]+"


class ChargePointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Stations of the caller's organizations.

    Creating needs the operator role in the target organization; DELETE of an
    online station is a 409 ``station_online``.
    """

    serializer_class = ChargePointSerializer
    filterset_class = ChargePointFilter
    search_fields = ("id", "vendor", "model", "serial_number", "description")
    ordering_fields = (
        "id",
        "organization",
        "ocpp_version",
        "vendor",
        "model",
        "registration_status",
        "is_online",
        "last_seen_at",
        "created_at",
    )
    ordering = ("id",)
    lookup_value_regex = STATION_ID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return charge_points_visible_to(self.request.user)

    def _detail(self, pk: str) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(
        request=ChargePointCreateSerializer, responses={201: ChargePointSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = ChargePointCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = organization_for_create(
            actor=request.user,
            organization=data.pop("organization", None),
            min_role="operator",
        )
        station = station_create(organization=organization, **data)
        return Response(self._detail(station.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=ChargePointUpdateSerializer, responses=ChargePointSerializer)
    def partial_update(self, request, *args, **kwargs):
        station = self.get_object()
        serializer = ChargePointUpdateSerializer(
            station, data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("id", None)
        data.pop("organization", None)
        with transaction.atomic():
            if "password" in data:
                station_set_password(
                    charge_point=station, password=data.pop("password")
                )
            station_update(charge_point=station, **data)
        return Response(self._detail(station.pk))

    def destroy(self, request, *args, **kwargs):
        station_delete(charge_point=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChargePointMessageListView(generics.ListAPIView):
    """A station's message journal, newest first."""

    serializer_class = MessageLogSerializer
    filterset_class = MessageLogFilter
    search_fields = ()
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return MessageLog.objects.none()
        station = get_object_or_404(
            ChargePoint.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        return MessageLog.objects.filter(charge_point=station)
