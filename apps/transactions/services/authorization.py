"""Authorize: what the CSMS says about an id token, in version-neutral terms.

1.6 maps the result to ``idTagInfo`` (status, expiryDate, parentIdTag), 2.0.1
and 2.1 to ``idTokenInfo`` (status, cacheExpiryDateTime, groupIdToken).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.organizations.models import Organization
from apps.organizations.services import organization_read
from apps.transactions.models import IdTag
from csms.bulk import batch_cache, batch_cached, fetch_instances, key_chunks

Status = IdTag.Status
# The group token's type when the group is not itself a registered token.
GROUP_TYPE_DEFAULT = IdTag.Type.CENTRAL


@dataclass(frozen=True)
class AuthorizationResult:
    status: str
    expiry_date: datetime | None = None
    group_id_tag: str = ""
    group_type: str = ""
    id_tag_pk: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status == Status.ACCEPTED

    def as_dict(self) -> dict:
        data = asdict(self)
        if self.expiry_date is not None:
            data["expiry_date"] = self.expiry_date.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AuthorizationResult:
        expiry = data.get("expiry_date")
        return cls(
            status=data["status"],
            expiry_date=parse_datetime(expiry) if expiry else None,
            group_id_tag=data.get("group_id_tag", ""),
            group_type=data.get("group_type", ""),
            id_tag_pk=data.get("id_tag_pk"),
        )


INVALID = AuthorizationResult(status=Status.INVALID)

KIND = "id-tag"  # preloads: (organization id, token) -> the organization's IdTag


def preload_key(organization_id: int, id_tag: str | None) -> tuple | None:
    """What a message naming ``id_tag`` asks its batch to preload, if anything."""
    return (KIND, (organization_id, id_tag)) if id_tag else None


def preload_id_tags(keys: list[tuple[int, str]]) -> None:
    """Load the tokens a batch's messages name, with one query (group commit).

    Only tokens change through the API and the admin, never in a batch, so
    the rows need no lock.
    """
    wanted = sorted(set(keys))
    quote = connection.ops.quote_name
    found = {}
    for condition, params in key_chunks(
        (quote("organization_id"), quote("id_tag")), ("bigint", "varchar"), wanted
    ):
        table = quote(IdTag._meta.db_table)
        for tag in fetch_instances(IdTag, None, f"{table} WHERE {condition}", params):
            found[(tag.organization_id, tag.id_tag)] = tag
    cache = batch_cache()
    for organization_id, id_tag in wanted:
        cache[(KIND, organization_id, id_tag)] = found.get((organization_id, id_tag))


def id_tag_lookup(*, organization: Organization, id_tag: str) -> IdTag | None:
    """The registered token a station of ``organization`` may accept.

    The station's own organization first; other organizations' tokens only when
    it accepts foreign tokens (``Organization.accept_foreign_tokens``).
    """
    if not id_tag:
        return None
    own = batch_cached(
        (KIND, organization.pk, id_tag),
        lambda: IdTag.objects.filter(organization=organization, id_tag=id_tag).first(),
    )
    if own is not None or not organization.accept_foreign_tokens:
        return own
    foreign = IdTag.objects.filter(id_tag=id_tag).exclude(organization=organization)
    # Deterministic when several organizations know the token: a usable one first.
    return (
        foreign.filter(status=Status.ACCEPTED).order_by("organization_id").first()
        or foreign.order_by("organization_id").first()
    )


def _effective_status(tag: IdTag, now: datetime) -> str:
    if tag.status != Status.ACCEPTED:
        return tag.status
    if tag.expiry_date is not None and tag.expiry_date <= now:
        return Status.EXPIRED
    if tag.parent_id_tag:
        # Blocking a group blocks its members.
        group = (
            IdTag.objects.filter(
                organization_id=tag.organization_id, id_tag=tag.parent_id_tag
            )
            .only("status", "expiry_date")
            .first()
        )
        if group is not None and group.status != Status.ACCEPTED:
            return group.status
        if group is not None and group.expiry_date and group.expiry_date <= now:
            return Status.EXPIRED
    return Status.ACCEPTED


def _group_type(tag: IdTag) -> str:
    if not tag.parent_id_tag:
        return ""
    group_type = (
        IdTag.objects.filter(
            organization_id=tag.organization_id, id_tag=tag.parent_id_tag
        )
        .values_list("type", flat=True)
        .first()
    )
    return group_type or GROUP_TYPE_DEFAULT


def authorize_id_token(
    *,
    organization: Organization,
    id_tag: str,
    token_type: str = "",
    at: datetime | None = None,
) -> AuthorizationResult:
    """Authorize ``id_tag`` at a station of ``organization``.

    Unknown tokens are Invalid; expired ones Expired. A 2.0.1 ``NoAuthorization``
    token (start button, no identification) is always Accepted (C02.FR.02).
    """
    if token_type == IdTag.Type.NO_AUTHORIZATION:
        return AuthorizationResult(status=Status.ACCEPTED)
    tag = id_tag_lookup(organization=organization, id_tag=id_tag)
    if tag is None:
        return INVALID
    status = _effective_status(tag, at or timezone.now())
    return AuthorizationResult(
        status=status,
        expiry_date=tag.expiry_date,
        group_id_tag=tag.parent_id_tag,
        group_type=_group_type(tag),
        id_tag_pk=tag.pk,
    )


def tokens_share_group(
    *, start: IdTag | None, start_id_tag: str, stop: IdTag | None, stop_id_tag: str
) -> bool:
    """Whether ``stop_id_tag`` may end what ``start_id_tag`` started.

    The same token, or tokens with one parent/group token, or a token and its
    own group token (1.6 §3.5 Parent idTag; 2.0.1 C09.FR.03).
    """
    if start_id_tag == stop_id_tag:
        return True
    start_group = start.parent_id_tag if start else ""
    stop_group = stop.parent_id_tag if stop else ""
    if start_group and start_group in (stop_group, stop_id_tag):
        return True
    return bool(stop_group) and stop_group == start_id_tag


def authorize_at_station(
    *, organization_id: int, id_tag: str, token_type: str = ""
) -> AuthorizationResult:
    """Authorize (the message): ``authorize_id_token`` for a station's organization."""
    organization = organization_read(organization_id)
    return authorize_id_token(
        organization=organization, id_tag=id_tag, token_type=token_type
    )
