"""Local authorization lists: versions, plans (full, differential, chunked)."""

from datetime import UTC, datetime

import pytest

from apps.authlists.models import LocalAuthList, LocalAuthListVersion, StationLocalList
from apps.authlists.services import (
    local_list_current,
    local_list_for_station,
    local_list_plan,
    local_list_station_booted,
    local_list_sync_result,
    local_list_version_reported,
)
from apps.chargepoints.models import StationGroup
from apps.transactions.models import IdTag
from tests.factories import ChargePointFactory
from tests.transactions.factories import IdTagFactory

pytestmark = pytest.mark.django_db

EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def station():
    return ChargePointFactory()


def _tag(station, id_tag, **fields):
    return IdTagFactory(organization=station.organization, id_tag=id_tag, **fields)


def _synced(station, **plan_options):
    """Plan, and record that the station took every message."""
    plan = local_list_plan(charge_point_id=station.pk, **plan_options)
    local_list_sync_result(
        charge_point_id=station.pk,
        plan=plan,
        accepted=len(plan.messages),
        status="Accepted",
    )
    return plan


def test_version_grows_only_when_the_content_changes(station):
    # given
    tag = _tag(station, "A")
    local_list = local_list_for_station(charge_point=station)

    # when
    first = local_list_current(local_list=local_list)
    again = local_list_current(local_list=local_list)
    tag.status = IdTag.Status.BLOCKED
    tag.save()
    changed = local_list_current(local_list=local_list)

    # then
    assert (first.version, again.version, changed.version) == (1, 1, 2)
    assert changed.entries["A"]["status"] == "Blocked"


def test_entries_carry_expiry_parent_and_group_type(station):
    _tag(station, "GROUP", type=IdTag.Type.KEY_CODE)
    _tag(station, "A", expiry_date=EXPIRY, parent_id_tag="GROUP")
    _tag(station, "B", parent_id_tag="UNREGISTERED")

    entries = local_list_current(
        local_list=local_list_for_station(charge_point=station)
    ).entries

    assert entries["A"] == {
        "status": "Accepted",
        "expiry_date": "2030-01-01T00:00:00+00:00",
        "parent_id_tag": "GROUP",
        "type": "ISO14443",
        "group_type": "KeyCode",
    }
    assert entries["B"]["group_type"] == "Central"


def test_first_plan_is_a_full_list(station):
    _tag(station, "A")
    _tag(station, "B")

    plan = local_list_plan(charge_point_id=station.pk)

    (message,) = plan.messages
    assert (message.update_type, message.version) == ("Full", 1)
    assert set(message.entries) == {"A", "B"}


def test_after_a_sync_only_the_difference_is_sent(station):
    # given
    _tag(station, "KEEP")
    changed = _tag(station, "CHANGE")
    removed = _tag(station, "REMOVE", type=IdTag.Type.KEY_CODE)
    _synced(station)

    # when
    changed.status = IdTag.Status.BLOCKED
    changed.save()
    removed.delete()
    _tag(station, "NEW")
    plan = local_list_plan(charge_point_id=station.pk)

    # then
    (message,) = plan.messages
    assert (message.update_type, message.version) == ("Differential", 2)
    assert message.entries["CHANGE"]["status"] == "Blocked"
    assert message.entries["REMOVE"] is None
    assert message.removed["REMOVE"]["type"] == "KeyCode"
    assert set(message.entries) == {"CHANGE", "REMOVE", "NEW"}


def test_a_station_holding_the_current_version_is_up_to_date(station):
    _tag(station, "A")
    _synced(station)

    plan = local_list_plan(charge_point_id=station.pk)

    assert plan.up_to_date
    assert plan.version == 1


def test_a_station_reporting_another_version_gets_the_full_list(station):
    _tag(station, "A")
    _synced(station)
    local_list_version_reported(charge_point_id=station.pk, version=7)

    plan = local_list_plan(charge_point_id=station.pk)

    (message,) = plan.messages
    assert message.update_type == "Full"


def test_forced_differential_without_a_known_base_outnumbers_the_station(station):
    # given: the station holds version 5 of a list we never sent
    _tag(station, "A")
    local_list_version_reported(charge_point_id=station.pk, version=5)

    # when
    plan = local_list_plan(charge_point_id=station.pk, update_type="Differential")

    # then: every entry, with a version above the station's (D01.FR.19)
    (message,) = plan.messages
    assert message.update_type == "Differential"
    assert message.version == 6
    assert set(message.entries) == {"A"}


def test_a_long_list_is_sent_full_then_differential_with_growing_versions(station):
    for name in "ABCDE":
        _tag(station, name)

    plan = local_list_plan(charge_point_id=station.pk, max_items=2)

    assert [(m.update_type, m.version, len(m.entries)) for m in plan.messages] == [
        ("Full", 1, 2),
        ("Differential", 2, 2),
        ("Differential", 3, 1),
    ]
    assert plan.version == 3


def test_an_empty_list_is_one_full_update(station):
    plan = local_list_plan(charge_point_id=station.pk)

    (message,) = plan.messages
    assert (message.update_type, message.entries) == ("Full", {})


def test_a_partly_sent_plan_leaves_the_station_without_a_known_base(station):
    for name in "ABC":
        _tag(station, name)
    plan = local_list_plan(charge_point_id=station.pk, max_items=1)

    state = local_list_sync_result(
        charge_point_id=station.pk, plan=plan, accepted=1, status="Failed"
    )

    assert (state.version, state.content_id, state.last_status) == (1, None, "Failed")
    assert local_list_plan(charge_point_id=station.pk).update_type == "Full"


def test_a_station_group_list_takes_precedence(station):
    group = StationGroup.objects.create(organization=station.organization, name="Depot")
    group.charge_points.add(station)
    depot_tag = _tag(station, "DEPOT")
    _tag(station, "OTHER")
    group_list = LocalAuthList.objects.create(
        organization=station.organization,
        name="Depot",
        station_group=group,
        all_id_tags=False,
    )
    group_list.id_tags.add(depot_tag)

    plan = local_list_plan(charge_point_id=station.pk)

    assert local_list_for_station(charge_point=station) == group_list
    assert set(plan.messages[0].entries) == {"DEPOT"}


def test_old_versions_nobody_holds_are_pruned(station):
    tag = _tag(station, "A")
    _synced(station)
    for status in (IdTag.Status.BLOCKED, IdTag.Status.ACCEPTED):
        tag.status = status
        tag.save()
        _synced(station)

    versions = LocalAuthListVersion.objects.values_list("version", flat=True)
    assert list(versions) == [3]
    assert StationLocalList.objects.get(charge_point=station).version == 3


def test_boot_queues_a_sync_only_when_the_organization_syncs(
    station, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "apps.authlists.tasks.queue_local_list_sync", lambda cp: queued.append(cp)
    )

    with django_capture_on_commit_callbacks(execute=True):
        off = local_list_station_booted(
            charge_point_id=station.pk, organization=station.organization
        )
    station.organization.local_list_auto_sync = True
    with django_capture_on_commit_callbacks(execute=True):
        on = local_list_station_booted(
            charge_point_id=station.pk, organization=station.organization
        )

    assert (off, on) == (False, True)
    assert queued == [station.pk]
