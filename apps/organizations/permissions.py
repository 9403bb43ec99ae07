"""Role checks for the API: viewers read, operators change and command."""

from __future__ import annotations

from rest_framework import permissions

from apps.organizations.authentication import ApiKeyPrincipal
from apps.organizations.scoping import has_any_role, has_role


def organization_id_of(obj) -> int | None:
    """Follow the model's TENANT_FIELD path (``a__b__organization``) to an id."""
    path = getattr(type(obj), "TENANT_FIELD", "organization").split("__")
    target = obj
    for name in path[:-1]:
        target = getattr(target, name)
    last = path[-1]
    if last == "id":
        return target.pk
    return getattr(target, f"{last}_id")


class HasOrganizationRole(permissions.BasePermission):
    """Reading needs any role; writing needs the view's ``write_role``.

    Views may set ``write_role`` ("operator" by default, "owner" for keys and
    memberships) and ``read_role``.
    """

    message = "Your role in this organization does not allow this."

    def _role_needed(self, request, view) -> str:
        if request.method in permissions.SAFE_METHODS:
            return getattr(view, "read_role", "viewer")
        return getattr(view, "write_role", "operator")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return has_any_role(user, self._role_needed(request, view))

    def has_object_permission(self, request, view, obj) -> bool:
        return has_role(
            request.user, organization_id_of(obj), self._role_needed(request, view)
        )


class IsHumanUser(permissions.BasePermission):
    """Refuses API-key callers, for endpoints that manage credentials.

    A leaked key must not be able to mint further keys that outlive its own
    revocation.
    """

    message = "API keys cannot manage API keys; authenticate as a user."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.user, ApiKeyPrincipal)
