"""Reads of commands and their requests shared by the API and the admin."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet

from apps.ocpp.models import CommandLog, CommandRequest
from apps.transactions.models import Transaction

# 1.6 links a remote start by token and time: the station's clock may lag ours.
CLOCK_SKEW = timedelta(minutes=5)


def command_list(*, actor) -> QuerySet[CommandLog]:
    return CommandLog.objects.visible_to(actor).select_related("request")


def remote_start_transaction(request: CommandRequest) -> Transaction | None:
    """The transaction a remote start led to, if it started.

    2.0.1/2.1: the TransactionEvent carried our ``remoteStartId``. 1.6 has no
    such id: the first transaction of the token on the station (and connector,
    if one was named) started after the request.
    """
    transactions = Transaction.objects.filter(charge_point_id=request.charge_point_id)
    if request.charge_point.ocpp_version != "1.6":
        return transactions.filter(remote_start_id=request.pk).first()
    found = transactions.filter(
        id_tag=request.id_tag, started_at__gte=request.created_at - CLOCK_SKEW
    )
    connector = request.connector_id or request.evse_id
    if connector:
        found = found.filter(connector_id=connector)
    return found.order_by("started_at", "id").first()
