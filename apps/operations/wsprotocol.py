"""uvicorn's sans-I/O WebSocket protocol, lighter per connected station.

A station costs the server mostly what waits in it between frames, and every
young-generation garbage collection traces what each station's wait created
(bench/README.md). Same behaviour as uvicorn's, with less of that:

- messages for the application wait in a list with one waiter, not in an
  ``asyncio.Queue`` (three deques, about 2 KiB; the list holds one message,
  seldom more: uvicorn stops reading while one waits), and waiting for the
  next one takes one coroutine less;
- "may write" is a flag, not an ``asyncio.Event`` with its deque of waiters;
- the handshake's headers, response and request go once the WebSocket is
  open (the application has read the headers at its handshake; websockets'
  parser keeps the request for the connection's life, so it is emptied).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)
from websockets.datastructures import Headers


class Inbox:
    """The part of ``asyncio.Queue`` uvicorn's protocol uses, for one reader."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: list = []
        self.waiter: asyncio.Future | None = None

    def put_nowait(self, item) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    def qsize(self) -> int:
        return len(self.items)


class WritableFlag:
    """The part of ``asyncio.Event`` uvicorn's protocol uses for "may write"."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter
        return True


_NO_HEADERS = Headers()


class StationWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()
        self.writable = WritableFlag()

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        self.request = None  # read by handle_connect only
        event.headers = _NO_HEADERS

    async def send(self, message) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            # Sent: the response and the request's headers are history now.
            self.response = None
            if hasattr(self, "scope"):
                self.scope["headers"] = []

    async def receive(self):
        inbox = self.queue
        if not inbox.items:
            waiter = inbox.waiter = self.loop.create_future()
            await waiter
        message = inbox.items.pop(0)
        if self.read_paused and not inbox.items:
            self.read_paused = False
            self.transport.resume_reading()
        return message
