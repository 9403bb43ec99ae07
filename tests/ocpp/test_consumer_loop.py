"""The station consumer's loop: frames in order, channel-layer events beside them."""

import json

import pytest
from channels.layers import get_channel_layer

from apps.ocpp import registry
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
    await get_channel_layer().send(consumer.channel_name, {"type": "ocpp.replaced"})
    closed = await communicator.receive_output(timeout=5)
    assert closed == {
        "type": "websocket.close",
        "code": 4000,
        "reason": "Replaced by a newer connection",
    }
    await communicator.disconnect()


async def test_a_failing_channel_layer_listener_ends_the_connection_with_its_error():
    communicator = await connected("LOOP3")
    consumer = registry.connected["LOOP3"]
    await get_channel_layer().send(consumer.channel_name, {"type": "no.such.event"})
    with pytest.raises(ValueError, match="No handler for message type no.such.event"):
        await communicator.wait(timeout=5)
