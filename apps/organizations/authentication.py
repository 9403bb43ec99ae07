"""``Authorization: Api-Key <key>``: an organization's key acting with its role."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.organizations.models import ApiKey
from apps.organizations.secrets import verify_secret

KEYWORD = "Api-Key"
PREFIX_LENGTH = 8
_LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is None or not verify_secret(secret, api_key.key_hash):
        return None
    now = timezone.now()
    if api_key.revoked_at or (api_key.expires_at and api_key.expires_at <= now):
        return None
    if not api_key.last_used_at or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


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
