"""Ending a session: one service, whoever ends it.

``transaction_stop`` is the only code that completes a transaction. The 1.6
StopTransaction (``transaction_stop_reported``), the 2.0.1 TransactionEvent
Ended (``apps.transactions.services.events``) and the operator's force-stop
(``transaction_force_stop``, admin and API) all go through it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction as db_transaction
from django.utils import timezone

from apps.billing.services.billing import transaction_bill
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.organizations.services import organization_read
from apps.transactions.models import IdTag, Transaction
from apps.transactions.services.authorization import (
    AuthorizationResult,
    authorize_id_token,
    tokens_share_group,
)
from apps.transactions.services.locking import SAVED_FIELDS, locked_transaction
from apps.transactions.services.meter_values import (
    SampledValueInput,
    meter_values_record,
)
from apps.transactions.services.publishing import publish_stopped
from csms.bulk import stage_update
from csms.errors import Conflict

logger = logging.getLogger(__name__)

Status = Transaction.Status
StoppedBy = Transaction.StoppedBy
_WH = Decimal("0.001")


@dataclass(frozen=True)
class StopReport:
    """What a station's stop report led to."""

    transaction: Transaction | None
    authorization: AuthorizationResult | None
    duplicate: bool = False


def energy_between(
    meter_start: Decimal | None, meter_stop: Decimal | None
) -> Decimal | None:
    if meter_start is None or meter_stop is None:
        return None
    # A meter that went backwards (replaced, reset) delivered nothing we can bill.
    return max(Decimal(0), meter_stop - meter_start).quantize(_WH)


def transaction_stop(
    *,
    transaction: Transaction,
    stopped_at: datetime,
    reason: str,
    stopped_by: str,
    meter_stop: Decimal | None = None,
    stop_id_tag: str = "",
    stop_authorization: AuthorizationResult | None = None,
    stop_token_mismatch: bool = False,
    locked: bool = False,
) -> Transaction:
    """Complete ``transaction``, compute its energy, bill it, publish it.

    ``locked``: the caller holds ``transaction`` locked and current (a
    station's stop report); else the row is read and locked here.

    Without ``meter_stop`` the latest register reading is used (a force-stopped
    session gets the energy actually delivered, not zero). Stopping a completed
    session changes nothing, except that a station's own report supersedes an
    operator's force-stop: the station knows the real end and meter.
    """
    with db_transaction.atomic():
        tx = (
            transaction
            if locked
            else Transaction.objects.select_for_update().get(pk=transaction.pk)
        )
        correcting = False
        if tx.status == Status.COMPLETED:
            correcting = (
                tx.stopped_by == StoppedBy.OPERATOR and stopped_by == StoppedBy.STATION
            )
            if not correcting:
                return tx
        if meter_stop is None:
            meter_stop = (
                tx.last_meter_wh if tx.last_meter_wh is not None else tx.meter_start
            )
        tx.status = Status.COMPLETED
        tx.stopped_at = max(stopped_at, tx.started_at)
        tx.stop_reason = reason
        tx.stopped_by = stopped_by
        tx.meter_stop = meter_stop.quantize(_WH) if meter_stop is not None else None
        tx.energy_wh = energy_between(tx.meter_start, tx.meter_stop)
        if stop_id_tag:
            tx.stop_id_tag = stop_id_tag
        if stop_authorization is not None:
            tx.stop_authorization = stop_authorization.as_dict()
        tx.stop_token_mismatch = tx.stop_token_mismatch or stop_token_mismatch
        # With the batch's bulk update (at once outside a batch); billing
        # below flushes it before reading.
        stage_update(tx, SAVED_FIELDS)
        publish_stopped(tx, corrected=correcting)
        transaction_bill(transaction=tx, first_time=not correcting)
    return tx


def transaction_force_stop(
    *, transaction: Transaction, reason: str = "Other", at: datetime | None = None
) -> Transaction:
    """An operator closes a session the station never stopped (admin, API).

    Only the record is closed; the station is not contacted (use remote stop
    for that). Its energy is the latest reading the station sent.
    """
    if transaction.status == Status.COMPLETED:
        raise Conflict(
            f"Transaction {transaction.pk} is already completed.",
            code="transaction_completed",
        )
    return transaction_stop(
        transaction=transaction,
        stopped_at=at or timezone.now(),
        reason=reason,
        stopped_by=StoppedBy.OPERATOR,
    )


def stop_token_check(
    *,
    transaction: Transaction,
    organization: Organization,
    stop_id_tag: str,
    token_type: str = "",
    allow_any: bool = False,
) -> tuple[AuthorizationResult, bool]:
    """Authorize the stop token; returns (answer, mismatch).

    The stop token must be the start token or share its group. Otherwise the
    stop is an anomaly, answered per ``Organization.stop_token_mismatch``:
    "reject" answers Invalid, "accept and flag" answers the token's own status.
    ``allow_any``: the station already vouched (2.0.1 MasterPass, C16).
    """
    authorization = authorize_id_token(
        organization=organization, id_tag=stop_id_tag, token_type=token_type
    )
    if allow_any or stop_id_tag == transaction.id_tag or not transaction.id_tag:
        return authorization, False
    start = (
        IdTag.objects.filter(pk=transaction.token_id).first()
        if transaction.token_id
        else None
    )
    stop = (
        IdTag.objects.filter(pk=authorization.id_tag_pk).first()
        if authorization.id_tag_pk
        else None
    )
    if tokens_share_group(
        start=start, start_id_tag=transaction.id_tag, stop=stop, stop_id_tag=stop_id_tag
    ):
        return authorization, False
    logger.warning(
        "Transaction %s on %s stopped with token %r, started with %r",
        transaction.transaction_id,
        transaction.charge_point_id,
        stop_id_tag,
        transaction.id_tag,
    )
    if organization.stop_token_mismatch == Organization.StopTokenMismatch.REJECT:
        return AuthorizationResult(status=IdTag.Status.INVALID), True
    return authorization, True


@db_transaction.atomic
def transaction_stop_reported(
    *,
    charge_point_id: str,
    transaction_id: str,
    stopped_at: datetime,
    meter_stop: Decimal,
    reason: str = "",
    id_tag: str = "",
    samples: list[SampledValueInput] | tuple[SampledValueInput, ...] = (),
    organization_id: int | None = None,
) -> StopReport:
    """A station reports a stop (OCPP 1.6 StopTransaction).

    An unknown transaction is logged and answered normally (the CSMS cannot
    refuse a stop, 1.6 §4.10); its meter values are kept without a session.
    A repeated report changes nothing and gets the first answer.
    """
    if organization_id is None:  # the edge knows it; others may not
        organization_id = ChargePoint.objects.values_list(
            "organization_id", flat=True
        ).get(pk=charge_point_id)
    organization = organization_read(organization_id)
    tx = locked_transaction(charge_point_id, transaction_id, whole=True)
    if tx is None:
        logger.warning(
            "StopTransaction for unknown transaction %s on %s (meterStop %s at %s)",
            transaction_id,
            charge_point_id,
            meter_stop,
            stopped_at.isoformat(),
        )
        meter_values_record(
            charge_point_id=charge_point_id, samples=samples, stage=True
        )
        authorization = (
            authorize_id_token(organization=organization, id_tag=id_tag)
            if id_tag
            else None
        )
        return StopReport(transaction=None, authorization=authorization)
    if tx.status == Status.COMPLETED and tx.stopped_by == StoppedBy.STATION:
        previous = tx.stop_authorization
        authorization = AuthorizationResult.from_dict(previous) if previous else None
        return StopReport(transaction=tx, authorization=authorization, duplicate=True)
    meter_values_record(
        charge_point_id=charge_point_id,
        samples=samples,
        transaction=tx,
        evse_id=tx.evse_id or 0,
        connector_id=tx.connector_id or 0,
        stage=True,  # the stop saves the session whole; billing flushes first
    )
    authorization, mismatch = None, False
    if id_tag:
        authorization, mismatch = stop_token_check(
            transaction=tx, organization=organization, stop_id_tag=id_tag
        )
    tx = transaction_stop(
        transaction=tx,
        stopped_at=stopped_at,
        # 1.6 §4.10: no reason means a normal, local stop.
        reason=reason or "Local",
        stopped_by=StoppedBy.STATION,
        meter_stop=meter_stop,
        stop_id_tag=id_tag,
        stop_authorization=authorization,
        stop_token_mismatch=mismatch,
        locked=True,
    )
    return StopReport(transaction=tx, authorization=authorization)
