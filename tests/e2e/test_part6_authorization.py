"""OCPP 2.0.1 Part 6, block C (authorization): the CSMS-side cases.

Each case is played by a test station against the live server, step by step
as Part 6 writes it; its "Tool validations" are the assertions, plus what the
CSMS recorded. "<Configured ...>" tokens are registered in the station's
organization (``tests.e2e.charging``). Not automated: TC_C_50/51 (ISO 15118
contract certificates with OCSP, not built).
"""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async

from apps.organizations.models import Organization
from apps.transactions.models import IdTag
from tests.e2e.charging import (
    BLOCKED,
    EXPIRED,
    GROUP,
    INVALID,
    MASTER,
    MASTER_PASS_GROUP,
    VALID,
    VALID2,
    api_transaction,
    ocpp,
    register,
    set_stop_token_policy,
)
from tests.e2e.command_helpers import commanding, station_url
from tests.e2e.config_helpers import LocalList
from tests.e2e.tx201 import Tx201

pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTED = {"status": "Accepted"}
IN_GROUP = {"status": "Accepted", "groupIdToken": {"idToken": GROUP, "type": "Central"}}
MASTER_PASS = {
    "status": "Accepted",
    "groupIdToken": {"idToken": MASTER_PASS_GROUP, "type": "Central"},
}


async def _register(station_id: str, token: dict, **fields) -> IdTag:
    return await sync_to_async(register)(station_id, token, **fields)


async def _two_of_a_group(station_id: str) -> None:
    """Memory state: two valid idTokens with the same GroupId; and an
    organization that refuses strangers' stop tokens, so that the group is
    what lets one stop the other's session."""
    await _register(station_id, VALID, parent=GROUP)
    await _register(station_id, VALID2, parent=GROUP)
    await sync_to_async(set_stop_token_policy)(
        station_id, Organization.StopTokenMismatch.REJECT
    )


async def _authorize(station, token: dict) -> dict:
    return (await ocpp(station, "Authorize", {"idToken": token})).payload


async def test_tc_c_02_authorize_unknown_token_is_invalid(live):
    async with commanding(live, "TCC02", "2.0.1") as (station, _api):
        # 1-2: a token the CSMS does not know
        answer = await _authorize(station, INVALID)
    assert answer == {"idTokenInfo": {"status": "Invalid"}}


async def test_tc_c_06_authorize_blocked_token_is_blocked(live):
    async with commanding(live, "TCC06", "2.0.1") as (station, _api):
        await _register("TCC06", BLOCKED, status=IdTag.Status.BLOCKED)
        answer = await _authorize(station, BLOCKED)
    assert answer == {"idTokenInfo": {"status": "Blocked"}}


async def test_tc_c_07_authorize_expired_token_is_expired(live):
    async with commanding(live, "TCC07", "2.0.1") as (station, _api):
        # set Expired at the CSMS: by status, or by a passed expiry date
        await _register("TCC07", EXPIRED, status=IdTag.Status.EXPIRED)
        by_date = {"idToken": "OCTT-EXPIRED-DATE", "type": "ISO14443"}
        expired_on = datetime(2026, 1, 1, tzinfo=UTC)
        await _register("TCC07", by_date, expiry_date=expired_on)
        answers = [await _authorize(station, t) for t in (EXPIRED, by_date)]
    assert answers == [
        {"idTokenInfo": {"status": "Expired"}},
        {
            "idTokenInfo": {
                "status": "Expired",
                "cacheExpiryDateTime": "2026-01-01T00:00:00.000Z",
            }
        },
    ]


async def _cached_token_case(live, station_id: str, token: dict) -> tuple:
    async with commanding(live, station_id, "2.0.1") as (station, api):
        await _register(station_id, VALID)
        tx = Tx201(station, f"{station_id}-TX", id_token=token)
        # given: EVConnectedPreSession (TxStartPoint ParkingBayOccupancy)
        await tx.ev_connected_pre_session()
        # 1-2: the token from the station's cache, no AuthorizeRequest
        answer = await tx.event("Authorized", id_token=True)
        record = await api_transaction(api, station_id, tx.transaction_id)
    return answer.payload, record


async def test_tc_c_08_cached_accepted_token_is_accepted_in_transaction_event(live):
    answer, record = await _cached_token_case(live, "TCC08", VALID)
    assert answer == {"idTokenInfo": ACCEPTED}
    assert (record["id_tag"], record["auth_status"], record["status"]) == (
        VALID["idToken"],
        "Accepted",
        "active",
    )


async def test_tc_c_20_cached_token_unknown_to_the_csms_is_invalid(live):
    answer, record = await _cached_token_case(live, "TCC20", INVALID)
    assert answer == {"idTokenInfo": {"status": "Invalid"}}
    assert (record["id_tag"], record["auth_status"]) == (INVALID["idToken"], "Invalid")


async def _clear_cache(live, station_id: str, status: str) -> tuple[dict, list]:
    async with commanding(live, station_id, "2.0.1") as (station, api):
        station.replies["ClearCache"] = {"status": status}
        # Manual action: the operator asks; 1-2: ClearCacheRequest/Response
        response = await api.post(station_url(station_id, "clear-cache/"), json={})
    assert response.status_code == 200, response.text
    return response.json(), station.received_calls


async def test_tc_c_37_clear_authorization_cache_accepted(live):
    answer, calls = await _clear_cache(live, "TCC37", "Accepted")
    assert calls == [("ClearCache", {})]
    assert (answer["status"], answer["response"]) == (
        "Accepted",
        {"status": "Accepted"},
    )


async def test_tc_c_38_clear_authorization_cache_rejected(live):
    answer, calls = await _clear_cache(live, "TCC38", "Rejected")
    assert calls == [("ClearCache", {})]
    assert (answer["status"], answer["response"]) == (
        "Rejected",
        {"status": "Rejected"},
    )


async def _stop_by_group_member(tx: Tx201) -> dict:
    """Steps 8-11 of C39 (5-8 of C40, 6-9 of C43): the other card stops."""
    stop = await tx.event("StopAuthorized", id_token=VALID2)
    await tx.ev_connected_post_session()
    await tx.ev_disconnected()
    return stop.payload


async def test_tc_c_39_authorization_by_group_id_success(live):
    async with commanding(live, "TCC39", "2.0.1") as (station, api):
        await _two_of_a_group("TCC39")
        tx = Tx201(station, "TCC39-TX", id_token=VALID)
        await tx.ev_connected_pre_session()
        # 1-2
        step2 = await _authorize(station, VALID2)
        # 3-4
        step4 = (await tx.event("Authorized", id_token=True)).payload
        # 5
        await tx.energy_transfer_started()
        # 6-7
        step7 = await _authorize(station, VALID2)
        # 8-11
        step9 = await _stop_by_group_member(tx)
        record = await api_transaction(api, "TCC39", tx.transaction_id)
    assert step2 == {"idTokenInfo": IN_GROUP}
    assert step4 == {"idTokenInfo": IN_GROUP}
    assert step7 == {"idTokenInfo": IN_GROUP}
    assert step9 == {"idTokenInfo": IN_GROUP}
    assert (record["status"], record["stop_id_tag"], record["stop_token_mismatch"]) == (
        "completed",
        VALID2["idToken"],
        False,
    )


async def _in_the_local_list(station, api, station_id: str) -> LocalList:
    """Memory state: both tokens configured in the station's local list (as
    the CSMS sends it; D01), with their GroupId."""
    local_list = LocalList("2.0.1")
    local_list.install(station)
    response = await api.post(
        station_url(station_id, "local-list/"), json={"update_type": "Full"}
    )
    assert response.status_code == 200, response.text
    return local_list


async def test_tc_c_40_authorization_by_group_id_with_local_list(live):
    async with commanding(live, "TCC40", "2.0.1") as (station, api):
        await _two_of_a_group("TCC40")
        local_list = await _in_the_local_list(station, api, "TCC40")
        tx = Tx201(station, "TCC40-TX", id_token=VALID)
        await tx.ev_connected_pre_session()
        # 1-2: the token from the local list, no AuthorizeRequest
        step2 = (await tx.event("Authorized", id_token=True)).payload
        # 3
        await tx.energy_transfer_started()
        # 5-8
        step6 = await _stop_by_group_member(tx)
        record = await api_transaction(api, "TCC40", tx.transaction_id)
    assert {token: info["status"] for token, info in local_list.entries.items()} == {
        VALID["idToken"]: "Accepted",
        VALID2["idToken"]: "Accepted",
    }
    assert step2 == {"idTokenInfo": IN_GROUP}
    assert step6 == {"idTokenInfo": IN_GROUP}
    assert (record["status"], record["stop_token_mismatch"]) == ("completed", False)


async def test_tc_c_43_authorization_by_group_id_invalid_status_with_local_list(
    live,
):
    async with commanding(live, "TCC43", "2.0.1") as (station, api):
        await _two_of_a_group("TCC43")
        await _in_the_local_list(station, api, "TCC43")
        tx = Tx201(station, "TCC43-TX", id_token=VALID)
        await tx.ev_connected_pre_session()
        # 1-2
        step1 = (await tx.event("Authorized", id_token=True)).payload
        # 3
        await tx.energy_transfer_started()
        # 4-5: the station asks the CSMS rather than trusting its list
        step5 = await _authorize(station, VALID2)
        # 6-9
        step7 = await _stop_by_group_member(tx)
        record = await api_transaction(api, "TCC43", tx.transaction_id)
    assert step1 == {"idTokenInfo": IN_GROUP}
    assert step5 == {"idTokenInfo": IN_GROUP}
    assert step7 == {"idTokenInfo": IN_GROUP}
    assert (record["status"], record["stop_token_mismatch"]) == ("completed", False)


async def _two_sessions(station, station_id: str) -> list[Tx201]:
    """EnergyTransferStarted on EVSE 1 with valid idToken, on EVSE 2 with
    valid idToken2; an idToken with the MasterPass as GroupId configured."""
    await _register(station_id, VALID)
    await _register(station_id, VALID2)
    await _register(station_id, MASTER, parent=MASTER_PASS_GROUP)
    # A stranger's stop token would be refused: the MasterPass is the exception.
    await sync_to_async(set_stop_token_policy)(
        station_id, Organization.StopTokenMismatch.REJECT
    )
    sessions = [
        Tx201(station, f"{station_id}-EVSE{n}", id_token=token, evse_id=n)
        for n, token in ((1, VALID), (2, VALID2))
    ]
    for tx in sessions:
        await tx.energy_transfer_started()
    return sessions


async def _master_pass_stop(tx: Tx201, token: dict) -> dict:
    answer = await tx.event(
        "StopAuthorized",
        event_type="Ended",
        id_token=token,
        stopped_reason="MasterPass",
        charging_state="EVConnected",
    )
    return answer.payload


async def _records(api, station_id: str, sessions: list[Tx201]) -> list[tuple]:
    return [
        (
            record["status"],
            record["stop_reason"],
            record["stop_id_tag"],
            record["stop_token_mismatch"],
        )
        for record in [
            await api_transaction(api, station_id, tx.transaction_id) for tx in sessions
        ]
    ]


async def test_tc_c_47_master_pass_with_ui_stops_all_transactions(live):
    async with commanding(live, "TCC47", "2.0.1") as (station, api):
        sessions = await _two_sessions(station, "TCC47")
        # 1-2
        step2 = await _authorize(station, MASTER)
        # 3-4: for both EVSE
        step4 = [await _master_pass_stop(tx, MASTER) for tx in sessions]
        records = await _records(api, "TCC47", sessions)
    assert step2 == {"idTokenInfo": MASTER_PASS}
    assert [answer["idTokenInfo"] for answer in step4] == [MASTER_PASS] * 2
    assert records == [("completed", "MasterPass", MASTER["idToken"], False)] * 2


async def test_tc_c_48_master_pass_with_ui_stops_a_specific_transaction(live):
    async with commanding(live, "TCC48", "2.0.1") as (station, api):
        sessions = await _two_sessions(station, "TCC48")
        # 1-2: the validation of step 2 (groupIdToken is the MasterPassGroupId)
        # is the masterpass idToken's answer
        step2 = await _authorize(station, MASTER)
        # 3-4: the user chose the transaction of EVSE 1
        step4 = await _master_pass_stop(sessions[0], MASTER)
        records = await _records(api, "TCC48", sessions)
    assert step2 == {"idTokenInfo": MASTER_PASS}
    assert step4["idTokenInfo"] == MASTER_PASS
    assert records == [
        ("completed", "MasterPass", MASTER["idToken"], False),
        ("active", "", "", False),
    ]


async def test_tc_c_49_master_pass_without_ui_stops_all_transactions(live):
    async with commanding(live, "TCC49", "2.0.1") as (station, api):
        sessions = await _two_sessions(station, "TCC49")
        # 1-2
        step2 = await _authorize(station, MASTER)
        # 3-4: for both EVSE, with the valid idToken (C16.FR.02)
        step4 = [await _master_pass_stop(tx, VALID) for tx in sessions]
        records = await _records(api, "TCC49", sessions)
    assert step2 == {"idTokenInfo": MASTER_PASS}
    assert [answer["idTokenInfo"] for answer in step4] == [ACCEPTED] * 2
    assert records == [("completed", "MasterPass", VALID["idToken"], False)] * 2


async def test_an_expiry_date_in_the_future_is_the_cache_expiry(live):
    # C01.FR.06 (idTokenInfo.cacheExpiryDateTime) beside the Part 6 cases
    async with commanding(live, "TCC-EXP", "2.0.1") as (station, _api):
        until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        await _register("TCC-EXP", VALID, expiry_date=until)
        answer = await _authorize(station, VALID)
    assert answer == {
        "idTokenInfo": {
            "status": "Accepted",
            "cacheExpiryDateTime": until.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
        }
    }
