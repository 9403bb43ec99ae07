"""Reads of stations shared by the API and the admin."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.chargepoints.models import ChargePoint, Connector, Evse

CONNECTORS_PREFETCH = Prefetch(
    "connectors", queryset=Connector.objects.order_by("connector_id")
)


def evses_with_connectors() -> QuerySet[Evse]:
    return Evse.objects.order_by("evse_id").prefetch_related(CONNECTORS_PREFETCH)


def charge_points_visible_to(actor, min_role: str = "viewer") -> QuerySet[ChargePoint]:
    """Stations ``actor`` may see, with EVSEs and connectors prefetched.

    A page of stations costs a constant number of queries.
    """
    return ChargePoint.objects.visible_to(actor, min_role).prefetch_related(
        Prefetch("evses", queryset=evses_with_connectors())
    )
