"""``Authorization: Api-Key <key>``: an organization's key acting with its role.

The key's record comes from the cache (Redis in production, shared by every
process), not from PostgreSQL: an integration calling at 50 requests/s paid a
query (~0.7 ms of the server's CPU) per request. Every change of a key writes
its new state to the cache (``remember``): revoking takes effect at once in
every process. A request that read the record from the database only *adds*
it, so it cannot overwrite a newer state written meanwhile.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.organizations.models import ApiKey
from apps.organizations.secrets import verify_secret

KEYWORD = "Api-Key"
PREFIX_LENGTH = 8
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# A key's record stays cached this long after its last change or load.
CACHE_SECONDS = 300
_GONE = "gone"  # cached for a deleted key, so a stale add cannot revive it
# When this process last wrote a key's last_used_at (the cached record's is
# as old as the record).
_last_used_here: dict[str, datetime] = {}


class ApiKeyPrincipal:
    """Stands in for a user when a program calls with an API key."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.organization_roles = {api_key.organization_id: api_key.role}
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return self.username


def split_key(raw: str) -> tuple[str, str] | None:
    prefix, _, secret = raw.partition(".")
    if len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return prefix, secret


def authenticate_key(raw: str) -> ApiKey | None:
    parts = split_key(raw)
    if parts is None:
        return None
    prefix, secret = parts
    api_key = _load(prefix)
    if api_key is None or not verify_secret(secret, api_key.key_hash):
        return None
    now = timezone.now()
    if api_key.revoked_at or (api_key.expires_at and api_key.expires_at <= now):
        return None
    last_used = max(
        filter(None, (api_key.last_used_at, _last_used_here.get(prefix))),
        default=None,
    )
    if last_used is None or now - last_used > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        # Not written to the cache: that could overwrite a revocation.
        _last_used_here[prefix] = now
    return api_key


def _cache_key(prefix: str) -> str:
    return f"api-key:{prefix}"


def _load(prefix: str) -> ApiKey | None:
    cached = cache.get(_cache_key(prefix))
    if isinstance(cached, ApiKey):
        return cached
    if cached == _GONE:
        return None
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is not None:
        cache.add(_cache_key(prefix), api_key, CACHE_SECONDS)
    return api_key


def remember(api_key: ApiKey, *, deleted: bool = False) -> None:
    """Write a key's new state (or its deletion) to the cache, after commit.

    Called on every save and delete of a key (signals) and by the services
    that change keys with an UPDATE."""
    key = _cache_key(api_key.prefix)
    value = _GONE if deleted else api_key
    transaction.on_commit(lambda: cache.set(key, value, CACHE_SECONDS))


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin1")
        keyword, _, raw = header.partition(" ")
        if keyword != KEYWORD:
            return None
        api_key = authenticate_key(raw.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                "Invalid, expired or revoked API key."
            )
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
