"""Fixtures of the session tests, imported by tests/{transactions,billing,events}."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from apps.ocpp.db import executor


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    """Every domain event delivered (after commit), in order."""
    events: list[dict] = []
    monkeypatch.setattr("apps.events.publisher._deliver", events.append)
    return events


@pytest.fixture
def group_commit():
    """Handlers run their work on the group-commit thread; stop it afterwards
    so its database connection does not outlive the test database."""
    yield executor
    executor.shutdown()


@pytest.fixture
async def thread_connections():
    """Close what ``sync_to_async``/``database_sync_to_async`` opened.

    Their worker thread keeps its connection (CONN_MAX_AGE), which would keep
    PostgreSQL from dropping the test database.
    """
    yield
    await sync_to_async(connections.close_all)()
