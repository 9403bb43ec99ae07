"""Business operations on organizations, memberships and API keys.

Plain keyword-only functions (HackSoft style). Permission checks belong to the
callers (API views, admin); these functions enforce the invariants.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.organizations.authentication import PREFIX_LENGTH, remember
from apps.organizations.models import ApiKey, Membership, Organization
from apps.organizations.secrets import generate_secret, hash_secret
from csms.bulk import batch_cached
from csms.errors import ApplicationError, Conflict

ORGANIZATION_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "auto_register_stations",
        "accept_foreign_tokens",
        "stop_token_mismatch",
        "heartbeat_interval",
        "local_list_auto_sync",
    }
)
_PREFIX_ATTEMPTS = 5
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def organization_read(pk: int) -> Organization:
    """The organization; inside a group-commit batch read once for all its
    stations' messages (settings change rarely; a batch lasts milliseconds)."""
    return batch_cached(("organization", pk), lambda: Organization.objects.get(pk=pk))


def organization_update(*, organization: Organization, **fields) -> Organization:
    """Change an organization's settings (not its slug: stations depend on it)."""
    unknown = set(fields) - ORGANIZATION_UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            f"Cannot change: {', '.join(sorted(unknown))}.", code="invalid"
        )
    for name, value in fields.items():
        setattr(organization, name, value)
    if fields:
        with transaction.atomic():
            organization.save(update_fields=list(fields))
    return organization


def _prefix() -> str:
    # Lowercase alphanumerics: never the "." that separates prefix and secret.
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def api_key_create(
    *,
    organization: Organization,
    name: str,
    role: str = Membership.Role.OPERATOR,
    expires_at: datetime | None = None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """Create a key; return it with the raw ``<prefix>.<secret>``, never stored.

    The caller must show the raw key to its owner now: only its hash is kept.
    """
    if role not in Membership.Role.values:
        raise ApplicationError(
            "Unknown role.", code="invalid", details={"role": [f"{role!r}"]}
        )
    secret = generate_secret(32)
    for _ in range(_PREFIX_ATTEMPTS):
        prefix = _prefix()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    organization=organization,
                    name=name,
                    role=role,
                    expires_at=expires_at,
                    created_by=created_by if getattr(created_by, "pk", None) else None,
                    prefix=prefix,
                    key_hash=hash_secret(secret),
                )
        except IntegrityError:  # prefix collision: 36**8 makes this rare
            continue
        return api_key, f"{prefix}.{secret}"
    raise Conflict("Could not allocate a unique API key prefix; try again.")


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first revocation time."""
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        api_key.refresh_from_db(fields=["revoked_at"])
        remember(api_key)  # the UPDATE sent no signal
    return api_key


def _owner_count(organization: Organization) -> int:
    return Membership.objects.filter(
        organization=organization, role=Membership.Role.OWNER
    ).count()


def membership_set(*, organization: Organization, user, role: str) -> Membership:
    """Give ``user`` the ``role`` in ``organization`` (create or change).

    Refuses to demote the organization's last owner, so nobody locks the
    organization out of its own key and member management.
    """
    if role not in Membership.Role.values:
        raise ApplicationError(
            "Unknown role.", code="invalid", details={"role": [f"{role!r}"]}
        )
    with transaction.atomic():
        current = (
            Membership.objects.select_for_update()
            .filter(organization=organization, user=user)
            .first()
        )
        if (
            current is not None
            and current.role == Membership.Role.OWNER
            and role != Membership.Role.OWNER
            and _owner_count(organization) == 1
        ):
            raise Conflict(
                "An organization needs at least one owner.", code="last_owner"
            )
        membership, _ = Membership.objects.update_or_create(
            organization=organization, user=user, defaults={"role": role}
        )
    return membership


def membership_remove(*, organization: Organization, user) -> None:
    """Remove ``user`` from ``organization``; never its last owner."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .filter(organization=organization, user=user)
            .first()
        )
        if membership is None:
            return
        if membership.role == Membership.Role.OWNER and _owner_count(organization) == 1:
            raise Conflict(
                "An organization needs at least one owner.", code="last_owner"
            )
        membership.delete()
