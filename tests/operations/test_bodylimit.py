import json

import pytest
from django.test import override_settings

from apps.operations.bodylimit import BodyLimitApp

pytestmark = pytest.mark.usefixtures("small_limit")


@pytest.fixture
def small_limit():
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10):
        yield


class ReadingApp:
    """Reads the whole body like Django's handler, then answers 200."""

    def __init__(self):
        self.called = False
        self.body = b""
        self.aborted = False

    async def __call__(self, scope, receive, send):
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.aborted = True
                return
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app, headers, chunks):
    scope = {"type": "http", "method": "POST", "path": "/api/v1/x/", "headers": headers}
    inbox = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return inbox.pop(0)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_declared_body_over_the_limit_is_refused_unread():
    inner = ReadingApp()

    sent = await call(
        BodyLimitApp(inner),
        [(b"content-length", b"11"), (b"x-request-id", b"req-big")],
        [b"x" * 11],
    )

    assert inner.called is False
    assert sent[0]["status"] == 413
    assert (b"x-request-id", b"req-big") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"


async def test_chunked_body_is_cut_off_when_it_passes_the_limit():
    inner = ReadingApp()

    sent = await call(BodyLimitApp(inner), [], [b"x" * 6, b"x" * 6, b"x" * 6])

    assert inner.aborted is True
    assert inner.body == b"x" * 6
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["details"] == {"max_bytes": 10}


@pytest.mark.parametrize(
    ("headers", "chunks"),
    [([(b"content-length", b"10")], [b"x" * 10]), ([], [b"x" * 5, b"x" * 5])],
)
async def test_bodies_within_the_limit_pass(headers, chunks):
    inner = ReadingApp()

    sent = await call(BodyLimitApp(inner), headers, chunks)

    assert inner.body == b"".join(chunks)
    assert sent[0]["status"] == 200


async def test_other_scopes_pass_untouched():
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    await BodyLimitApp(inner)({"type": "websocket"}, None, None)

    assert seen == ["websocket"]
