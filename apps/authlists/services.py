"""Local authorization lists: build, version, plan each station's update.

The content of a list is computed from id tags when someone needs it
(``local_list_current``); a content that differs from the last one gets the
next version. What to send a station is a *plan* (``local_list_plan``): a full
list, or the difference from the version the station holds, cut into messages
no longer than the station accepts, with version numbers that only grow
(OCPP 2.0.1 D01.FR.18/19; 1.6 §5.15). The edge sends the plan and reports the
outcome back (``local_list_sync_result``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.authlists.models import LocalAuthList, LocalAuthListVersion, StationLocalList
from apps.chargepoints.models import ChargePoint
from apps.organizations.models import Organization
from apps.transactions.models import IdTag

FULL = "Full"
DIFFERENTIAL = "Differential"
UPDATE_TYPES = (FULL, DIFFERENTIAL)
DEFAULT_LIST_NAME = "Default"

Entries = dict[str, dict]


@dataclass(frozen=True)
class ListMessage:
    """One SendLocalList: ``entries`` maps a token to its info, None to remove it.

    A removed token keeps its last info in ``removed`` (2.0.1 needs its type).
    """

    update_type: str
    version: int
    entries: dict[str, dict | None]
    removed: dict[str, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncPlan:
    local_list_id: int
    content_id: int
    version: int
    update_type: str
    messages: tuple[ListMessage, ...]

    @property
    def up_to_date(self) -> bool:
        return not self.messages


# --- content -------------------------------------------------------------------


def _entry(tag: IdTag, group_types: dict[str, str]) -> dict:
    entry = {
        "status": tag.status,
        "expiry_date": tag.expiry_date.isoformat() if tag.expiry_date else None,
        "parent_id_tag": tag.parent_id_tag,
        "type": tag.type,
    }
    if tag.parent_id_tag:
        # 2.0.1 groupIdToken has a type: the group token's, if registered.
        entry["group_type"] = group_types.get(tag.parent_id_tag, IdTag.Type.CENTRAL)
    return entry


def local_list_id_tags(*, local_list: LocalAuthList) -> QuerySet[IdTag]:
    if local_list.all_id_tags:
        return IdTag.objects.filter(organization_id=local_list.organization_id)
    return local_list.id_tags.filter(organization_id=local_list.organization_id)


def local_list_entries(*, local_list: LocalAuthList) -> Entries:
    tags = list(local_list_id_tags(local_list=local_list).order_by("id_tag"))
    group_types = dict(
        IdTag.objects.filter(
            organization_id=local_list.organization_id,
            id_tag__in={tag.parent_id_tag for tag in tags if tag.parent_id_tag},
        ).values_list("id_tag", "type")
    )
    return {tag.id_tag: _entry(tag, group_types) for tag in tags}


def _hash(entries: Entries) -> str:
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def local_list_for_station(*, charge_point: ChargePoint) -> LocalAuthList:
    """The list of the station's group (the first group that has one), or the
    organization's default list."""
    group_list = (
        LocalAuthList.objects.filter(
            organization_id=charge_point.organization_id,
            station_group__charge_points=charge_point,
        )
        .order_by("station_group__name", "pk")
        .first()
    )
    if group_list is not None:
        return group_list
    default, _ = LocalAuthList.objects.get_or_create(
        organization_id=charge_point.organization_id,
        station_group=None,
        defaults={"name": DEFAULT_LIST_NAME},
    )
    return default


def _new_version(
    local_list: LocalAuthList, entries: Entries, digest: str, version: int
) -> LocalAuthListVersion:
    content = LocalAuthListVersion.objects.create(
        local_list=local_list, version=version, entries=entries, content_hash=digest
    )
    LocalAuthList.objects.filter(pk=local_list.pk).update(
        version=version, content_hash=digest, updated_at=timezone.now()
    )
    local_list.version, local_list.content_hash = version, digest
    return content


@transaction.atomic
def local_list_current(
    *, local_list: LocalAuthList, at_least: int = 1
) -> LocalAuthListVersion:
    """The list's content now; a new version if it changed (or must reach
    ``at_least``, so that an update can outnumber what a station holds)."""
    local_list = LocalAuthList.objects.select_for_update().get(pk=local_list.pk)
    entries = local_list_entries(local_list=local_list)
    digest = _hash(entries)
    if digest != local_list.content_hash or local_list.version < at_least:
        return _new_version(
            local_list, entries, digest, max(local_list.version + 1, at_least)
        )
    return LocalAuthListVersion.objects.get(
        local_list=local_list, version=local_list.version
    )


def _difference(old: Entries, new: Entries) -> tuple[dict, dict]:
    changes = {tag: info for tag, info in new.items() if old.get(tag) != info}
    removed = {tag: info for tag, info in old.items() if tag not in new}
    changes.update(dict.fromkeys(removed))
    return changes, removed


def _station_state(charge_point_id: str) -> StationLocalList:
    state, _ = StationLocalList.objects.select_for_update().get_or_create(
        charge_point_id=charge_point_id
    )
    return state


def _chunks(items: list, size: int | None) -> list[list]:
    if not items:
        return [[]]
    size = size or len(items)
    return [items[i : i + size] for i in range(0, len(items), size)]


@transaction.atomic
def local_list_plan(
    *,
    charge_point_id: str,
    update_type: str | None = None,
    max_items: int | None = None,
) -> SyncPlan:
    """What to send the station so that it holds its list's current content.

    ``update_type`` None chooses: a differential update when we know exactly
    what the station holds, a full one otherwise. A requested differential
    update to a station whose content we do not know sends every current
    entry (it cannot remove what we never sent). An empty plan: up to date.
    """
    station = ChargePoint.objects.get(pk=charge_point_id)
    state = _station_state(charge_point_id)
    local_list = local_list_for_station(charge_point=station)
    current = local_list_current(local_list=local_list)
    held = max(state.version, 0)
    known = state.content if state.local_list_id == local_list.pk else None
    if known is not None and known.version != held:
        known = None
    mode = update_type or (DIFFERENTIAL if known is not None else FULL)
    removed: dict = {}
    if mode == FULL:
        changes = dict(current.entries)
    elif known is not None:
        changes, removed = _difference(known.entries, current.entries)
        if not changes and known.version == current.version:
            return SyncPlan(local_list.pk, current.pk, current.version, mode, ())
    else:
        changes = dict(current.entries)
    chunks = _chunks(sorted(changes.items()), max_items)
    # Each message needs a version above the previous one; a differential one
    # also above what the station holds (D01.FR.19).
    floor = len(chunks) + (max(held, 0) if mode == DIFFERENTIAL else 0)
    if current.version < floor:
        current = local_list_current(local_list=local_list, at_least=floor)
    first = current.version - len(chunks) + 1
    messages = tuple(
        ListMessage(
            update_type=mode if index == 0 else DIFFERENTIAL,
            version=first + index,
            entries=dict(chunk),
            removed={tag: removed[tag] for tag, _ in chunk if tag in removed},
        )
        for index, chunk in enumerate(chunks)
    )
    return SyncPlan(local_list.pk, current.pk, current.version, mode, messages)


@transaction.atomic
def local_list_sync_result(
    *, charge_point_id: str, plan: SyncPlan, accepted: int, status: str
) -> StationLocalList:
    """Record how far a plan got: ``accepted`` messages, then ``status``."""
    state = _station_state(charge_point_id)
    state.local_list_id = plan.local_list_id
    state.last_update_type = plan.update_type
    state.last_status = status
    state.last_sync_at = timezone.now()
    if plan.up_to_date or accepted == len(plan.messages):
        state.version = plan.version
        state.content_id = plan.content_id
    elif accepted:  # part of a chunked update: the content is a mix
        state.version = plan.messages[accepted - 1].version
        state.content_id = None
    if state.version != state.reported_version:
        state.reported_version = None  # what the station said is outdated now
    state.save()
    _prune_versions(plan.local_list_id)
    return state


def local_list_version_reported(
    *, charge_point_id: str, version: int
) -> StationLocalList:
    """The station's answer to GetLocalListVersion."""
    with transaction.atomic():
        state = _station_state(charge_point_id)
        state.reported_version = version
        state.reported_at = timezone.now()
        if version != state.version:
            # It holds something else than we sent: our copy is no base.
            state.version = max(version, 0)
            state.content_id = None
        state.save()
    return state


def _prune_versions(local_list_id: int) -> None:
    """Keep the latest version and those stations hold; the rest is history."""
    in_use = StationLocalList.objects.filter(content__isnull=False).values("content_id")
    latest = LocalAuthList.objects.filter(pk=local_list_id).values("version")
    LocalAuthListVersion.objects.filter(local_list_id=local_list_id).exclude(
        pk__in=in_use
    ).exclude(version__in=latest).delete()


# --- auto-sync -----------------------------------------------------------------


def local_list_station_booted(
    *, charge_point_id: str, organization: Organization
) -> bool:
    """Queue the station's list update after its boot, if its organization
    syncs lists automatically; returns whether it was queued."""
    if not organization.local_list_auto_sync:
        return False
    from apps.authlists.tasks import queue_local_list_sync

    transaction.on_commit(lambda: queue_local_list_sync(charge_point_id))
    return True


def local_list_status(*, charge_point: ChargePoint) -> dict:
    """The station's known version next to its list's current one."""
    local_list = local_list_for_station(charge_point=charge_point)
    current = local_list_current(local_list=local_list)
    state = StationLocalList.objects.filter(charge_point=charge_point).first()
    return {
        "local_list": local_list,
        "current_version": current.version,
        "entries": len(current.entries),
        "state": state,
        "up_to_date": bool(
            state
            and state.local_list_id == local_list.pk
            and state.version == current.version
            and state.content_id == current.pk
        ),
    }
