"""The operator event feed: every domain event of the caller's organizations."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from apps.events.publisher import bind_server_loop, organization_group
from apps.organizations.models import Organization


@database_sync_to_async
def _authenticate(scope) -> object | None:
    """A JWT in ``?token=`` or the admin session's user, if active."""
    token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
    if token:
        from rest_framework_simplejwt.exceptions import TokenError
        from rest_framework_simplejwt.tokens import AccessToken

        try:
            user_id = AccessToken(token)["user_id"]
        except (TokenError, KeyError):
            return None
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return _session_user(scope)


def _session_user(scope):
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import constant_time_compare

    cookies = dict(
        part.strip().split("=", 1)
        for header, value in scope.get("headers", [])
        if header == b"cookie"
        for part in value.decode("latin1").split(";")
        if "=" in part
    )
    session_key = cookies.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(session_key)
    user_id = session.get(SESSION_KEY)
    if user_id is None or session.get(BACKEND_SESSION_KEY) is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    if not constant_time_compare(
        session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    ):
        return None
    return user


@database_sync_to_async
def _organization_ids(user) -> list[int]:
    return list(Organization.objects.visible_to(user).values_list("id", flat=True))


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        bind_server_loop(asyncio.get_running_loop())
        user = await _authenticate(self.scope)
        if user is None:
            await self.close(code=4401)
            return
        self.groups_joined = [
            organization_group(org_id) for org_id in await _organization_ids(user)
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        """The feed is one-way; a client message gets a short reminder."""
        await self.send_json({"error": "This feed is read-only."})

    async def domain_events(self, message: dict) -> None:
        for event in message["events"]:
            await self.send_json(event)
