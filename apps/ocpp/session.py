"""One connected station as the edge sees it, and its outgoing CALLs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from apps.ocpp import frames, journal
from apps.ocpp.errors import CallErrorReply
from apps.ocpp.versions import Version


class StationCallError(Exception):
    """The station answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details


class StationSession:
    def __init__(
        self,
        *,
        charge_point_id: str,
        organization_id: int,
        version: Version,
        send: Callable[[str], Awaitable[None]],
        registration_status: str = "Accepted",
    ):
        self.charge_point_id = charge_point_id
        self.organization_id = organization_id
        self.version = version
        self.ocpp_version = version.number
        self._send = send
        # Until Accepted, only BootNotification (and messages the CSMS
        # triggered) may be sent: B02.FR.09, B03.FR.07; 1.6 §4.2.
        self.registration_status = registration_status
        self.triggered_actions: set[str] = set()
        self._call_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future] = {}

    @property
    def accepted(self) -> bool:
        return self.registration_status == "Accepted"

    async def send_frame(
        self, text: str, *, message_type: int, unique_id: str, action: str = ""
    ) -> None:
        await self._send(text)
        journal.record(
            self.charge_point_id,
            "out",
            text,
            message_type=message_type,
            unique_id=unique_id,
            action=action,
        )

    async def call(
        self, action: str, payload: dict, *, timeout: float, unique_id: str = ""
    ) -> dict:
        """Send a CALL and wait for its answer.

        OCPP-J allows one outstanding CALL per direction, so calls queue on a
        lock. Never await this from the consumer's receive path: the answer
        arrives through it (DESIGN.md, the call() pitfall); run it in a task.
        """
        async with self._call_lock:
            unique_id = unique_id or str(uuid.uuid4())
            future = asyncio.get_running_loop().create_future()
            self._waiting[unique_id] = future
            try:
                await self.send_frame(
                    frames.build_call(unique_id, action, payload),
                    message_type=frames.CALL,
                    unique_id=unique_id,
                    action=action,
                )
                return await asyncio.wait_for(future, timeout)
            finally:
                self._waiting.pop(unique_id, None)

    def resolve(self, frame: frames.CallResult | frames.CallError) -> bool:
        """Hand an answer to the CALL waiting for it; False if none waits."""
        future = self._waiting.get(frame.unique_id)
        if future is None or future.done():
            return False
        if isinstance(frame, frames.CallResult):
            future.set_result(frame.payload)
        else:
            future.set_exception(
                StationCallError(frame.code, frame.description, frame.details)
            )
        return True

    def close(self) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("Station disconnected"))
        self._waiting.clear()


__all__ = ["StationSession", "StationCallError", "CallErrorReply"]
