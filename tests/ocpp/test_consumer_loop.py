"""The station consumer's loop: frames in order, mailbox events beside them."""

import asyncio
import json

import pytest

from apps.ocpp import mailbox, registry
from tests.ocpp.communicators import connected

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections"),
]


async def test_frames_are_answered_in_the_order_they_came():
    communicator = await connected("LOOP1")
    for n in range(5):
        await communicator.send_to(json.dumps([2, f"hb{n}", "Heartbeat", {}]))
    answers = [json.loads(await communicator.receive_from(timeout=5)) for _ in range(5)]
    await communicator.disconnect()
    assert [a[1] for a in answers] == [f"hb{n}" for n in range(5)]


async def test_a_channel_layer_event_is_served_while_the_station_is_quiet():
    communicator = await connected("LOOP2")
    consumer = registry.connected["LOOP2"]
    await mailbox.send(consumer.channel_name, {"type": "ocpp.replaced"})
    closed = await communicator.receive_output(timeout=5)
    assert closed == {
        "type": "websocket.close",
        "code": 4000,
        "reason": "Replaced by a newer connection",
    }
    await communicator.disconnect()


async def test_an_event_without_a_handler_is_logged_and_the_station_stays_served(
    caplog,
):
    communicator = await connected("LOOP3")
    consumer = registry.connected["LOOP3"]
    await mailbox.send(consumer.channel_name, {"type": "no.such.event"})
    await communicator.send_to(json.dumps([2, "hb", "Heartbeat", {}]))
    answer = json.loads(await communicator.receive_from(timeout=5))
    failures = await _logged(caplog, "a recipient failed")
    await communicator.disconnect()
    assert answer[:2] == [3, "hb"]
    assert "No handler for message type no.such.event" in str(failures[0].exc_info[1])


async def _logged(caplog, ending: str, within: float = 5.0) -> list:
    for _ in range(int(within / 0.05)):
        records = [r for r in caplog.records if r.message.endswith(ending)]
        if records:
            return records
        await asyncio.sleep(0.05)
    return []


async def test_a_connected_station_keeps_no_handshake_headers():
    communicator = await connected("LOOP4")
    consumer = registry.connected["LOOP4"]
    assert consumer.scope["headers"] == []
    await communicator.disconnect()
