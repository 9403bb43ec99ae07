"""Reads shared by billing, the transactions app, the API and the admin."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from apps.billing.models import StationTariff, Tariff, TransactionCost
from apps.transactions.models import Transaction
from csms.bulk import batch_cached


def tariff_list(*, actor) -> QuerySet[Tariff]:
    return Tariff.objects.visible_to(actor).prefetch_related("bands", "station_links")


def organization_has_tariffs(organization_id: int) -> bool:
    """Whether the organization prices anything at all; inside a group-commit
    batch asked once for all its sessions, so stops that nobody bills cost no
    billing query."""
    return batch_cached(
        ("has_tariffs", organization_id),
        lambda: Tariff.objects.filter(organization_id=organization_id).exists(),
    )


def tariff_for_charge_point(
    *, charge_point_id: str, organization_id: int
) -> Tariff | None:
    """The station's own tariff, else its organization's default one.

    A station's tariff is one of its organization's: none there, none here.
    """
    if not organization_has_tariffs(organization_id):
        return None
    link = (
        StationTariff.objects.filter(charge_point_id=charge_point_id)
        .select_related("tariff")
        .first()
    )
    if link is not None:
        return link.tariff
    return Tariff.objects.filter(
        organization_id=organization_id, is_default=True
    ).first()


def transaction_total_cost(*, transaction: Transaction) -> Decimal | None:
    return (
        TransactionCost.objects.filter(transaction=transaction)
        .values_list("total", flat=True)
        .first()
    )
