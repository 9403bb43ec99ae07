"""channels_redis's layer, with a receive that survives a consumer closing.

In one process, whichever consumer holds the layer's receive lock pops the
next message for *every* consumer (BZPOPMIN on the process channel) and files
it in their buffers. When that consumer closes, Channels cancels its receive;
a pop Redis had already answered was then dropped, and another consumer's
message with it (channels_redis #366, channels #1683), or the cancellation was
swallowed inside redis-py and the closed consumer's task never ended, holding
up server shutdown. Here the pop runs in its own task: the caller may be
cancelled at once; the next receiver takes the pop over and files its message.
"""

from __future__ import annotations

import asyncio

from channels_redis import core


class RedisChannelLayer(core.RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # At most one pop per channel key; a cancelled caller leaves it to the
        # next receiver, which files what it brings.
        self._pops: dict[str, asyncio.Task] = {}

    async def receive_single(self, channel):
        pop = self._pops.get(channel)
        if pop is None or (pop.done() and (pop.cancelled() or pop.exception())):
            pop = asyncio.ensure_future(super().receive_single(channel))
            self._pops[channel] = pop
        result = await asyncio.shield(pop)
        del self._pops[channel]
        return result

    async def flush(self):
        for pop in self._pops.values():
            pop.cancel()
        self._pops.clear()
        await super().flush()
