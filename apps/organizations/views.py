"""API: organizations and API keys. Tokens come from simplejwt's views."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.organizations.filters import ApiKeyFilter
from apps.organizations.models import ApiKey, Organization
from apps.organizations.permissions import HasOrganizationRole, IsHumanUser
from apps.organizations.selectors import organization_for_create
from apps.organizations.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    OrganizationSerializer,
    OrganizationUpdateSerializer,
)
from apps.organizations.services import (
    api_key_create,
    api_key_revoke,
    organization_update,
)


class OrganizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's organizations; owners may change their settings."""

    serializer_class = OrganizationSerializer
    write_role = "owner"
    http_method_names = ["get", "patch", "head", "options"]
    search_fields = ("name", "slug")
    ordering_fields = ("name", "created_at", "id")
    ordering = ("name",)

    def get_queryset(self):
        return Organization.objects.visible_to(self.request.user)

    @extend_schema(
        request=OrganizationUpdateSerializer, responses=OrganizationSerializer
    )
    def partial_update(self, request, *args, **kwargs):
        organization = self.get_object()
        serializer = OrganizationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization = organization_update(
            organization=organization, **serializer.validated_data
        )
        return Response(self.get_serializer(organization).data)


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """An organization's API keys: owners only, and never through a key.

    The raw key is in the POST response only; DELETE revokes (the row stays
    for the audit trail).
    """

    serializer_class = ApiKeySerializer
    permission_classes = [HasOrganizationRole, IsHumanUser]
    read_role = "owner"
    write_role = "owner"
    filterset_class = ApiKeyFilter
    search_fields = ("name", "prefix")
    ordering_fields = ("created_at", "name", "last_used_at")
    ordering = ("-created_at",)

    def get_queryset(self):
        return ApiKey.objects.visible_to(self.request.user, "owner").select_related(
            "created_by"
        )

    @extend_schema(
        request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = ApiKeyCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = organization_for_create(
            actor=request.user,
            organization=data.get("organization"),
            min_role="owner",
        )
        api_key, raw_key = api_key_create(
            organization=organization,
            name=data["name"],
            role=data["role"],
            expires_at=data.get("expires_at"),
            created_by=request.user,
        )
        api_key.key = raw_key
        return Response(
            ApiKeyCreatedSerializer(
                api_key, context=self.get_serializer_context()
            ).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance: ApiKey) -> None:
        api_key_revoke(api_key=instance)
