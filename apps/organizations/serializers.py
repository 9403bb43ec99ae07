from django.utils import timezone
from rest_framework import serializers

from apps.organizations.models import ApiKey, Membership, Organization
from apps.organizations.scoping import ALL, roles_for


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(
        help_text="The caller's role in this organization (owner for superusers)."
    )

    class Meta:
        model = Organization
        fields = (
            "id",
            "name",
            "slug",
            "auto_register_stations",
            "accept_foreign_tokens",
            "stop_token_mismatch",
            "heartbeat_interval",
            "local_list_auto_sync",
            "created_at",
            "role",
        )
        read_only_fields = ("id", "slug", "created_at", "role")

    def get_role(self, obj: Organization) -> str | None:
        roles = roles_for(self.context["request"].user)
        if roles is ALL:
            return Membership.Role.OWNER
        return roles.get(obj.id)


class OrganizationUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = (
            "name",
            "auto_register_stations",
            "accept_foreign_tokens",
            "stop_token_mismatch",
            "heartbeat_interval",
            "local_list_auto_sync",
        )


class ApiKeySerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = (
            "id",
            "organization",
            "name",
            "prefix",
            "role",
            "is_active",
            "created_by",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )
        read_only_fields = fields

    def get_is_active(self, obj: ApiKey) -> bool:
        if obj.revoked_at:
            return False
        return not (obj.expires_at and obj.expires_at <= timezone.now())


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="The raw key, `<prefix>.<secret>`. Shown in this response only.",
    )

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "key")
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="May be omitted when the caller owns exactly one organization.",
    )
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, default=Membership.Role.OPERATOR
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Unknown and foreign organizations look alike: "does not exist".
            self.fields["organization"].queryset = Organization.objects.visible_to(
                request.user
            )
