"""csms.http_handler: API requests through the ASGI application, as a client sees them.

Django's own ASGI handler went back to the event loop inside the request
(around the synchronous auditlog middleware) and out to a thread again for the
view; under load each crossing waits behind the stations' traffic. The CSMS's
handler runs the chain and the view in one thread: the request never has to
come back to the loop before its answer is ready.
"""

import asgiref.sync
import pytest
from channels.testing import HttpCommunicator

from csms.http_handler import SyncChainASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def returns_to_the_loop(monkeypatch) -> list[str]:
    """Every time synchronous code waits for the event loop (async_to_sync)."""
    crossings: list[str] = []
    original = asgiref.sync.AsyncToSync.__call__

    def counted(self, *args, **kwargs):
        crossings.append(getattr(self.awaitable, "__qualname__", repr(self.awaitable)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.AsyncToSync, "__call__", counted)
    return crossings


async def test_an_api_request_runs_middleware_and_view_without_coming_back_to_the_loop(
    returns_to_the_loop,
):
    # given: the application's HTTP handler with the project's middleware
    app = SyncChainASGIHandler()

    # when: a client asks for a protected list without credentials
    response = await HttpCommunicator(
        app,
        "GET",
        "/api/v1/charge-points/",
        headers=[(b"host", b"localhost"), (b"x-request-id", b"req-1")],
    ).get_response()

    # then: the API's answer, with what the middleware adds, and no crossing back
    headers = dict(response["headers"])
    assert response["status"] == 401
    assert headers[b"X-Request-ID"] == b"req-1"
    assert b'"code":"not_authenticated"' in response["body"].replace(b" ", b"")
    assert returns_to_the_loop == []


async def test_a_view_error_is_still_the_api_error_shape(returns_to_the_loop):
    app = SyncChainASGIHandler()

    response = await HttpCommunicator(
        app,
        "POST",
        "/api/v1/auth/token/",
        body=b"{not json",
        headers=[
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            (b"content-length", b"9"),
        ],
    ).get_response()

    assert response["status"] == 400
    assert response["body"].startswith(
        b'{"error":{"code":"invalid","message":"JSON parse'
    )
    assert returns_to_the_loop == []
