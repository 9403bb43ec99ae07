"""The operator event feed /ws/events/ against the real server (API.md "Events").

Who may listen (a JWT in ``?token=`` or the admin session), and that each
listener hears the events of their own organizations only.
"""

from datetime import timedelta

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import InvalidStatus

from apps.organizations.models import Membership
from tests.e2e.charging import EventFeed, make_tenant
from tests.e2e.command_helpers import connect_station
from tests.factories import USER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def _tenant(slug: str, station_id: str):
    return await sync_to_async(make_tenant)(slug, station_id)


async def _refused(url: str) -> int:
    """The HTTP status of a feed handshake the server refuses.

    The consumer closes before accepting (code 4401); over a real server that
    is a refused handshake: HTTP 403.
    """
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(url, open_timeout=10)
    return refused.value.response.status_code


async def test_a_station_connecting_changing_status_and_leaving_is_heard(live):
    # given
    mine = await _tenant("volt", "FEED-1")
    feed = await EventFeed.open(live.ws_url, mine.jwt)

    # when
    station = await connect_station(live.ws_url, "FEED-1", "1.6")
    await station.call(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Preparing",
            "timestamp": "2026-03-01T08:00:00Z",
        },
    )
    await feed.wait_for("charge_point.status_changed", 1)
    await station.close()
    await feed.wait_for("charge_point.disconnected", 1)
    await feed.close()

    # then
    connected, changed, disconnected = feed.events
    assert {e["organization"] for e in feed.events} == {mine.organization.pk}
    assert set(connected) == {"id", "type", "occurred_at", "organization", "data"}
    assert connected["type"] == "charge_point.connected"
    assert {k: connected["data"][k] for k in ("charge_point", "ocpp_version")} == {
        "charge_point": "FEED-1",
        "ocpp_version": "1.6",
    }
    assert changed["type"] == "charge_point.status_changed"
    assert {
        k: changed["data"][k]
        for k in ("charge_point", "evse_id", "connector_id", "status", "error_code")
    } == {
        "charge_point": "FEED-1",
        "evse_id": 1,
        "connector_id": 1,
        "status": "Preparing",
        "error_code": "",  # 1.6 NoError is stored as no error
    }
    assert changed["data"]["occurred_at"] == "2026-03-01T08:00:00Z"
    assert (disconnected["type"], disconnected["data"]) == (
        "charge_point.disconnected",
        {"charge_point": "FEED-1", "reason": "connection closed"},
    )
    assert len({e["id"] for e in feed.events}) == 3


async def test_each_organization_hears_its_own_stations_only(live):
    # given: two operators listening
    mine = await _tenant("volt", "FEED-MINE")
    theirs = await _tenant("other", "FEED-THEIRS")
    feeds = [
        await EventFeed.open(live.ws_url, mine.jwt),
        await EventFeed.open(live.ws_url, theirs.jwt),
    ]

    # when: my station connects first, theirs second (one publisher, in order)
    for station_id, feed in (("FEED-MINE", feeds[0]), ("FEED-THEIRS", feeds[1])):
        station = await connect_station(live.ws_url, station_id, "2.0.1")
        await feed.wait_for("charge_point.connected", 1)
        await station.close()
    for feed in feeds:
        await feed.wait_for("charge_point.disconnected", 1)
        await feed.close()

    # then
    heard = [{(e["type"], e["data"]["charge_point"]) for e in f.events} for f in feeds]
    assert heard == [
        {
            ("charge_point.connected", "FEED-MINE"),
            ("charge_point.disconnected", "FEED-MINE"),
        },
        {
            ("charge_point.connected", "FEED-THEIRS"),
            ("charge_point.disconnected", "FEED-THEIRS"),
        },
    ]


async def test_a_member_of_two_organizations_hears_both(live):
    # given
    mine = await _tenant("volt", "FEED-V")
    theirs = await _tenant("other", "FEED-O")

    def both():
        user = UserFactory()
        for tenant in (mine, theirs):
            Membership.objects.create(
                user=user, organization=tenant.organization, role="viewer"
            )
        return str(AccessToken.for_user(user))

    feed = await EventFeed.open(live.ws_url, await sync_to_async(both)())

    # when
    for station_id in ("FEED-V", "FEED-O"):
        station = await connect_station(live.ws_url, station_id, "1.6")
        await station.close()
    await feed.wait_for("charge_point.disconnected", 2)
    await feed.close()

    # then
    assert {
        (e["organization"], e["data"]["charge_point"])
        for e in feed.of_type("charge_point.connected")
    } == {(mine.organization.pk, "FEED-V"), (theirs.organization.pk, "FEED-O")}


async def test_the_admin_session_may_listen_too(live):
    # given: an operator logged in to the admin
    mine = await _tenant("volt", "FEED-ADMIN")

    def staff():
        user = UserFactory(is_staff=True)
        Membership.objects.create(
            user=user, organization=mine.organization, role="operator"
        )
        return user.username

    username = await sync_to_async(staff)()
    async with httpx.AsyncClient(base_url=live.http_url) as browser:
        await browser.get("/admin/login/")
        login = await browser.post(
            "/admin/login/",
            data={
                "username": username,
                "password": USER_PASSWORD,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers={"Referer": f"{live.http_url}/admin/login/"},
        )
        assert login.status_code == 302, login.text
        session = browser.cookies["sessionid"]

    # when: the feed with the session cookie, no token
    ws = await websockets.connect(
        f"{live.ws_url}/ws/events/",
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=10,
    )
    feed = EventFeed(ws)
    station = await connect_station(live.ws_url, "FEED-ADMIN", "1.6")
    await feed.wait_for("charge_point.connected", 1)
    await station.close()
    await feed.close()

    # then
    assert feed.events[0]["data"]["charge_point"] == "FEED-ADMIN"


async def test_without_valid_credentials_the_feed_refuses(live):
    # given: a user whose access token expired, and one who was deactivated
    def users():
        expired = AccessToken.for_user(UserFactory())
        expired.set_exp(lifetime=-timedelta(minutes=1))
        inactive = UserFactory(is_active=False)
        return str(expired), str(AccessToken.for_user(inactive))

    expired, inactive = await sync_to_async(users)()
    base = f"{live.ws_url}/ws/events/"

    # when / then
    assert await _refused(base) == 403
    assert await _refused(f"{base}?token=not-a-jwt") == 403
    assert await _refused(f"{base}?token={expired}") == 403
    assert await _refused(f"{base}?token={inactive}") == 403


async def test_the_feed_is_read_only(live):
    mine = await _tenant("volt", "FEED-RO")
    ws = await websockets.connect(
        f"{live.ws_url}/ws/events/?token={mine.jwt}", open_timeout=10
    )

    await ws.send('{"type": "transaction.started"}')
    reply = await ws.recv()
    await ws.close()

    assert reply == '{"error": "This feed is read-only."}'
