"""A station's OCPP 1.6 configuration keys, and the limits both versions report.

The stored keys are the last known state: what GetConfiguration reported, and
the values the station accepted through ChangeConfiguration. Version-neutral
callers ask ``configured_limit`` for message-size limits, whichever version's
configuration holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.chargepoints.models import (
    ChargePoint,
    StationConfigurationKey,
    VariableAttribute,
)

_ITEMS = "ItemsPerMessage"
# Neutral limit -> (1.6 key, 2.0.1 (component, variable, variable instance)).
LIMITS: dict[str, tuple[str | None, tuple[str, str, str]]] = {
    "get_items": (
        "GetConfigurationMaxKeys",
        ("DeviceDataCtrlr", _ITEMS, "GetVariables"),
    ),
    "set_items": (None, ("DeviceDataCtrlr", _ITEMS, "SetVariables")),
    "report_items": (None, ("DeviceDataCtrlr", _ITEMS, "GetReport")),
    "local_list_items": ("SendLocalListMaxLength", ("LocalAuthListCtrlr", _ITEMS, "")),
}
# ChangeConfiguration answers after which the station holds the new value.
VALUE_TAKEN = frozenset({"Accepted", "RebootRequired"})


@dataclass(frozen=True)
class ReportedKey:
    key: str
    readonly: bool
    value: str | None = None


def configuration_keys(*, charge_point_id: str) -> QuerySet[StationConfigurationKey]:
    return StationConfigurationKey.objects.filter(
        charge_point_id=charge_point_id
    ).order_by("key")


@transaction.atomic
def configuration_keys_reported(
    *,
    charge_point_id: str,
    keys: list[ReportedKey],
    unknown: list[str] = (),
    complete: bool = False,
) -> int:
    """Store a GetConfiguration answer; returns how many keys it held.

    ``complete``: the station was asked for all its keys, so stored keys it
    did not list are gone. Keys it called unknown are dropped in any case.
    """
    now = timezone.now()
    existing = {
        row.key: row
        for row in StationConfigurationKey.objects.filter(
            charge_point_id=charge_point_id, key__in=[k.key for k in keys]
        )
    }
    changed, new = [], []
    for reported in keys:
        row = existing.get(reported.key)
        if row is None:
            row = StationConfigurationKey(
                charge_point_id=charge_point_id, key=reported.key
            )
            new.append(row)
        else:
            changed.append(row)
        row.value = reported.value
        row.readonly = reported.readonly
        row.reboot_required = False
        row.updated_at = now
    StationConfigurationKey.objects.bulk_create(new)
    StationConfigurationKey.objects.bulk_update(
        changed, ["value", "readonly", "reboot_required", "updated_at"]
    )
    stale = StationConfigurationKey.objects.filter(charge_point_id=charge_point_id)
    if complete:
        stale.exclude(key__in=[k.key for k in keys]).delete()
    elif unknown:
        stale.filter(key__in=list(unknown)).delete()
    return len(keys)


def configuration_key_changed(
    *, charge_point_id: str, key: str, value: str, status: str
) -> None:
    """Record the answer to ChangeConfiguration: the value, if the station took it."""
    if status not in VALUE_TAKEN:
        return
    StationConfigurationKey.objects.update_or_create(
        charge_point_id=charge_point_id,
        key=key,
        defaults={
            "value": value,
            "reboot_required": status == "RebootRequired",
            "updated_at": timezone.now(),
        },
    )


def configured_limit(*, charge_point_id: str, name: str) -> int | None:
    """A message-size limit the station reported (``LIMITS``), or None if unknown."""
    key, (component, variable, instance) = LIMITS[name]
    version = (
        ChargePoint.objects.filter(pk=charge_point_id)
        .values_list("ocpp_version", flat=True)
        .first()
    )
    if version == "1.6":
        if key is None:
            return None
        value = (
            StationConfigurationKey.objects.filter(
                charge_point_id=charge_point_id, key=key
            )
            .values_list("value", flat=True)
            .first()
        )
    else:
        value = (
            VariableAttribute.objects.filter(
                variable__component__charge_point_id=charge_point_id,
                variable__component__name=component,
                variable__component__instance="",
                variable__name=variable,
                variable__instance=instance,
                type=VariableAttribute.Type.ACTUAL,
            )
            .values_list("value", flat=True)
            .first()
        )
    try:
        limit = int(value)
    except (TypeError, ValueError):
        return None
    return limit if limit > 0 else None
