"""A station for tests: a real WebSocket client speaking OCPP-J.

It sends CALLs and waits for their answers, answers the CSMS's CALLs from a
table of canned replies (recording what it received), and can send raw frames
for the malformed-input cases.

``station.replies[action]`` is the answer payload (default
``{"status": "Accepted"}``), or ``StationError(code, description)`` to answer
with a CALLERROR, or ``NO_REPLY`` to record the CALL and never answer it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from dataclasses import dataclass, field

import websockets

_ids = itertools.count(1)

NO_REPLY = object()


@dataclass
class StationError:
    """A canned CALLERROR answer."""

    code: str
    description: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class Answer:
    kind: int  # 3 CALLRESULT, 4 CALLERROR
    unique_id: str
    payload: dict = field(default_factory=dict)
    error_code: str = ""
    error_description: str = ""
    error_details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.kind == 3


def basic_auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Station:
    def __init__(self, ws, station_id: str):
        self.ws = ws
        self.id = station_id
        self.subprotocol = ws.subprotocol
        self.received_calls: list[tuple[str, dict]] = []
        self.replies: dict[str, dict] = {}
        self._waiting: dict[str, asyncio.Future] = {}
        self._raw_answers: asyncio.Queue = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        base_url: str,
        station_id: str,
        password: str | None = None,
        *,
        subprotocols: tuple[str, ...] = ("ocpp1.6",),
        path: str | None = None,
    ) -> Station:
        headers = basic_auth(station_id, password) if password is not None else {}
        ws = await websockets.connect(
            f"{base_url}/{path or 'ocpp/' + station_id}",
            subprotocols=list(subprotocols),
            additional_headers=headers,
            open_timeout=10,
        )
        return cls(ws, station_id)

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                frame = json.loads(text)
                if frame[0] == 2:
                    self.received_calls.append((frame[2], frame[3]))
                    await self._answer(frame[1], frame[2])
                    continue
                answer = Answer(kind=frame[0], unique_id=frame[1])
                if frame[0] == 3:
                    answer.payload = frame[2]
                else:
                    answer.error_code, answer.error_description = frame[2], frame[3]
                    answer.error_details = frame[4]
                future = self._waiting.pop(frame[1], None)
                if future is not None:
                    future.set_result(answer)
                else:
                    await self._raw_answers.put(answer)
        except websockets.ConnectionClosed as closed:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(closed)
            self._waiting.clear()

    async def _answer(self, unique_id: str, action: str) -> None:
        reply = self.replies.get(action, {"status": "Accepted"})
        if reply is NO_REPLY:
            return
        if isinstance(reply, StationError):
            frame = [4, unique_id, reply.code, reply.description, reply.details]
        else:
            frame = [3, unique_id, reply]
        await self.ws.send(json.dumps(frame))

    async def call(self, action: str, payload: dict, timeout: float = 10) -> Answer:
        unique_id = f"t{next(_ids)}"
        future = asyncio.get_running_loop().create_future()
        self._waiting[unique_id] = future
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        return await asyncio.wait_for(future, timeout)

    async def send_raw(self, text: str | bytes, timeout: float = 10) -> Answer:
        """Send any frame; return the next answer that matches no CALL of ours."""
        await self.ws.send(text)
        return await asyncio.wait_for(self._raw_answers.get(), timeout)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()

    async def __aenter__(self) -> Station:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
