"""The one WebSocket consumer every station connects to: ``/ocpp/<id>``.

Small on purpose: connect (negotiate, admit, register), receive (parse, route,
answer), disconnect, and one method per channel-layer event. Everything else
lives in the router, the handlers and the services.
"""

from __future__ import annotations

import logging
import time

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from apps.chargepoints.services.lifecycle import station_disconnected
from apps.ocpp import frames, journal, mailbox, presence, registry
from apps.ocpp.db import run_db
from apps.ocpp.errors import CallErrorReply
from apps.ocpp.frames import CALLRESULT
from apps.ocpp.handshake import Refusal, admit
from apps.ocpp.metrics import call_metrics
from apps.ocpp.session import StationCallError, StationSession
from apps.ocpp.versions import negotiate
from apps.operations.logging import request_id_var
from apps.operations.metrics import STATIONS_CONNECTED

logger = logging.getLogger(__name__)


class OcppConsumer(AsyncWebsocketConsumer):
    session: StationSession | None = None

    async def __call__(self, scope, receive, send) -> None:
        """Channels' consumer loop without a task per frame or per station.

        Channels waits on the station and on the channel layer with a fresh
        task for every frame and ``asyncio.wait`` over both: about 8% of the
        server's CPU under load. Here frames are awaited directly, in order.
        Channel-layer events come through the process's mailbox, each in a
        task of its own (they never wait on the station: close, start a CALL
        in a task), so that no station holds a channel-layer receive.
        """
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        box = None
        if self.channel_layer is not None:
            box = await mailbox.of_this_loop()
            self.channel_name = box.open(self.dispatch)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            if box is not None:
                box.close(self.channel_name)

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, minus its per-message ``aclose_old_connections``.

        Channels hops to a worker thread before every message to close stale
        database connections: a thread hop per OCPP frame, serialised on the
        thread Django's sync views share. The edge never uses that thread's
        connection (all its database work runs in the group-commit thread,
        which looks after its own), so the hop buys nothing here.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        station_id = kwargs["station_id"]
        request_id_var.set(f"ocpp:{station_id}")
        version = negotiate(self.scope.get("subprotocols", []))
        if version is None:
            # OCPP-J §3.1: complete the handshake without a subprotocol, then close.
            logger.info("Refused %s: no supported subprotocol offered", station_id)
            await self.accept()
            await self.close(code=1002)
            return
        admitted = await admit(
            self.scope,
            station_id,
            kwargs.get("organization_slug"),
            ocpp_version=version.number,
            channel_name=self.channel_name,
        )
        if isinstance(admitted, Refusal):
            logger.info("Refused %s: %s", station_id, admitted.reason)
            await self._deny(admitted)
            raise StopConsumer()
        credentials = admitted.credentials
        self.session = StationSession(
            charge_point_id=station_id,
            organization_id=credentials.organization_id,
            version=version,
            send=self.send,
            registration_status=credentials.registration_status,
        )
        self.router = registry.router_for(version)
        previous = admitted.previous_channel
        older = registry.connected.get(station_id)
        registry.register(self)
        # Recorded before the handshake completes, so that a command sent the
        # moment the station is connected finds it online.
        await self.accept(subprotocol=version.subprotocol)
        # Read at the handshake only: a kilobyte per station otherwise.
        self.scope["headers"] = []
        if previous:
            await self._replace(previous, older)
        STATIONS_CONNECTED.labels(version.number).inc()

    async def _replace(self, previous: str, older: OcppConsumer | None) -> None:
        """Close the connection this one replaces: in this process directly,
        elsewhere through the channel layer. Best effort: a station reconnecting
        in a storm must not fail because Redis is busy; an older connection
        left open ends at its ping timeout and can no longer mark it offline."""
        if older is not None and older.channel_name == previous:
            registry.spawn(older, older.ocpp_replaced({"type": "ocpp.replaced"}))
            return
        try:
            await mailbox.send(previous, {"type": "ocpp.replaced"})
        except Exception:
            logger.warning("Could not tell %s it was replaced", previous, exc_info=True)

    async def _deny(self, refusal: Refusal) -> None:
        """HTTP status before the WebSocket opens, where the server allows it.

        uvicorn supports the ASGI denial-response extension; daphne can only
        refuse a handshake with 403.
        """
        if "websocket.http.response" not in self.scope.get("extensions", {}):
            await self.close()
            return
        body = refusal.reason.encode()
        await self.base_send(
            {
                "type": "websocket.http.response.start",
                "status": refusal.status,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", str(len(body)).encode()),
                    *refusal.headers,
                ],
            }
        )
        await self.base_send({"type": "websocket.http.response.body", "body": body})

    async def receive(self, text_data=None, bytes_data=None) -> None:
        session = self.session
        if session is None:
            return
        presence.touch(session.charge_point_id)
        version = session.version
        if text_data is None:
            # OCPP-J carries frames as text; a binary frame is not an RPC.
            await self._reply_error(
                frames.FrameError("-1", version.framework_error, "Frames must be text")
            )
            return
        if len(text_data) > settings.OCPP_MAX_FRAME_BYTES:
            journal.record(session.charge_point_id, "in", text_data[:1000])
            await self._reply_error(
                frames.FrameError(
                    "-1", version.framework_error, "Frame exceeds the size limit"
                )
            )
            return
        try:
            frame = frames.parse(text_data, version)
        except frames.FrameError as error:
            journal.record(session.charge_point_id, "in", text_data)
            await self._reply_error(error)
            return
        if isinstance(frame, frames.Call):
            await self._handle_call(frame, text_data)
        elif isinstance(frame, frames.Send):
            await self._handle_send(frame, text_data)
        else:
            journal.record(
                session.charge_point_id,
                "in",
                text_data,
                message_type=frames.CALLRESULT
                if isinstance(frame, frames.CallResult)
                else frames.CALLERROR,
                unique_id=frame.unique_id,
            )
            if not session.resolve(frame):
                logger.info(
                    "Answer %s from %s matches no open CALL",
                    frame.unique_id,
                    session.charge_point_id,
                )

    async def _handle_call(self, call: frames.Call, text: str) -> None:
        session = self.session
        started = time.perf_counter()
        journal.record(
            session.charge_point_id,
            "in",
            text,
            message_type=frames.CALL,
            unique_id=call.unique_id,
            action=call.action,
        )
        metrics = call_metrics(session.ocpp_version, call.action)
        metrics.received.inc()
        try:
            response = await self.router.dispatch(session, call.action, call.payload)
            reply = frames.build_result(call.unique_id, response)
            reply_type = frames.CALLRESULT
        except CallErrorReply as error:
            reply = frames.build_error(
                call.unique_id, error.code, error.description, error.details
            )
            reply_type = frames.CALLERROR
        await session.send_frame(
            reply, message_type=reply_type, unique_id=call.unique_id, action=call.action
        )
        metrics.answered.inc()
        metrics.seconds.observe(time.perf_counter() - started)

    async def _handle_send(self, send: frames.Send, text: str) -> None:
        """OCPP 2.1 SEND: handled like a CALL, but never answered."""
        session = self.session
        journal.record(
            session.charge_point_id,
            "in",
            text,
            message_type=frames.SEND,
            unique_id=send.unique_id,
            action=send.action,
        )
        try:
            await self.router.dispatch(session, send.action, send.payload)
        except CallErrorReply as error:
            logger.info(
                "SEND %s from %s not handled: %s",
                send.action,
                session.charge_point_id,
                error.description,
            )

    async def _reply_error(self, error: frames.FrameError) -> None:
        await self.session.send_frame(
            frames.build_error(error.unique_id, error.code, error.description),
            message_type=frames.CALLERROR,
            unique_id=error.unique_id,
        )

    async def disconnect(self, code) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        session.close()
        registry.unregister(self)
        STATIONS_CONNECTED.labels(session.ocpp_version).dec()
        await run_db(
            station_disconnected,
            charge_point_id=session.charge_point_id,
            channel_name=self.channel_name,
        )

    # --- channel-layer events ---------------------------------------------------

    async def ocpp_replaced(self, event: dict) -> None:
        """A newer connection for this station took over: close this one."""
        await self.close(code=4000, reason="Replaced by a newer connection")

    async def ocpp_call(self, event: dict) -> None:
        """Send a CALL for another process; the answer goes to its reply channel.

        The call runs in its own task: awaiting it here would block the
        receive loop that must deliver the answer (DESIGN.md, call() pitfall).
        """
        registry.spawn(self, self._call_for(event))

    async def _call_for(self, event: dict) -> None:
        reply = await execute_call(
            self.session,
            event["action"],
            event["payload"],
            timeout=event["timeout"],
            unique_id=event["request_id"],
        )
        reply.update(type="ocpp.call.reply", request_id=event["request_id"])
        await mailbox.send(event["reply_to"], reply)


TRIGGERED = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignChargePointCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}


async def execute_call(
    session: StationSession | None,
    action: str,
    payload: dict,
    *,
    timeout: float,
    unique_id: str,
) -> dict:
    """Run one CALL to the station; the outcome as a plain dict.

    Used for commands from this process and from others alike.
    """
    if session is None:
        return {"outcome": "offline"}
    try:
        response = await session.call(
            action, payload, timeout=timeout, unique_id=unique_id
        )
    except StationCallError as error:
        return {
            "outcome": "call_error",
            "code": error.code,
            "description": error.description,
            "details": error.details,
        }
    except TimeoutError:
        return {"outcome": "timeout"}
    except ConnectionError:
        return {"outcome": "offline"}
    try:
        registry.router_for(session.version).validate(CALLRESULT, action, response)
    except CallErrorReply as invalid:
        # The station answered, but not with a valid response: the caller must
        # not act on it as if it were one.
        return {
            "outcome": "call_error",
            "code": invalid.code,
            "description": f"Invalid {action} response from the station: "
            f"{invalid.description}",
            "details": {"response": response, **invalid.details},
        }
    if (
        action in ("TriggerMessage", "ExtendedTriggerMessage")
        and response.get("status") == "Accepted"
    ):
        # A station that is not Accepted yet may send what we asked for
        # (B02.FR.09); remember it for the router's gate.
        requested = payload.get("requestedMessage", "")
        session.triggered_actions.add(TRIGGERED.get(requested, requested))
    return {"outcome": "ok", "response": response}
