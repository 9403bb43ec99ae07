"""Starting a session the way OCPP 1.6 does: the station asks for an id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError
from django.db import transaction as db_transaction

from apps.chargepoints.models import ChargePoint
from apps.organizations.services import organization_read
from apps.transactions.models import IdTag, Transaction
from apps.transactions.services.authorization import (
    AuthorizationResult,
    authorize_id_token,
)
from apps.transactions.services.publishing import publish_started
from csms.bulk import stage_update


@dataclass(frozen=True)
class StartResult:
    transaction: Transaction
    authorization: AuthorizationResult
    created: bool

    @property
    def transaction_id(self) -> int:
        return int(self.transaction.transaction_id)


def start_key(
    *, connector_id: int, id_tag: str, timestamp: datetime, meter_start: int
) -> str:
    """What makes two StartTransaction requests the same start."""
    return f"{connector_id}|{id_tag}|{timestamp.isoformat()}|{meter_start}"


@db_transaction.atomic
def transaction_start(
    *,
    charge_point_id: str,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime,
    reservation_id: int | None = None,
    organization_id: int | None = None,
    ocpp_version: str = "",
) -> StartResult:
    """Record a started session and allocate its integer transaction id.

    The id is the row's own auto-increment key: unique across every process
    and machine without a lock. The token is checked, and a Blocked, Expired
    or Invalid token's session is recorded all the same (the station already
    started it; 1.6 §4.8 asks it to stop on a non-Accepted answer). The same
    request again (same connector, token, timestamp and meterStart, e.g. resent
    after a reconnect) gets the same id and answer and creates nothing.
    ``organization_id``/``ocpp_version``: the station's, when the caller knows
    them (the OCPP edge does); read otherwise.
    """
    if organization_id is None:
        organization_id, ocpp_version = ChargePoint.objects.values_list(
            "organization_id", "ocpp_version"
        ).get(pk=charge_point_id)
    organization = organization_read(organization_id)
    key = start_key(
        connector_id=connector_id,
        id_tag=id_tag,
        timestamp=timestamp,
        meter_start=meter_start,
    )
    # Checked as of now, not as of the (maybe replayed) start: the answer
    # refreshes the station's authorization cache.
    authorization = authorize_id_token(organization=organization, id_tag=id_tag)
    try:
        with db_transaction.atomic():
            tx = Transaction.objects.create(
                organization_id=organization_id,
                charge_point_id=charge_point_id,
                ocpp_version=ocpp_version or "1.6",
                evse_id=connector_id,
                connector_id=connector_id,
                id_tag=id_tag,
                id_token_type=IdTag.Type.ISO14443,
                token_id=authorization.id_tag_pk,
                auth_status=authorization.status,
                start_authorization=authorization.as_dict(),
                started_at=timestamp,
                meter_start=Decimal(meter_start),
                reservation_id=reservation_id,
                start_key=key,
            )
    except IntegrityError:
        tx = Transaction.objects.get(charge_point_id=charge_point_id, start_key=key)
        return StartResult(
            transaction=tx,
            authorization=AuthorizationResult.from_dict(tx.start_authorization),
            created=False,
        )
    tx.transaction_id = str(tx.pk)
    stage_update(tx, ["transaction_id"])  # with the batch's bulk update
    publish_started(tx)
    return StartResult(transaction=tx, authorization=authorization, created=True)
