"""The one tenant-scoping mechanism used by every API view and admin page.

An *actor* is whoever asks: a Django user (session or JWT) or an API key's
principal. ``roles_for(actor)`` maps the organizations it may see to its role
there; ``TenantQuerySet.visible_to(actor)`` filters any tenant-owned queryset by
it. Models say where their organization is with ``TENANT_FIELD``.
"""

from __future__ import annotations

from django.db import models

ROLE_RANK = {"viewer": 1, "operator": 2, "owner": 3}
ALL = None  # superusers: every organization


def roles_for(actor) -> dict[int, str] | None:
    """Organization id -> role for ``actor``; ``None`` means every organization."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {}
    if getattr(actor, "is_superuser", False):
        return ALL
    cached = getattr(actor, "_csms_roles", None)
    if cached is not None:
        return cached
    explicit = getattr(actor, "organization_roles", None)
    if explicit is not None:  # an API key principal
        roles = dict(explicit)
    else:
        from apps.organizations.models import Membership

        roles = dict(
            Membership.objects.filter(user_id=actor.pk).values_list(
                "organization_id", "role"
            )
        )
    actor._csms_roles = roles
    return roles


def organization_ids_for(actor, min_role: str = "viewer") -> set[int] | None:
    roles = roles_for(actor)
    if roles is ALL:
        return ALL
    floor = ROLE_RANK[min_role]
    return {org for org, role in roles.items() if ROLE_RANK.get(role, 0) >= floor}


def has_role(actor, organization_id: int | None, min_role: str = "viewer") -> bool:
    ids = organization_ids_for(actor, min_role)
    return ids is ALL or organization_id in ids


def has_any_role(actor, min_role: str = "viewer") -> bool:
    ids = organization_ids_for(actor, min_role)
    return ids is ALL or bool(ids)


class TenantQuerySet(models.QuerySet):
    def visible_to(self, actor, min_role: str = "viewer") -> TenantQuerySet:
        ids = organization_ids_for(actor, min_role)
        if ids is ALL:
            return self
        field = getattr(self.model, "TENANT_FIELD", "organization")
        return self.filter(**{f"{field}__in": ids})
