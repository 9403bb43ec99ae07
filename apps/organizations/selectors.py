"""Reads shared by the API and the admin."""

from __future__ import annotations

from apps.organizations.models import Organization
from apps.organizations.scoping import has_role
from csms.errors import ApplicationError, PermissionDenied


def organization_for_create(
    *, actor, organization: Organization | None, min_role: str
) -> Organization:
    """The organization a new object goes into, checked for ``min_role``.

    ``organization`` may be omitted when the actor sees exactly one.
    """
    if organization is None:
        visible = list(Organization.objects.visible_to(actor).order_by("id")[:2])
        if len(visible) != 1:
            raise ApplicationError(
                "Say which organization this belongs to.",
                code="invalid",
                details={
                    "organization": [
                        "This field is required unless you belong to exactly "
                        "one organization."
                    ]
                },
            )
        organization = visible[0]
    if not has_role(actor, organization.id, min_role):
        raise PermissionDenied(
            f"This needs the {min_role} role in organization {organization.id}."
        )
    return organization
