import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from tests.e2e.server import Server


@pytest.fixture(scope="session")
def csms_server(django_db_setup, django_db_blocker):
    """One real uvicorn server for the e2e session, on the test database."""
    # A generous failure limit: the throttle has its own test and server.
    server = Server("uvicorn", {"CSMS_AUTH_FAILURE_LIMIT": "1000"}).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """Tests reach the database from asgiref's worker thread too; close that
    thread's connection after each test, so PostgreSQL can drop the test DB."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def live(csms_server, transactional_db):
    """The server, with test data committed so that it can see it."""
    yield csms_server
    csms_server.wait_quiet()  # before the database is emptied for the next test


@pytest.fixture
def admin_token(transactional_db, django_user_model):
    """A JWT access token of a superuser, valid on the server (same key)."""
    from rest_framework_simplejwt.tokens import RefreshToken

    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    return str(RefreshToken.for_user(user).access_token)
