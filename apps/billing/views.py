"""API: tariffs (API.md "Charging")."""

from rest_framework import status, viewsets
from rest_framework.response import Response

from apps.billing.selectors import tariff_list
from apps.billing.serializers import TariffSerializer
from apps.billing.services.tariffs import tariff_create, tariff_update
from apps.organizations.selectors import organization_for_create


class TariffViewSet(viewsets.ModelViewSet):
    """Tariffs of the caller's organizations; operators change them."""

    serializer_class = TariffSerializer
    filterset_fields = ("organization", "currency", "is_default")
    search_fields = ("name",)
    ordering_fields = ("name", "created_at", "id")
    ordering = ("name", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return tariff_list(actor=self.request.user)

    def _detail(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = organization_for_create(
            actor=request.user,
            organization=data.pop("organization", None),
            min_role="operator",
        )
        tariff = tariff_create(organization=organization, **data)
        return Response(self._detail(tariff.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        tariff = self.get_object()
        serializer = self.get_serializer(tariff, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("organization", None)
        tariff_update(tariff=tariff, **data)
        return Response(self._detail(tariff.pk))
