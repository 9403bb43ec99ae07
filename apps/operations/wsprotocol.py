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
  parser keeps the request for the connection's life, so it is emptied);
- a message in one frame, the usual OCPP message, and a text sent by the
  application reuse the connection's lists instead of leaving a new empty
  one behind each time.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)
from websockets.datastructures import Headers
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode


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

    def handle_events(self) -> None:
        events = self.conn.events
        if len(events) == 1:
            event = events[0]
            if type(event) is Frame and event.fin and event.opcode is Opcode.TEXT:
                events.clear()  # consumed: websockets' next events go here
                self.curr_msg_data_type = "text"
                self._to_app(event.data)
                return
        super().handle_events()

    def send_receive_event_to_app(self) -> None:
        """A message of several frames (or binary) is complete."""
        frames, self.frames = self.frames, []
        self._to_app(frames[0] if len(frames) == 1 else b"".join(frames))

    def _to_app(self, data: bytes) -> None:
        if self.close_sent:
            # Past websocket.close: reads go on until the peer's close reply.
            return
        if self.curr_msg_data_type == "text":
            try:
                message = {"type": "websocket.receive", "text": data.decode()}
            except UnicodeDecodeError:
                self.logger.info("Invalid UTF-8 in a text frame: closing with 1007")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            message = {"type": "websocket.receive", "bytes": data}
        self.queue.put_nowait(message)
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    async def send(self, message) -> None:
        if (
            message["type"] == "websocket.send"
            and message.get("text") is not None
            and self.handshake_complete
            and not self.close_sent
            and self.initial_response is None
            and self.writable.is_set()
            and not self.disconnected
        ):
            conn = self.conn
            try:
                conn.send_text(message["text"].encode())
            except InvalidState:
                raise ClientDisconnected() from None
            writes = conn.writes
            self.transport.write(b"".join(writes))
            writes.clear()
            return
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
