"""The publisher's sender: events go out in publication order, and what was
published meanwhile goes in one channel-layer message per organization."""

import asyncio

from channels.layers import get_channel_layer

from apps.events import publisher
from apps.events.publisher import build_event, organization_group


async def test_a_burst_of_events_goes_out_in_order_in_one_message_per_run(
    monkeypatch,
):
    layer = get_channel_layer()
    sent = []
    group_send = layer.group_send

    async def counted(group, message):
        sent.append((group, len(message["events"])))
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", counted)
    subscriber = await layer.new_channel()
    for organization in (1, 2):
        await layer.group_add(organization_group(organization), subscriber)
    publisher.bind_server_loop(asyncio.get_running_loop())

    organizations = [1] * 30 + [2] * 5 + [1] * 5
    for n, organization in enumerate(organizations):
        event = build_event("charge_point.status_changed", organization, {"n": n})
        publisher._deliver(event)
    received = []
    while len(received) < len(organizations):
        message = await asyncio.wait_for(layer.receive(subscriber), 2)
        received += message["events"]

    assert [event["data"]["n"] for event in received] == list(range(40))
    assert sent == [
        (organization_group(1), 30),
        (organization_group(2), 5),
        (organization_group(1), 5),
    ]
