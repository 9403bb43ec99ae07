"""The Redis channel layer loses no message when consumers come and go.

Stock channels_redis drops a message now and then when the consumer whose
receive pops for the whole process is cancelled (a station or feed closing),
and a cancelled receive could hang; csms.channel_layer fixes both.
"""

import asyncio
import os
import random

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from csms.channel_layer import RedisChannelLayer

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="set REDIS_URL to run"
)


def _layer() -> RedisChannelLayer:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    return RedisChannelLayer(**config, prefix=f"test-{random.getrandbits(32):x}")


def test_the_configured_layer_is_ours():
    assert isinstance(get_channel_layer(), RedisChannelLayer)


async def test_consumers_closing_lose_no_message_of_the_others():
    # given: three consumers listening, four more opening and closing all the time
    layer = _layer()
    listeners = [await layer.new_channel() for _ in range(3)]
    received = dict.fromkeys(listeners, 0)

    async def listen(channel):
        while True:
            await layer.receive(channel)
            received[channel] += 1

    async def come_and_go():
        while True:
            receive = asyncio.ensure_future(layer.receive(await layer.new_channel()))
            await asyncio.sleep(random.random() * 0.005)
            receive.cancel()
            await asyncio.wait([receive], timeout=10)

    background = [asyncio.ensure_future(listen(c)) for c in listeners]
    background += [asyncio.ensure_future(come_and_go()) for _ in range(4)]

    # when: each listener is sent a steady stream for four seconds
    loop = asyncio.get_running_loop()
    sent, end = 0, loop.time() + 4
    while loop.time() < end:
        for channel in listeners:
            await layer.send(channel, {"type": "tick"})
        sent += 1
        await asyncio.sleep(0.002)
    deadline = loop.time() + 10
    while min(received.values()) < sent and loop.time() < deadline:
        await asyncio.sleep(0.05)

    # then
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await layer.flush()
    assert list(received.values()) == [sent] * 3


async def test_a_cancelled_receive_ends_at_once():
    layer = _layer()
    for _ in range(30):
        receives = [
            asyncio.ensure_future(layer.receive(await layer.new_channel()))
            for _ in range(3)
        ]
        await asyncio.sleep(random.random() * 0.05)
        for receive in receives:
            receive.cancel()
            await asyncio.sleep(random.random() * 0.01)
        done, pending = await asyncio.wait(receives, timeout=2)
        assert not pending
    await layer.flush()


async def test_cancelling_every_task_ends_every_receive():
    # As a closing event loop does: the pops in flight are cancelled too.
    layer = _layer()
    for _ in range(20):
        receives = [
            asyncio.ensure_future(layer.receive(await layer.new_channel()))
            for _ in range(3)
        ]
        await asyncio.sleep(random.random() * 0.05)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        for task in others:
            task.cancel()
        done, pending = await asyncio.wait(others, timeout=2)
        assert not pending, pending
        assert all(r.done() for r in receives)
    await layer.flush()
