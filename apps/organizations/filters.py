from django_filters import rest_framework as filters

from apps.organizations.models import ApiKey, Membership


class ApiKeyFilter(filters.FilterSet):
    # A number, not a choice of organizations: a foreign id matches nothing
    # rather than telling "exists" from "does not exist".
    organization = filters.NumberFilter(field_name="organization_id")
    role = filters.ChoiceFilter(choices=Membership.Role.choices)
    revoked = filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = ApiKey
        fields = ("organization", "role", "revoked")
