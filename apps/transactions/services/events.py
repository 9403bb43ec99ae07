"""Sessions the way OCPP 2.0.1 and 2.1 report them: TransactionEvent.

Events may come out of order and more than once (offline queues, resends after
a reconnect, E04/E11/E12). Each (transaction, seqNo) is kept once; a repeat gets
the answer the first one got. Whatever order events arrive in, the session ends
up the same: the start is the earliest event, facts only ever fill in, the
current charging state is the latest by timestamp, and an Ended event stops it
through the one stop service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError
from django.db import transaction as db_transaction

from apps.billing.selectors import transaction_total_cost
from apps.billing.services.billing import transaction_bill
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.transactions.models import Transaction, TransactionEvent
from apps.transactions.services.authorization import (
    AuthorizationResult,
    authorize_id_token,
)
from apps.transactions.services.meter_values import (
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


def _session_for(
    station: ChargePoint, event: TransactionEventInput
) -> tuple[Transaction, bool]:
    """The session ``event`` is about, created by whichever event comes first."""
    lookup = {"charge_point": station, "transaction_id": event.transaction_id}
    tx = Transaction.objects.select_for_update().filter(**lookup).first()
    if tx is not None:
        return tx, False
    try:
        with db_transaction.atomic():
            tx = Transaction.objects.create(
                organization_id=station.organization_id,
                ocpp_version=station.ocpp_version or "2.0.1",
                started_at=event.timestamp,
                evse_id=event.evse_id,
                connector_id=event.connector_id,
                **lookup,
            )
    except IntegrityError:  # another process created it a moment ago
        return Transaction.objects.select_for_update().get(**lookup), False
    return tx, True


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
        latest = (
            tx.events.exclude(charging_state="")
            .order_by("-timestamp", "-seq_no")
            .values_list("charging_state", flat=True)
            .first()
        )
        tx.charging_state = latest or event.charging_state


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


def _record(tx: Transaction, event: TransactionEventInput) -> TransactionEvent | None:
    """Keep the event once; ``None`` if this seqNo was already received."""
    try:
        with db_transaction.atomic():
            return TransactionEvent.objects.create(
                transaction=tx,
                seq_no=event.seq_no,
                event_type=event.event_type,
                trigger_reason=event.trigger_reason,
                timestamp=event.timestamp,
                offline=event.offline,
                charging_state=event.charging_state,
                stopped_reason=event.stopped_reason,
                id_token=event.id_token or "",
            )
    except IntegrityError:
        return None


def _conclude(
    tx: Transaction,
    event: TransactionEventInput,
    *,
    was_completed: bool,
    late_inputs: bool,
) -> Transaction:
    """Stop the session on Ended; bill a completed one again after late data."""
    if event.event_type == ENDED:
        return transaction_stop(
            transaction=tx,
            stopped_at=event.timestamp,
            # 2.0.1 TransactionType.stoppedReason: omitted only when Local.
            reason=event.stopped_reason or "Local",
            stopped_by=Transaction.StoppedBy.STATION,
            meter_stop=last_register_value(tx),
        )
    if was_completed:
        _refresh_completed(tx, billing_inputs_changed=late_inputs)
    return tx


@db_transaction.atomic
def transaction_event_record(
    *, charge_point_id: str, event: TransactionEventInput
) -> TransactionEventResult:
    """Apply one TransactionEventRequest; returns what to answer."""
    station = ChargePoint.objects.select_related("organization").get(pk=charge_point_id)
    tx, created = _session_for(station, event)
    record = _record(tx, event)
    if record is None:
        previous = TransactionEvent.objects.get(transaction=tx, seq_no=event.seq_no)
        return _result_from(tx, previous.response)
    was_completed, started_at = tx.status == Transaction.Status.COMPLETED, tx.started_at
    authorization = _authorize(tx, station.organization, event)
    _apply_facts(tx, event)
    rows = meter_values_record(
        charge_point_id=charge_point_id,
        samples=event.samples,
        transaction=tx,
        evse_id=tx.evse_id or 0,
        connector_id=tx.connector_id or 0,
    )
    if any(is_energy_register(row) for row in rows) and not was_completed:
        tx.meter_start = first_register_value(tx)
    tx.save()
    if created:
        publish_started(tx)
    tx = _conclude(
        tx,
        event,
        was_completed=was_completed,
        late_inputs=bool(event.charging_state or rows) or tx.started_at != started_at,
    )
    total_cost = (
        transaction_total_cost(transaction=tx) if event.event_type == ENDED else None
    )
    result = TransactionEventResult(
        transaction=tx, authorization=authorization, total_cost=total_cost
    )
    TransactionEvent.objects.filter(pk=record.pk).update(response=result.as_dict())
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
