"""OCPP 2.0.1/2.1 TransactionEvent: Started/Updated/Ended, repeats, disorder."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.transactions.models import MeterValue, Transaction, TransactionEvent
from apps.transactions.services.events import (
    TransactionEventInput,
    transaction_event_record,
)
from apps.transactions.services.meter_values import SampledValueInput
from tests.factories import ChargePointFactory, OrganizationFactory
from tests.transactions.factories import IdTagFactory, TariffFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TX = "c1f6a0e2-5b1e-4a59-9d0b-0d7f2b7f0001"


@pytest.fixture
def station():
    return ChargePointFactory(id="CS201", ocpp_version="2.0.1")


@pytest.fixture
def card(station):
    return IdTagFactory(organization=station.organization, id_tag="RFID1")


def energy(
    minutes: int, wh: str, context: str = "Sample.Periodic"
) -> SampledValueInput:
    return SampledValueInput(
        timestamp=T0 + timedelta(minutes=minutes),
        raw_value=wh,
        measurand="Energy.Active.Import.Register",
        context=context,
        unit="Wh",
    )


def event(
    event_type: str, seq_no: int, minutes: int, **fields
) -> TransactionEventInput:
    return TransactionEventInput(
        event_type=event_type,
        timestamp=T0 + timedelta(minutes=minutes),
        trigger_reason=fields.pop("trigger_reason", "MeterValuePeriodic"),
        seq_no=seq_no,
        transaction_id=fields.pop("transaction_id", TX),
        **fields,
    )


def send(station, given: TransactionEventInput):
    return transaction_event_record(charge_point_id=station.pk, event=given)


def full_session() -> list[TransactionEventInput]:
    return [
        event(
            "Started",
            0,
            0,
            trigger_reason="Authorized",
            id_token="RFID1",
            id_token_type="ISO14443",
            evse_id=1,
            connector_id=1,
            charging_state="Charging",
            remote_start_id=17,
            samples=(energy(0, "1000", "Transaction.Begin"),),
        ),
        event("Updated", 1, 10, samples=(energy(10, "3000"),)),
        event("Updated", 2, 20, samples=(energy(20, "5000"),)),
        event(
            "Ended",
            3,
            30,
            trigger_reason="EVCommunicationLost",
            charging_state="Idle",
            stopped_reason="EVDisconnected",
            samples=(energy(30, "6500", "Transaction.End"),),
        ),
    ]


def test_a_whole_session_is_recorded_and_billed(
    station, card, published, django_capture_on_commit_callbacks
):
    # given
    TariffFactory(organization=station.organization, price_per_kwh=Decimal("0.40"))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        results = [send(station, given) for given in full_session()]

    # then
    tx = Transaction.objects.get()
    assert (tx.transaction_id, tx.ocpp_version, tx.evse_id, tx.connector_id) == (
        TX,
        "2.0.1",
        1,
        1,
    )
    assert (tx.id_tag, tx.token_id, tx.remote_start_id) == ("RFID1", card.pk, 17)
    assert (tx.started_at, tx.stopped_at) == (T0, T0 + timedelta(minutes=30))
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (
        Decimal(1000),
        Decimal(6500),
        Decimal(5500),
    )
    assert (tx.status, tx.stop_reason, tx.charging_state, tx.last_seq_no) == (
        "completed",
        "EVDisconnected",
        "Idle",
        3,
    )
    assert results[0].authorization.status == "Accepted"
    assert [r.authorization for r in results[1:]] == [None, None, None]
    assert [r.total_cost for r in results] == [None, None, None, Decimal("2.20")]
    assert MeterValue.objects.filter(transaction=tx).count() == 4
    assert [e["type"] for e in published] == [
        "transaction.started",
        "transaction.stopped",
        "transaction.billed",
    ]


def test_a_repeated_event_changes_nothing_and_gets_the_same_answer(
    station, card, published, django_capture_on_commit_callbacks
):
    # given
    TariffFactory(organization=station.organization)
    session = full_session()
    first = [send(station, given) for given in session]

    # when: the whole queue is sent again after a reconnect
    with django_capture_on_commit_callbacks(execute=True):
        again = [send(station, given) for given in session]

    # then
    assert [r.as_dict() for r in again] == [r.as_dict() for r in first]
    assert all(r.duplicate for r in again)
    assert TransactionEvent.objects.count() == 4
    assert MeterValue.objects.count() == 4
    assert published == []


def test_a_repeated_seq_no_with_other_content_is_still_a_repeat(station, card):
    started = full_session()[0]
    send(station, started)

    answer = send(station, replace(started, id_token="SOMEONE-ELSE"))

    assert answer.authorization.status == "Accepted"
    assert Transaction.objects.get().id_tag == "RFID1"


def test_events_arriving_out_of_order_end_up_the_same(station, card):
    # given: Ended first, then the two events it skipped (TC_E_31), then Started
    started, updated1, updated2, ended = full_session()

    # when
    for given in (ended, updated2, updated1, started):
        send(station, given)

    # then
    tx = Transaction.objects.get()
    assert (tx.started_at, tx.stopped_at, tx.status) == (
        T0,
        T0 + timedelta(minutes=30),
        "completed",
    )
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (
        Decimal(1000),
        Decimal(6500),
        Decimal(5500),
    )
    assert (tx.id_tag, tx.evse_id, tx.charging_state) == ("RFID1", 1, "Idle")
    assert tx.last_seq_no == 3


def test_late_events_of_a_completed_session_bill_it_again(
    station, card, published, django_capture_on_commit_callbacks
):
    # given: Ended arrived before Started, so the start meter was unknown
    TariffFactory(organization=station.organization, price_per_kwh=Decimal("1.00"))
    started, _, _, ended = full_session()
    send(station, ended)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        send(station, started)

    # then
    tx = Transaction.objects.get()
    assert tx.energy_wh == Decimal(5500)
    assert tx.billing.total == Decimal("5.50")
    assert [e["type"] for e in published] == ["transaction.billed"]
    assert published[0]["data"]["cost"] == "5.50"


def test_updated_before_started_takes_the_start_from_the_started_event(station, card):
    started, updated1, _, _ = full_session()

    send(station, updated1)
    send(station, started)

    tx = Transaction.objects.get()
    assert (tx.started_at, tx.meter_start, tx.status) == (T0, Decimal(1000), "active")
    assert tx.last_meter_wh == Decimal(3000)


def test_cable_plugged_in_first_then_authorized(station, card):
    # TC_E_03: the session starts without a token; Authorized brings it.
    send(
        station,
        event(
            "Started",
            0,
            0,
            trigger_reason="CablePluggedIn",
            charging_state="EVConnected",
            evse_id=1,
            connector_id=1,
        ),
    )

    answer = send(
        station,
        event(
            "Updated",
            1,
            1,
            trigger_reason="Authorized",
            id_token="RFID1",
            id_token_type="ISO14443",
        ),
    )

    tx = Transaction.objects.get()
    assert answer.authorization.status == "Accepted"
    assert (tx.id_tag, tx.auth_status, tx.started_at) == ("RFID1", "Accepted", T0)


def test_started_with_an_invalid_token_answers_invalid(station):
    # TC_E_16 / TC_C_20
    answer = send(
        station,
        event(
            "Started",
            0,
            0,
            trigger_reason="Authorized",
            id_token="NOPE",
            id_token_type="ISO14443",
        ),
    )

    assert answer.authorization.status == "Invalid"
    assert Transaction.objects.get().auth_status == "Invalid"


def test_stop_with_a_token_of_the_same_group_is_accepted_with_the_group(station):
    # TC_C_39: two cards of one group; the second stops what the first started.
    organization = station.organization
    IdTagFactory(organization=organization, id_tag="CARD-A", parent_id_tag="GROUP1")
    IdTagFactory(organization=organization, id_tag="CARD-B", parent_id_tag="GROUP1")
    send(
        station,
        event(
            "Started",
            0,
            0,
            trigger_reason="Authorized",
            id_token="CARD-A",
            id_token_type="ISO14443",
        ),
    )

    answer = send(
        station,
        event(
            "Updated",
            1,
            5,
            trigger_reason="StopAuthorized",
            id_token="CARD-B",
            id_token_type="ISO14443",
        ),
    )

    tx = Transaction.objects.get()
    assert (answer.authorization.status, answer.authorization.group_id_tag) == (
        "Accepted",
        "GROUP1",
    )
    assert (tx.stop_id_tag, tx.stop_token_mismatch) == ("CARD-B", False)


def test_stop_with_a_foreign_token_is_rejected_and_flagged_per_policy():
    organization = OrganizationFactory(stop_token_mismatch="reject")
    station = ChargePointFactory(organization=organization, ocpp_version="2.0.1")
    IdTagFactory(organization=organization, id_tag="CARD-A")
    IdTagFactory(organization=organization, id_tag="CARD-X")
    send(
        station,
        event(
            "Started",
            0,
            0,
            trigger_reason="Authorized",
            id_token="CARD-A",
            id_token_type="ISO14443",
        ),
    )

    answer = send(
        station,
        event(
            "Ended",
            1,
            5,
            trigger_reason="StopAuthorized",
            stopped_reason="Local",
            id_token="CARD-X",
            id_token_type="ISO14443",
        ),
    )

    tx = Transaction.objects.get()
    assert answer.authorization.status == "Invalid"
    assert (tx.status, tx.stop_token_mismatch, tx.stop_id_tag) == (
        "completed",
        True,
        "CARD-X",
    )


def test_master_pass_may_end_any_session(station):
    # TC_C_47/49: the station checked MasterPassGroupId itself.
    organization = station.organization
    organization.stop_token_mismatch = "reject"
    organization.save()
    IdTagFactory(organization=organization, id_tag="CARD-A")
    IdTagFactory(organization=organization, id_tag="POLICE", parent_id_tag="MASTER")
    send(
        station,
        event(
            "Started",
            0,
            0,
            trigger_reason="Authorized",
            id_token="CARD-A",
            id_token_type="ISO14443",
        ),
    )

    answer = send(
        station,
        event(
            "Ended",
            1,
            5,
            trigger_reason="StopAuthorized",
            stopped_reason="MasterPass",
            id_token="POLICE",
            id_token_type="ISO14443",
        ),
    )

    assert (answer.authorization.status, answer.authorization.group_id_tag) == (
        "Accepted",
        "MASTER",
    )
    assert Transaction.objects.get().stop_token_mismatch is False


def test_each_transaction_may_start_its_seq_no_at_zero(station, card):
    # TC_E_53
    for transaction_id in ("TX-1", "TX-2"):
        send(station, event("Started", 0, 0, transaction_id=transaction_id))
        send(station, event("Ended", 1, 5, transaction_id=transaction_id))

    assert Transaction.objects.filter(status="completed").count() == 2
    assert TransactionEvent.objects.filter(seq_no=0).count() == 2


def test_offline_events_keep_their_timestamps_and_flag(station, card):
    send(station, event("Started", 0, 0, offline=True, samples=(energy(0, "0"),)))
    send(station, event("Ended", 1, 90, offline=True, samples=(energy(90, "22000"),)))

    tx = Transaction.objects.get()
    assert (tx.offline, tx.started_at, tx.stopped_at, tx.energy_wh) == (
        True,
        T0,
        T0 + timedelta(minutes=90),
        Decimal(22000),
    )


def test_charging_time_comes_from_the_charging_states(station, card):
    # given: 10 min charging, 10 min suspended by the EV, 10 min charging
    TariffFactory(
        organization=station.organization,
        price_per_kwh=Decimal(0),
        price_per_minute=Decimal("0.10"),
    )
    states = [
        ("Started", "Charging"),
        ("Updated", "SuspendedEV"),
        ("Updated", "Charging"),
    ]
    for seq_no, (kind, state) in enumerate(states):
        send(station, event(kind, seq_no, seq_no * 10, charging_state=state))

    # when
    answer = send(station, event("Ended", 3, 30, charging_state="EVConnected"))

    # then
    assert answer.total_cost == Decimal("2.00")
    assert Transaction.objects.get().billing.charging_seconds == 1200


def test_signed_meter_values_are_kept(station, card):
    # TC_E_11, TC_J_11: signedMeterValue stays with the sampled value.
    signature = {
        "signedMeterData": "T0NNRg==",
        "signingMethod": "",
        "encodingMethod": "OCMF",
        "publicKey": "",
    }
    send(
        station,
        event(
            "Started",
            0,
            0,
            trigger_reason="SignedDataReceived",
            samples=(
                replace(energy(0, "0.0", "Transaction.Begin"), signed_data=signature),
            ),
        ),
    )

    assert MeterValue.objects.get().signed_data == signature
