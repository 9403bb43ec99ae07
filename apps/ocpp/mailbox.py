"""One channel-layer inbox per process, for all its stations and commands.

Channels gives every consumer a channel of its own, and channels_redis a
receive per channel: a chain of three tasks, a lock and a queue waiting in
every connected station (about 30 objects and 6 KiB each, bench/README.md),
for events that come once in a while: a command from another process, "you
were replaced". Here the process receives on one channel, and each event
names its recipient: a connection, or a command waiting for its answer.

An address is ``<channel>#<key>``: the channel of the process that holds the
recipient and the recipient's key there. ``send`` also takes a plain channel
name.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

SEPARATOR = "#"  # never part of a channel name
RETRY_S = 1.0  # after the channel layer failed to receive

Recipient = Callable[[dict], Awaitable[None] | None]

_boxes: dict[asyncio.AbstractEventLoop, Mailbox] = {}


async def of_this_loop() -> Mailbox:
    """The running loop's mailbox, listening once this returns."""
    loop = asyncio.get_running_loop()
    box = _boxes.get(loop)
    if box is None:
        for old in [old for old in _boxes if old.is_closed()]:
            del _boxes[old]
        box = _boxes[loop] = Mailbox(get_channel_layer(), loop)
    await box.start()
    return box


async def send(address: str, event: dict) -> None:
    """Post ``event`` to the recipient at ``address`` (from any process)."""
    channel, separator, key = address.partition(SEPARATOR)
    if separator:
        event = {**event, "to": key}
    await get_channel_layer().send(channel, event)


class Mailbox:
    """The channel a process receives on, and who gets what comes in.

    A recipient returning an awaitable runs in a task of its own, so that one
    slow to take its event (a close waiting for a full send buffer) holds up
    no other. An event that names no present recipient is dropped; if it asks
    for an answer (``reply_to``), the answer says so (``undelivered``), and
    its sender need not wait out its timeout.
    """

    def __init__(self, layer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.channel = ""
        self._recipients: dict[str, Recipient] = {}
        self._keys = itertools.count()
        self._starting: asyncio.Future | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        if self._starting is None:
            self._starting = self.loop.create_future()
            try:
                self.channel = await self.layer.new_channel()
            except BaseException as error:
                self._starting.set_exception(error)
                self._starting = None
                raise
            self._keep(self.loop.create_task(self._listen()))
            self._starting.set_result(None)
        await asyncio.shield(self._starting)

    def open(self, recipient: Recipient) -> str:
        """A new address delivering to ``recipient`` until ``close``."""
        key = str(next(self._keys))
        self._recipients[key] = recipient
        return f"{self.channel}{SEPARATOR}{key}"

    def close(self, address: str) -> None:
        self._recipients.pop(address.rpartition(SEPARATOR)[2], None)

    def expect(self) -> tuple[str, asyncio.Future]:
        """An address for one answer, and the future it resolves."""
        answer = self.loop.create_future()

        def resolve(event: dict) -> None:
            if not answer.done():
                answer.set_result(event)

        return self.open(resolve), answer

    async def _listen(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except Exception:
                logger.exception("Mailbox %s could not receive; retrying", self.channel)
                await asyncio.sleep(RETRY_S)
                continue
            self.deliver(event)

    def deliver(self, event: dict) -> None:
        recipient = self._recipients.get(event.pop("to", None))
        if recipient is None:
            self._undelivered(event)
            return
        outcome = recipient(event)
        if inspect.isawaitable(outcome):
            self._keep(self.loop.create_task(outcome))

    def _undelivered(self, event: dict) -> None:
        logger.debug("Mailbox %s: no recipient for %s", self.channel, event.get("type"))
        reply_to = event.get("reply_to")
        if reply_to:
            answer = {"type": f"{event.get('type')}.reply", "undelivered": True}
            self._keep(self.loop.create_task(send(reply_to, answer)))

    def _keep(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "Mailbox %s: a recipient failed",
                self.channel,
                exc_info=task.exception(),
            )
