"""API: id tags, transactions and their meter values (API.md "Charging")."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.organizations.selectors import organization_for_create
from apps.transactions.filters import IdTagFilter, MeterValueFilter, TransactionFilter
from apps.transactions.models import MeterValue
from apps.transactions.selectors import (
    id_tag_list,
    transaction_list,
    transaction_meter_values,
)
from apps.transactions.serializers import (
    ForceStopSerializer,
    IdTagSerializer,
    MeterValueSerializer,
    TransactionDetailSerializer,
    TransactionSerializer,
)
from apps.transactions.services.id_tags import id_tag_create, id_tag_update
from apps.transactions.services.stop import transaction_force_stop


class IdTagViewSet(viewsets.ModelViewSet):
    """Id tokens of the caller's organizations; operators change them."""

    serializer_class = IdTagSerializer
    filterset_class = IdTagFilter
    search_fields = ("id_tag", "parent_id_tag", "owner_reference")
    ordering_fields = ("id_tag", "status", "expiry_date", "created_at", "id")
    ordering = ("id_tag", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return id_tag_list(actor=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = organization_for_create(
            actor=request.user,
            organization=data.pop("organization", None),
            min_role="operator",
        )
        tag = id_tag_create(organization=organization, **data)
        return Response(self.get_serializer(tag).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        tag = self.get_object()
        serializer = self.get_serializer(tag, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("organization", None)  # a token does not move between tenants
        tag = id_tag_update(tag=tag, **data)
        return Response(self.get_serializer(tag).data)


class TransactionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Charging sessions of the caller's organizations, newest first."""

    filterset_class = TransactionFilter
    search_fields = ("transaction_id", "id_tag", "charge_point__id")
    ordering_fields = ("started_at", "stopped_at", "energy_wh", "id")
    ordering = ("-started_at", "-id")

    def get_queryset(self):
        return transaction_list(actor=self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return TransactionSerializer
        return TransactionDetailSerializer

    @extend_schema(request=ForceStopSerializer, responses=TransactionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="force-stop")
    def force_stop(self, request, pk=None):
        """Close a session the station never stopped (409 if completed).

        The record only: the station is not contacted (use remote-stop for
        that). The energy is the latest meter reading the station sent.
        """
        tx = self.get_object()
        serializer = ForceStopSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transaction_force_stop(
            transaction=tx, reason=serializer.validated_data["reason"]
        )
        return Response(
            TransactionDetailSerializer(self.get_queryset().get(pk=tx.pk)).data
        )


class TransactionMeterValueListView(generics.ListAPIView):
    """Every sampled value of a session, oldest first."""

    serializer_class = MeterValueSerializer
    filterset_class = MeterValueFilter
    search_fields = ()
    ordering_fields = ("timestamp",)
    ordering = ("timestamp", "id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return MeterValue.objects.none()
        tx = get_object_or_404(
            transaction_list(actor=self.request.user), pk=self.kwargs["pk"]
        )
        return transaction_meter_values(transaction=tx)
