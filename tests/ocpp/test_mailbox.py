"""The process's one channel-layer inbox: events reach the recipient their
address names, and nobody waits for an event that cannot be delivered."""

import asyncio
import logging
import time

import pytest

from apps.chargepoints.models import ChargePoint
from apps.ocpp import mailbox
from apps.ocpp.dispatch import _deliver


async def test_an_event_reaches_the_recipient_its_address_names():
    box = await mailbox.of_this_loop()
    got = {"a": [], "b": []}
    a = box.open(got["a"].append)
    b = box.open(got["b"].append)
    await mailbox.send(b, {"type": "x.y", "n": 1})
    answer_to, answer = box.expect()
    await mailbox.send(answer_to, {"type": "done"})
    await asyncio.wait_for(answer, 5)
    box.close(a)
    box.close(b)
    assert got == {"a": [], "b": [{"type": "x.y", "n": 1}]}
    assert a.startswith(box.channel + "#") and a != b


async def test_a_recipient_still_busy_with_its_event_holds_up_no_other():
    box = await mailbox.of_this_loop()
    release = asyncio.Event()

    async def slow(event):
        await release.wait()

    slow_address = box.open(slow)
    answer_to, answer = box.expect()
    await mailbox.send(slow_address, {"type": "slow"})
    await mailbox.send(answer_to, {"type": "quick"})
    assert await asyncio.wait_for(answer, 5) == {"type": "quick"}
    release.set()
    box.close(slow_address)


async def test_an_event_for_a_closed_address_is_answered_undelivered():
    box = await mailbox.of_this_loop()
    gone = box.open(lambda event: None)
    box.close(gone)
    answer_to, answer = box.expect()
    await mailbox.send(gone, {"type": "ocpp.call", "reply_to": answer_to})
    assert await asyncio.wait_for(answer, 5) == {
        "type": "ocpp.call.reply",
        "undelivered": True,
    }


async def test_a_failing_recipient_is_logged_and_delivery_goes_on(caplog):
    box = await mailbox.of_this_loop()

    async def failing(event):
        raise ValueError("broken recipient")

    broken = box.open(failing)
    answer_to, answer = box.expect()
    with caplog.at_level(logging.ERROR, logger="apps.ocpp.mailbox"):
        await mailbox.send(broken, {"type": "x"})
        await mailbox.send(answer_to, {"type": "after"})
        assert await asyncio.wait_for(answer, 5) == {"type": "after"}
        await asyncio.sleep(0)
    box.close(broken)
    (record,) = [r for r in caplog.records if r.message.endswith("a recipient failed")]
    assert str(record.exc_info[1]) == "broken recipient"


async def test_the_listener_receives_again_after_the_channel_layer_failed(
    monkeypatch, caplog
):
    monkeypatch.setattr(mailbox, "RETRY_S", 0)

    class FlakyLayer:
        def __init__(self):
            self.events = asyncio.Queue()
            self.failures = 1

        async def new_channel(self):
            return "specific.flaky!1"

        async def receive(self, channel):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("Redis went away")
            return await self.events.get()

    layer = FlakyLayer()
    box = mailbox.Mailbox(layer, asyncio.get_running_loop())
    await box.start()
    answer_to, answer = box.expect()
    await layer.events.put({"type": "late", "to": answer_to.rpartition("#")[2]})
    assert await asyncio.wait_for(answer, 5) == {"type": "late"}
    assert "could not receive; retrying" in caplog.text


def test_each_event_loop_has_a_mailbox_of_its_own():
    async def channel():
        box = await mailbox.of_this_loop()
        # Mailboxes of loops that have ended are dropped.
        assert all(not loop.is_closed() for loop in mailbox._boxes)
        return box.channel

    first, second = asyncio.run(channel()), asyncio.run(channel())
    assert first != second


@pytest.mark.django_db(transaction=True)
async def test_a_command_for_a_connection_closed_meanwhile_is_offline_at_once():
    """The station's row still names a connection that has just closed: the
    command comes back offline instead of waiting out its timeout."""
    box = await mailbox.of_this_loop()
    closed = box.open(lambda event: None)
    box.close(closed)
    station = ChargePoint(id="GONE1", ocpp_version="1.6", channel_name=closed)
    started = time.monotonic()
    reply = await _deliver(station, "Reset", {"type": "Soft"}, 30, "u-1")
    assert reply == {"outcome": "offline"}
    assert time.monotonic() - started < 2
