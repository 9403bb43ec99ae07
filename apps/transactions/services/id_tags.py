"""Managing id tokens (API and admin)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.organizations.models import Organization
from apps.transactions.models import IdTag
from csms.errors import ApplicationError

ID_TAG_FIELDS = frozenset(
    {"id_tag", "type", "status", "expiry_date", "parent_id_tag", "owner_reference"}
)


def _save(tag: IdTag) -> IdTag:
    try:
        tag.full_clean()
    except DjangoValidationError as error:
        raise ApplicationError(
            "Invalid id tag.", code="invalid", details=error.message_dict
        ) from None
    tag.save()
    return tag


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - ID_TAG_FIELDS
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")


@transaction.atomic
def id_tag_create(*, organization: Organization, id_tag: str, **fields) -> IdTag:
    _check_fields(fields)
    return _save(IdTag(organization=organization, id_tag=id_tag, **fields))


@transaction.atomic
def id_tag_update(*, tag: IdTag, **fields) -> IdTag:
    _check_fields(fields)
    for name, value in fields.items():
        setattr(tag, name, value)
    return _save(tag)


def id_tags_set_status(*, queryset: QuerySet[IdTag], status: str) -> int:
    """Block or unblock many tokens at once; returns how many changed."""
    if status not in IdTag.Status.values:
        raise ApplicationError(f"Unknown status {status!r}.")
    return queryset.exclude(status=status).update(
        status=status, updated_at=timezone.now()
    )
