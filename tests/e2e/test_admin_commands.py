"""The admin's command pages against a real station on the live server."""

import httpx
import pytest
from asgiref.sync import sync_to_async

from apps.organizations.models import Membership
from tests.e2e.command_helpers import connect_station
from tests.e2e.helpers import make_station
from tests.factories import USER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _operator(organization) -> str:
    user = UserFactory(is_staff=True)
    Membership.objects.create(user=user, organization=organization, role="operator")
    return user.username


async def _logged_in(base_url: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    await client.get("/admin/login/")
    answer = await client.post(
        "/admin/login/",
        data={
            "username": username,
            "password": USER_PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
            "next": "/admin/",
        },
    )
    assert answer.status_code == 302, answer.text
    return client


async def test_operator_resets_a_station_from_its_page_after_confirming(live):
    # given: an operator in the admin and a connected 2.0.1 station
    cp = await sync_to_async(make_station)("ADM-1")
    username = await sync_to_async(_operator)(cp.organization)
    station = await connect_station(live.ws_url, "ADM-1", "2.0.1")
    station.replies["Reset"] = {"status": "Scheduled"}
    admin = await _logged_in(live.http_url, username)
    url = "/admin/chargepoints/chargepoint/ADM-1/commands/reset/"
    form = {"type": "Soft", "csrfmiddlewaretoken": admin.cookies["csrftoken"]}
    try:
        page = await admin.get("/admin/chargepoints/chargepoint/ADM-1/change/")
        # when: the form is sent, then confirmed
        asked = await admin.post(url, data=form)
        heard_before_confirming = list(station.received_calls)
        done = await admin.post(url, data={**form, "confirmed": "yes"})
    finally:
        await admin.aclose()
        await station.close()
    # then
    assert url in page.text
    assert "Are you sure?" in asked.text and heard_before_confirming == []
    assert station.received_calls == [("Reset", {"type": "OnIdle"})]
    assert "The station answered" in done.text and "Scheduled" in done.text
