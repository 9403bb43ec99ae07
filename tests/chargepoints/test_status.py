"""StatusNotification, as the group commit runs it: preloaded EVSEs, staged writes."""

import gc
from datetime import UTC, datetime, timedelta

import pytest

from apps.chargepoints.models import ChargePoint, Connector, Evse, StatusChange
from apps.chargepoints.services.status import preload_evses, status_report
from csms.bulk import begin_staging, end_staging
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def staging():
    batch = begin_staging()
    yield batch
    end_staging()


def station_with_two_connectors(name: str) -> str:
    station = ChargePointFactory(id=name)
    evse = EvseFactory(charge_point=station, evse_id=1, status="Available")
    for n in (1, 2):
        ConnectorFactory(evse=evse, connector_id=n, status="Available", updated_at=T0)
    return station.id


def report(
    station: str, status: str, minutes: int = 1, connector: int = 1, org=None
) -> bool:
    return status_report(
        charge_point_id=station,
        organization_id=org,
        evse_id=1,
        connector_id=connector,
        status=status,
        occurred_at=T0 + timedelta(minutes=minutes),
        error_code="",
    )


def test_a_batch_of_reports_costs_one_read_and_one_statement_per_table(
    staging,
    django_assert_num_queries,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    # given: five stations, their EVSEs preloaded as the executor does
    stations = [station_with_two_connectors(f"ST{n}") for n in range(5)]
    orgs = dict(ChargePoint.objects.values_list("id", "organization_id"))
    with django_assert_num_queries(1):
        preload_evses([(s, 1) for s in stations])

    # when: each reports its first connector Occupied
    with django_capture_on_commit_callbacks() as published:
        with django_assert_num_queries(0):
            for station in stations:
                assert report(station, "Occupied", org=orgs[station])
        # then: history rows, connectors and EVSEs with a few statements
        with django_assert_max_num_queries(3):
            staging.flush()

    assert StatusChange.objects.filter(status="Occupied").count() == 5
    assert set(
        Connector.objects.filter(connector_id=1).values_list("status", flat=True)
    ) == {"Occupied"}
    assert set(
        Connector.objects.filter(connector_id=2).values_list("status", flat=True)
    ) == {"Available"}
    assert set(Evse.objects.values_list("status", "updated_at")) == {
        ("Occupied", T0 + timedelta(minutes=1))
    }
    assert len(published) == 5


def test_the_evse_shows_its_worst_connector(staging):
    station = station_with_two_connectors("WORST")
    preload_evses([(station, 1)])

    report(station, "Faulted", minutes=1, connector=2)
    report(station, "Occupied", minutes=2, connector=1)
    staging.flush()

    assert Evse.objects.get(charge_point_id=station).status == "Faulted"


def test_an_older_report_goes_to_history_only(staging):
    station = station_with_two_connectors("LATE")
    preload_evses([(station, 1)])
    assert report(station, "Charging", minutes=10)

    changed = report(station, "Preparing", minutes=5)
    staging.flush()

    assert changed is False
    assert Connector.objects.get(
        evse__charge_point_id=station, connector_id=1
    ).status == ("Charging")
    assert list(
        StatusChange.objects.filter(charge_point_id=station)
        .order_by("occurred_at")
        .values_list("status", "previous_status")
    ) == [("Preparing", "Charging"), ("Charging", "Available")]


def test_a_new_evse_and_connector_are_created_outside_a_batch():
    station = ChargePointFactory(id="NEW")

    assert report(station.id, "Available", connector=3)

    connector = Connector.objects.get(evse__charge_point=station, evse__evse_id=1)
    assert (connector.connector_id, connector.status, connector.evse.status) == (
        3,
        "Available",
        "Available",
    )


def test_a_report_for_an_evse_the_preload_did_not_find_creates_it(staging):
    station = ChargePointFactory(id="UNSEEN")
    preload_evses([(station.id, 1)])

    report(station.id, "Unavailable", connector=1)
    staging.flush()

    assert Connector.objects.get(evse__charge_point=station).status == "Unavailable"


def test_a_batch_of_reports_leaves_no_cycle_for_the_garbage_collector():
    """The batch's EVSEs and connectors are freed with the batch: a cycle
    between them would be garbage for the collector, a pair per report."""
    stations = [station_with_two_connectors(f"GC{n}") for n in range(3)]
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        batch = begin_staging()
        preload_evses([(s, 1) for s in stations])
        for station in stations:
            report(station, "Occupied")
        batch.flush()
        end_staging()
        del batch
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, Evse | Connector)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cyclic == []
    assert Connector.objects.filter(status="Occupied").count() == 3
