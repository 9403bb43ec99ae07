"""Sessions the way OCPP 2.0.1 and 2.1 report them: TransactionEvent.

Events may come out of order and more than once (offline queues, resends after
a reconnect, E04/E11/E12). Each (transaction, seqNo) is kept once; a repeat gets
the answer the first one got. Whatever order events arrive in, the session ends
up the same: the start is the earliest event, facts only ever fill in, the
current charging state is the latest by timestamp, and an Ended event stops it
through the one stop service.

Most events are routine: an Updated event with meter values for an active
session, nothing to authorize. Those stage their writes with the group commit
(the session row, preloaded and locked by the batch; the event and its meter
values, inserted in bulk) and read nothing else. Every other event takes the
full path through the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from apps.billing.selectors import organization_has_tariffs, transaction_total_cost
from apps.billing.services.billing import transaction_bill
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.organizations.services import organization_read
from apps.transactions.models import Transaction, TransactionEvent
from apps.transactions.services.authorization import (
    AuthorizationResult,
    authorize_id_token,
)
from apps.transactions.services.locking import (
    SAVED_FIELDS,
    forget_transaction,
    locked_transaction,
    remember_transaction,
)
from apps.transactions.services.meter_values import (
    CONTEXT_BEGIN,
    CONTEXT_END,
    Reading,
    SampledValueInput,
    first_register_value,
    is_energy_register,
    last_register_value,
    meter_values_record,
)
from apps.transactions.services.publishing import publish_started
from apps.transactions.services.stop import (
    energy_between,
    stop_token_check,
    transaction_stop,
)
from csms.bulk import insert_rows, stage_rows, stage_update

STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"
STOP_AUTHORIZED = "StopAuthorized"
MASTER_PASS = "MasterPass"  # noqa: S105 (a stop reason, not a secret)


@dataclass(frozen=True)
class TransactionEventInput:
    event_type: str
    timestamp: datetime
    trigger_reason: str
    seq_no: int
    transaction_id: str
    charging_state: str = ""
    time_spent_charging: int | None = None
    stopped_reason: str = ""
    remote_start_id: int | None = None
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str = ""
    reservation_id: int | None = None
    samples: tuple[SampledValueInput, ...] = ()


@dataclass(frozen=True)
class TransactionEventResult:
    transaction: Transaction
    authorization: AuthorizationResult | None
    total_cost: Decimal | None = None
    duplicate: bool = False

    def as_dict(self) -> dict:
        return {
            "authorization": self.authorization.as_dict()
            if self.authorization
            else None,
            "total_cost": str(self.total_cost) if self.total_cost is not None else None,
        }


def _new_session(
    charge_point_id: str,
    event: TransactionEventInput,
    organization_id: int | None,
    ocpp_version: str,
) -> tuple[Transaction, bool]:
    """A session for its first event, or the one another process just made."""
    if organization_id is None:
        organization_id, ocpp_version = ChargePoint.objects.values_list(
            "organization_id", "ocpp_version"
        ).get(pk=charge_point_id)
    lookup = {
        "charge_point_id": charge_point_id,
        "transaction_id": event.transaction_id,
    }
    try:
        with db_transaction.atomic():
            tx = Transaction.objects.create(
                organization_id=organization_id,
                ocpp_version=ocpp_version or "2.0.1",
                started_at=event.timestamp,
                evse_id=event.evse_id,
                connector_id=event.connector_id,
                **lookup,
            )
    except IntegrityError:  # another process created it a moment ago
        return Transaction.objects.select_for_update().get(**lookup), False
    return tx, True


def _previous_event(
    tx: Transaction, event: TransactionEventInput
) -> TransactionEvent | None:
    """The event already kept under this seqNo, if any.

    A seqNo above every one seen is new without asking the database; the
    session row is locked, so no other writer can be adding it meanwhile.
    """
    if tx.last_seq_no is not None and event.seq_no > tx.last_seq_no:
        return None
    return TransactionEvent.objects.filter(transaction=tx, seq_no=event.seq_no).first()


def _authorize(
    tx: Transaction, organization: Organization, event: TransactionEventInput
) -> AuthorizationResult | None:
    """idTokenInfo for the event's idToken; the first token starts the session."""
    if event.id_token is None:
        return None
    if not tx.id_tag:
        authorization = authorize_id_token(
            organization=organization,
            id_tag=event.id_token,
            token_type=event.id_token_type,
        )
        tx.id_tag = event.id_token
        tx.id_token_type = event.id_token_type
        tx.token_id = authorization.id_tag_pk
        tx.auth_status = authorization.status
        tx.start_authorization = authorization.as_dict()
        return authorization
    is_stop = event.trigger_reason == STOP_AUTHORIZED or event.event_type == ENDED
    if event.id_token == tx.id_tag or not is_stop:
        authorization = authorize_id_token(
            organization=organization,
            id_tag=event.id_token,
            token_type=event.id_token_type,
        )
        if is_stop:  # the driver's own token: recorded as 1.6 records it
            tx.stop_id_tag = event.id_token
            tx.stop_authorization = authorization.as_dict()
        return authorization
    authorization, mismatch = stop_token_check(
        transaction=tx,
        organization=organization,
        stop_id_tag=event.id_token,
        token_type=event.id_token_type,
        # C16: the station checked the MasterPassGroupId itself.
        allow_any=event.stopped_reason == MASTER_PASS,
    )
    tx.stop_id_tag = event.id_token
    tx.stop_authorization = authorization.as_dict()
    tx.stop_token_mismatch = tx.stop_token_mismatch or mismatch
    return authorization


def _apply_facts(tx: Transaction, event: TransactionEventInput) -> None:
    """Fill in what the event tells; never let an older event undo a newer one."""
    tx.started_at = min(tx.started_at, event.timestamp)
    if tx.evse_id is None and event.evse_id is not None:
        tx.evse_id = event.evse_id
    if tx.connector_id is None and event.connector_id is not None:
        tx.connector_id = event.connector_id
    if tx.remote_start_id is None and event.remote_start_id is not None:
        tx.remote_start_id = event.remote_start_id
    if tx.reservation_id is None and event.reservation_id is not None:
        tx.reservation_id = event.reservation_id
    if event.time_spent_charging is not None:
        tx.time_spent_charging = max(
            tx.time_spent_charging or 0, event.time_spent_charging
        )
    tx.offline = tx.offline or event.offline
    tx.last_seq_no = max(
        tx.last_seq_no if tx.last_seq_no is not None else -1, event.seq_no
    )
    if event.charging_state:
        _apply_charging_state(tx, event)


def _apply_charging_state(tx: Transaction, event: TransactionEventInput) -> None:
    """The state of the latest event by timestamp (then seqNo) is the current one."""
    known_at = tx.charging_state_at
    if known_at is not None and event.timestamp != known_at:
        if event.timestamp > known_at:
            _set_state(tx, event.charging_state, event.timestamp)
        return
    if known_at is None and not tx.charging_state:
        _set_state(tx, event.charging_state, event.timestamp)
        return
    # A tie, or a session from before charging_state_at: ask the events kept.
    latest = (
        tx.events.exclude(charging_state="")
        .order_by("-timestamp", "-seq_no")
        .values_list("timestamp", "seq_no", "charging_state")
        .first()
    )
    if latest is None or (event.timestamp, event.seq_no) > latest[:2]:
        _set_state(tx, event.charging_state, event.timestamp)
    else:
        _set_state(tx, latest[2], latest[0])


def _set_state(tx: Transaction, state: str, at: datetime) -> None:
    tx.charging_state, tx.charging_state_at = state, at


def _refresh_completed(tx: Transaction, *, billing_inputs_changed: bool) -> None:
    """Late data for a completed session: recompute its energy, bill again."""
    meter_start = first_register_value(tx)
    meter_start = meter_start if meter_start is not None else tx.meter_start
    # The stop reading is derived like the start one: the Transaction.End value,
    # else the latest reading, which a late event may have just brought.
    meter_stop = last_register_value(tx)
    meter_stop = meter_stop if meter_stop is not None else tx.meter_stop
    energy = energy_between(meter_start, meter_stop)
    unchanged = (meter_start, meter_stop, energy) == (
        tx.meter_start,
        tx.meter_stop,
        tx.energy_wh,
    )
    if unchanged and not billing_inputs_changed:
        return
    tx.meter_start, tx.meter_stop, tx.energy_wh = meter_start, meter_stop, energy
    tx.save(update_fields=["meter_start", "meter_stop", "energy_wh"])
    transaction_bill(transaction=tx)


EVENT_FIELDS = (
    "transaction",
    "seq_no",
    "event_type",
    "trigger_reason",
    "timestamp",
    "offline",
    "charging_state",
    "stopped_reason",
    "id_token",
    "response",
    "received_at",
)


def _event_row(tx: Transaction, event: TransactionEventInput, response: dict) -> tuple:
    """The event as kept, with what we answer to it (for repeats)."""
    return (
        tx.pk,
        event.seq_no,
        event.event_type,
        event.trigger_reason,
        event.timestamp,
        event.offline,
        event.charging_state,
        event.stopped_reason,
        event.id_token or "",
        response,
        timezone.now(),
    )


def _start_reading_may_change(
    tx: Transaction, readings: list[Reading], last_meter_at: datetime | None
) -> bool:
    """Whether these readings can change the session's first register value.

    That is the Transaction.Begin reading, else the earliest one: only a Begin
    reading or one older than the newest seen so far can displace it.
    """
    registers = [r for r in readings if is_energy_register(r)]
    if not registers:
        return False
    return (
        tx.meter_start is None
        or last_meter_at is None
        or any(
            r.context == CONTEXT_BEGIN or r.timestamp < last_meter_at for r in registers
        )
    )


def _conclude(
    tx: Transaction,
    event: TransactionEventInput,
    *,
    was_completed: bool,
    late_inputs: bool,
    readings: list[Reading],
) -> Transaction:
    """Stop the session on Ended; bill a completed one again after late data."""
    if event.event_type == ENDED:
        # The Ended event's own End reading is the last word; else the latest.
        end = _register_value(readings, CONTEXT_END, earliest=False)
        return transaction_stop(
            transaction=tx,
            stopped_at=event.timestamp,
            # 2.0.1 TransactionType.stoppedReason: omitted only when Local.
            reason=event.stopped_reason or "Local",
            stopped_by=Transaction.StoppedBy.STATION,
            meter_stop=end if end is not None else last_register_value(tx),
            locked=True,
        )
    if was_completed:
        _refresh_completed(tx, billing_inputs_changed=late_inputs)
    return tx


ROUTINE_FIELDS = (
    "started_at",
    "evse_id",
    "connector_id",
    "remote_start_id",
    "reservation_id",
    "time_spent_charging",
    "offline",
    "last_seq_no",
    "charging_state",
    "charging_state_at",
    "meter_start",
)


def likely_routine(event: TransactionEventInput) -> bool:
    """Whether the event will most likely take the routine, staged path.

    The edge sends these through the batch's staged phase; the others run
    with the ordinary items, before anything is staged, so their ORM reads
    need not write the batch's staged rows first.
    """
    return event.event_type == UPDATED and event.id_token is None


@db_transaction.atomic(savepoint=False)
def transaction_event_record(
    *,
    charge_point_id: str,
    event: TransactionEventInput,
    organization_id: int | None = None,
    ocpp_version: str = "",
) -> TransactionEventResult:
    """Apply one TransactionEventRequest; returns what to answer.

    ``organization_id``/``ocpp_version``: the station's, when the caller knows
    them (the OCPP edge does); read otherwise.
    """
    # The edge preloads a likely routine event's session with its hot fields,
    # any other's whole (``_record_fully`` uses every field).
    whole = not likely_routine(event)
    tx = locked_transaction(charge_point_id, event.transaction_id, whole=whole)
    created = False
    if tx is None:
        tx, created = _new_session(
            charge_point_id, event, organization_id, ocpp_version
        )
        remember_transaction(tx, charge_point_id, event.transaction_id)
    if not created:
        previous = _previous_event(tx, event)
        if previous is not None:
            return _result_from(tx, previous.response)
    routine = (
        not created
        and event.event_type == UPDATED
        and event.id_token is None
        and tx.status == Transaction.Status.ACTIVE
    )
    if routine:
        return _record_routine(tx, event)
    if not created and not whole:
        # The batch loaded only the hot fields; this path uses the whole row.
        tx = Transaction.objects.select_for_update().get(pk=tx.pk)
    try:
        return _record_fully(tx, event, created=created)
    finally:
        # The stop and billing services load the row afresh: don't reuse ours.
        forget_transaction(charge_point_id, event.transaction_id)


def _record_routine(
    tx: Transaction, event: TransactionEventInput
) -> TransactionEventResult:
    """An Updated event of an active session: staged writes, no reads."""
    _apply_event(tx, event, may_move_start=True)
    stage_update(tx, ROUTINE_FIELDS)
    result = TransactionEventResult(transaction=tx, authorization=None)
    row = _event_row(tx, event, result.as_dict())
    stage_rows(TransactionEvent, EVENT_FIELDS, [row])
    return result


def _apply_event(
    tx: Transaction,
    event: TransactionEventInput,
    *,
    may_move_start: bool,
    created: bool = False,
) -> list[Reading]:
    """The event's facts and readings on the session: in memory, writes staged."""
    _apply_facts(tx, event)
    last_meter_at = tx.last_meter_at
    readings = meter_values_record(
        charge_point_id=tx.charge_point_id,
        samples=event.samples,
        transaction=tx,
        evse_id=tx.evse_id or 0,
        connector_id=tx.connector_id or 0,
        stage=True,
    )
    if may_move_start and _start_reading_may_change(tx, readings, last_meter_at):
        begin = _register_value(readings, CONTEXT_BEGIN, earliest=True)
        # A new session's readings are all here: its Begin reading needs no read.
        tx.meter_start = (
            begin if created and begin is not None else first_register_value(tx)
        )
    return readings


def _register_value(
    readings: list[Reading], context: str, *, earliest: bool
) -> Decimal | None:
    """The earliest/latest energy register reading of ``context`` among these."""
    found = [r for r in readings if r.context == context and is_energy_register(r)]
    if not found:
        return None
    pick = min if earliest else max
    return pick(found, key=lambda r: r.timestamp).value


def _record_fully(
    tx: Transaction, event: TransactionEventInput, *, created: bool
) -> TransactionEventResult:
    """Any other event: authorization, start, stop, late data, through the ORM.

    Its writes go with the batch's bulk statements where nothing reads them
    back first: the event row (with its answer, for repeats) unless the
    session is billed now, and the session row. What it reads of what is
    staged (readings, for billing) is flushed by the reader.
    """
    was_completed, started_at = tx.status == Transaction.Status.COMPLETED, tx.started_at
    billed = (event.event_type == ENDED or was_completed) and organization_has_tariffs(
        tx.organization_id
    )
    if billed:  # in first: billing reads the charging states of the events
        insert_rows(TransactionEvent, EVENT_FIELDS, [_event_row(tx, event, {})])
    organization = organization_read(tx.organization_id)
    authorization = _authorize(tx, organization, event)
    readings = _apply_event(
        tx, event, may_move_start=not was_completed, created=created
    )
    stage_update(tx, SAVED_FIELDS)
    if created:
        publish_started(tx)
    tx = _conclude(
        tx,
        event,
        was_completed=was_completed,
        late_inputs=bool(event.charging_state or readings)
        or tx.started_at != started_at,
        readings=readings,
    )
    total_cost = (
        transaction_total_cost(transaction=tx)
        if event.event_type == ENDED and billed
        else None
    )
    result = TransactionEventResult(
        transaction=tx, authorization=authorization, total_cost=total_cost
    )
    if billed:
        TransactionEvent.objects.filter(transaction=tx, seq_no=event.seq_no).update(
            response=result.as_dict()
        )
    else:
        stage_rows(
            TransactionEvent, EVENT_FIELDS, [_event_row(tx, event, result.as_dict())]
        )
    return result


def _result_from(tx: Transaction, response: dict) -> TransactionEventResult:
    authorization = response.get("authorization")
    total_cost = response.get("total_cost")
    return TransactionEventResult(
        transaction=tx,
        authorization=AuthorizationResult.from_dict(authorization)
        if authorization
        else None,
        total_cost=Decimal(total_cost) if total_cost is not None else None,
        duplicate=True,
    )
