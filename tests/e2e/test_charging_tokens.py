"""Who may start and stop a session: tokens end to end, 1.6 and 2.0.1.

1.6 §4.8 (a non-Accepted token's session is recorded all the same) and §4.10
(the stop idTag must be the start's or share its parentIdTag); 2.0.1 C01
(Authorize, NoAuthorization), C09 (GroupId). A stop with a stranger's token
is recorded as an anomaly and answered per the organization's policy; other
organizations' tokens are accepted only where the organization allows it.
"""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async

from apps.organizations.models import Organization
from apps.transactions.models import IdTag
from tests.e2e.charging import (
    at,
    get_json,
    ocpp,
    session_start,
    start16,
    stop16,
    tag,
    tenant,
)
from tests.e2e.command_helpers import api_client, connect_station
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)


async def _start(station, t0, **fields):
    return await ocpp(station, "StartTransaction", start16(t0, **fields))


async def _listed(api, station_id: str) -> dict:
    page = await get_json(api, f"/api/v1/transactions/?charge_point={station_id}")
    assert page["count"] == 1, page
    return page["results"][0]


# --- OCPP 1.6 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "answer"),
    [
        (Organization.StopTokenMismatch.REJECT, {"status": "Invalid"}),
        (Organization.StopTokenMismatch.ACCEPT_AND_FLAG, {"status": "Accepted"}),
    ],
)
async def test_16_stop_with_another_drivers_token_is_answered_per_policy_and_flagged(
    live, policy, answer
):
    # given: two valid cards that share no group
    mine = await tenant("volt", "CP16-WRONG", stop_token_mismatch=policy)
    await tag(mine, "CARD-A")
    await tag(mine, "CARD-B")
    station = await connect_station(live.ws_url, "CP16-WRONG", "1.6")
    t0 = session_start()
    start = await _start(station, t0, id_tag="CARD-A")
    tx_id = start.payload["transactionId"]

    # when: the session is stopped with the other card
    stop = await ocpp(
        station,
        "StopTransaction",
        stop16(tx_id, t0, 20, 14000, idTag="CARD-B", reason="Local"),
    )
    await station.close()

    # then: answered per the organization's policy; recorded and flagged
    assert stop.payload == {"idTagInfo": answer}
    async with api_client(live.http_url, mine.jwt) as api:
        flagged = await get_json(api, "/api/v1/transactions/?stop_token_mismatch=true")
    assert [
        (t["id"], t["status"], t["id_tag"], t["stop_id_tag"], t["stop_token_mismatch"])
        for t in flagged["results"]
    ] == [(tx_id, "completed", "CARD-A", "CARD-B", True)]
    assert flagged["results"][0]["energy_wh"] == 2000


async def test_16_stop_with_a_token_of_the_same_group_is_accepted_and_not_flagged(live):
    # given: two cards of one family (parentIdTag), the org rejects strangers
    mine = await tenant(
        "volt", "CP16-GRP", stop_token_mismatch=Organization.StopTokenMismatch.REJECT
    )
    await tag(mine, "CARD-MUM", parent="FAMILY")
    await tag(mine, "CARD-DAD", parent="FAMILY")
    station = await connect_station(live.ws_url, "CP16-GRP", "1.6")
    t0 = session_start()
    start = await _start(station, t0, id_tag="CARD-MUM")

    # when
    stop = await ocpp(
        station,
        "StopTransaction",
        stop16(start.payload["transactionId"], t0, 20, 14000, idTag="CARD-DAD"),
    )
    await station.close()

    # then
    assert stop.payload == {
        "idTagInfo": {"status": "Accepted", "parentIdTag": "FAMILY"}
    }
    async with api_client(live.http_url, mine.jwt) as api:
        tx = await _listed(api, "CP16-GRP")
    assert (tx["stop_id_tag"], tx["stop_token_mismatch"]) == ("CARD-DAD", False)


@pytest.mark.parametrize(
    ("status", "expiry_days", "expected"),
    [
        (IdTag.Status.ACCEPTED, None, "Accepted"),
        (IdTag.Status.BLOCKED, None, "Blocked"),
        (IdTag.Status.ACCEPTED, -1, "Expired"),
        (IdTag.Status.INVALID, None, "Invalid"),
    ],
)
async def test_16_a_started_session_is_recorded_whatever_its_token_status(
    live, status, expiry_days, expected
):
    # given: 1.6 §4.8: the station has started; the answer tells it to stop
    mine = await tenant("volt", "CP16-ST")
    expiry = datetime.now(UTC) + timedelta(days=expiry_days) if expiry_days else None
    await tag(mine, "CARD-X", status=status, expiry_date=expiry)
    station = await connect_station(live.ws_url, "CP16-ST", "1.6")

    # when
    authorize = await ocpp(station, "Authorize", {"idTag": "CARD-X"})
    start = await _start(station, session_start(), id_tag="CARD-X")
    await station.close()

    # then
    assert authorize.payload["idTagInfo"]["status"] == expected
    assert start.payload["idTagInfo"] == authorize.payload["idTagInfo"]
    async with api_client(live.http_url, mine.jwt) as api:
        tx = await _listed(api, "CP16-ST")
    assert (tx["transaction_id"], tx["auth_status"], tx["status"]) == (
        start.payload["transactionId"],
        expected,
        "active",
    )


async def test_16_an_unknown_token_is_invalid(live):
    await tenant("volt", "CP16-UNKNOWN")
    station = await connect_station(live.ws_url, "CP16-UNKNOWN", "1.6")

    authorize = await ocpp(station, "Authorize", {"idTag": "NOBODY"})
    await station.close()

    assert authorize.payload == {"idTagInfo": {"status": "Invalid"}}


# --- OCPP 2.0.1 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "status"),
    [
        (Organization.StopTokenMismatch.REJECT, "Invalid"),
        (Organization.StopTokenMismatch.ACCEPT_AND_FLAG, "Accepted"),
    ],
)
async def test_201_stop_with_another_drivers_token_is_answered_per_policy_and_flagged(
    live, policy, status
):
    # given: two valid cards that share no group
    mine = await tenant("watt", "CP201-WRONG", stop_token_mismatch=policy)
    await tag(mine, "CARD-A")
    await tag(mine, "CARD-B")
    station = await connect_station(live.ws_url, "CP201-WRONG", "2.0.1")
    tx = Tx201(station, "WRONG-1", id_token={"idToken": "CARD-A", "type": "ISO14443"})
    t0 = session_start()
    await tx.event("Authorized", timestamp=at(t0), id_token=True)

    # when: the other card stops it
    stop = await tx.event(
        "StopAuthorized",
        timestamp=at(t0, 10),
        id_token={"idToken": "CARD-B", "type": "ISO14443"},
    )
    await tx.event(
        "EVCommunicationLost",
        event_type="Ended",
        timestamp=at(t0, 11),
        stopped_reason="EVDisconnected",
    )
    await station.close()

    # then
    assert stop.payload == {"idTokenInfo": {"status": status}}
    async with api_client(live.http_url, mine.jwt) as api:
        flagged = await get_json(api, "/api/v1/transactions/?stop_token_mismatch=true")
    assert [
        (t["transaction_id"], t["status"], t["id_tag"], t["stop_id_tag"])
        for t in flagged["results"]
    ] == [("WRONG-1", "completed", "CARD-A", "CARD-B")]


@pytest.mark.parametrize(
    ("accept_foreign", "status"), [(False, "Invalid"), (True, "Accepted")]
)
async def test_another_organizations_token_is_accepted_only_if_the_org_allows(
    live, accept_foreign, status
):
    # given: the card belongs to another operator's customers
    mine = await tenant("watt", "CP201-ROAM")
    theirs = await tenant("other", "CP201-HOME")
    await tag(theirs, "THEIR-CARD")

    def allow():
        Organization.objects.filter(pk=mine.organization.pk).update(
            accept_foreign_tokens=accept_foreign
        )

    await sync_to_async(allow)()
    station = await connect_station(live.ws_url, "CP201-ROAM", "2.0.1")

    # when
    answer = await ocpp(
        station, "Authorize", {"idToken": {"idToken": "THEIR-CARD", "type": "ISO14443"}}
    )
    await station.close()

    # then
    assert answer.payload == {"idTokenInfo": {"status": status}}


async def test_201_a_no_authorization_token_is_accepted(live):
    # C02.FR.02: a start button, nobody identified
    await tenant("watt", "CP201-FREE")
    station = await connect_station(live.ws_url, "CP201-FREE", "2.0.1")

    answer = await ocpp(
        station, "Authorize", {"idToken": {"idToken": "", "type": "NoAuthorization"}}
    )
    await station.close()

    assert answer.payload == {"idTokenInfo": {"status": "Accepted"}}
