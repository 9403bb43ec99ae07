"""Our uvicorn WebSocket protocol: uvicorn's behaviour, less kept per station."""

import asyncio
import gc

from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from apps.operations.wsprotocol import Inbox, StationWebSocketProtocol, WritableFlag

HANDSHAKE = (
    b"GET /ocpp/WS1 HTTP/1.1\r\n"
    b"Host: csms\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: ocpp1.6\r\n"
    b"Authorization: Basic V1MxOnNlY3JldA==\r\n\r\n"
)


class Transport:
    def __init__(self):
        self.written = b""
        self.closed = False
        self.reading = True

    def write(self, data):
        self.written += data

    def close(self):
        self.closed = True

    def is_closing(self):
        return self.closed

    def pause_reading(self):
        self.reading = False

    def resume_reading(self):
        self.reading = True

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 9000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )


def _text_frame(text: str) -> bytes:
    return _frame(Opcode.TEXT, text.encode())


def _frame(opcode: Opcode, data: bytes, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin=fin).serialize(mask=True, extensions=[])


async def _recorder(received: list):
    """An application that accepts and records what the station sends."""

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    return app


async def _open(app):
    config = Config(app=app, ws=StationWebSocketProtocol, lifespan="off")
    config.load()
    protocol = StationWebSocketProtocol(
        config=config, server_state=ServerState(), app_state={}
    )
    transport = Transport()
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    return protocol, transport


async def _close(protocol):
    """The station goes away; the application sees it and ends."""
    protocol.connection_lost(None)
    await asyncio.wait_for(asyncio.gather(*protocol.tasks), 2)


async def _until(condition, within=2.0):
    for _ in range(int(within / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_messages_reach_the_application_in_order_and_replies_go_out():
    seen_headers = []

    async def echo(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        seen_headers.extend(scope["headers"])
        await send({"type": "websocket.accept", "subprotocol": "ocpp1.6"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})

    protocol, transport = await _open(echo)
    assert await _until(lambda: b"101 Switching Protocols" in transport.written)
    lists = protocol.conn.events, protocol.conn.writes
    protocol.data_received(_text_frame("one"))
    assert await _until(lambda: b"echo:one" in transport.written)
    # A one-frame message and its answer left no new list behind.
    assert (protocol.conn.events, protocol.conn.writes) == lists == ([], [])
    assert protocol.conn.events is lists[0] and protocol.conn.writes is lists[1]
    protocol.data_received(_text_frame("two") + _text_frame("three"))
    assert await _until(lambda: b"echo:three" in transport.written)
    assert (
        transport.written.index(b"echo:one")
        < transport.written.index(b"echo:two")
        < transport.written.index(b"echo:three")
    )
    assert transport.reading  # resumed once the application took every message
    assert (b"authorization", b"Basic V1MxOnNlY3JldA==") in [
        (name.lower(), value) for name, value in seen_headers
    ]
    await _close(protocol)


async def test_once_open_the_connection_keeps_no_handshake_headers():
    accepted = asyncio.Event()

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        accepted.set()
        await receive()

    protocol, transport = await _open(app)
    await asyncio.wait_for(accepted.wait(), 2)
    assert (protocol.request, protocol.response) == (None, None)
    assert protocol.scope["headers"] == []
    parser_locals = protocol.conn.parser.gi_frame.f_locals
    assert len(parser_locals["request"].headers) == 0
    await _close(protocol)


async def test_a_refused_handshake_still_answers_with_the_status():
    async def refuse(scope, receive, send):
        await receive()
        await send({"type": "websocket.http.response.start", "status": 401})
        await send({"type": "websocket.http.response.body", "body": b"no"})

    protocol, transport = await _open(refuse)
    assert await _until(lambda: transport.closed)
    assert transport.written.startswith(b"HTTP/1.1 401 Unauthorized")


async def test_fragmented_and_binary_messages_reach_the_application_whole():
    received = []
    protocol, transport = await _open(await _recorder(received))
    protocol.data_received(_frame(Opcode.TEXT, b"[2,", fin=False))
    protocol.data_received(_frame(Opcode.CONT, b'"a"]'))
    await _until(lambda: received)
    protocol.data_received(_frame(Opcode.BINARY, b"\x00\x01"))
    await _until(lambda: len(received) == 2)
    protocol.data_received(_text_frame('[2,"b"]'))
    await _until(lambda: len(received) == 3)
    await _close(protocol)
    assert received[:3] == [
        {"type": "websocket.receive", "text": '[2,"a"]'},
        {"type": "websocket.receive", "bytes": b"\x00\x01"},
        {"type": "websocket.receive", "text": '[2,"b"]'},
    ]


async def test_a_text_frame_that_is_not_utf8_closes_the_connection_with_1007():
    received = []
    protocol, transport = await _open(await _recorder(received))
    await _until(lambda: b"101 Switching" in transport.written)
    protocol.data_received(_frame(Opcode.TEXT, b"\xff\xfe"))
    assert await _until(lambda: transport.closed)
    close_frame = transport.written.split(b"\r\n\r\n", 1)[1]
    assert close_frame[:4] == b"\x88\x02\x03\xef"  # close, code 1007
    assert await _until(lambda: received)
    assert received[0]["type"] == "websocket.disconnect"


async def test_the_inbox_wakes_its_reader_and_loses_nothing_when_it_gave_up():
    loop = asyncio.get_running_loop()
    inbox = Inbox()
    inbox.waiter = loop.create_future()
    inbox.waiter.cancel()  # a reader that was cancelled while waiting
    inbox.put_nowait("kept")
    assert (inbox.items, inbox.qsize(), inbox.empty()) == (["kept"], 1, False)
    waiter = inbox.waiter = loop.create_future()
    inbox.put_nowait("next")
    assert waiter.done() and inbox.waiter is None


async def test_writers_wait_while_the_transport_is_full_and_all_go_on_after():
    flag = WritableFlag()
    flag.clear()
    writers = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert not any(writer.done() for writer in writers)
    flag.set()
    assert await asyncio.gather(*writers) == [True, True, True]
    assert await asyncio.wait_for(flag.wait(), 1)


async def test_a_message_leaves_six_objects_per_station_for_the_collector():
    """What a station's message leaves alive until the next one is what every
    young-generation collection traces, for every connected station (uvicorn's
    own protocol leaves ten)."""

    async def echo(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] != "websocket.disconnect":
            await send({"type": "websocket.send", "text": message["text"]})

    stations = [await _open(echo) for _ in range(200)]
    frame = _text_frame('[2,"1","Heartbeat",{}]')
    for protocol, _ in stations:
        protocol.data_received(frame)
    assert await _until(lambda: all(t.written.endswith(b"{}]") for _, t in stations))
    gc.collect()
    gc.freeze()
    try:
        for protocol, _ in stations:
            protocol.data_received(frame)
        assert await _until(
            lambda: all(t.written.count(b"{}]") == 2 for _, t in stations)
        )
        left = sum(len(gc.get_objects(generation)) for generation in range(3))
    finally:
        gc.unfreeze()
        for protocol, _ in stations:
            await _close(protocol)
    assert left / len(stations) <= 6.1
