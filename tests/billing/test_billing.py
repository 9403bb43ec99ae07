"""Billing a stopped session, and managing tariffs."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from apps.billing.models import StationTariff, Tariff, TransactionCost
from apps.billing.services.billing import transaction_bill
from apps.billing.services.tariffs import tariff_create, tariff_update
from apps.transactions.models import Transaction
from apps.transactions.services.stop import transaction_stop
from csms.errors import ApplicationError
from tests.factories import ChargePointFactory, OrganizationFactory
from tests.transactions.factories import (
    MeterValueFactory,
    TariffBandFactory,
    TariffFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 15, 21, 30, tzinfo=UTC)


def stop(tx: Transaction, *, minutes: int, meter_stop: int) -> Transaction:
    return transaction_stop(
        transaction=tx,
        stopped_at=tx.started_at + timedelta(minutes=minutes),
        reason="Local",
        stopped_by="station",
        meter_stop=Decimal(meter_stop),
    )


def test_stop_bills_with_the_station_tariff_and_publishes_it(
    published, django_capture_on_commit_callbacks
):
    # given: a 1.6 session 21:30-22:30 crossing into the night band at 22:00
    tx = TransactionFactory(started_at=T0, meter_start=Decimal(10000))
    organization = tx.organization
    TariffFactory(organization=organization, price_per_kwh=Decimal("9.99"))
    station_tariff = TariffFactory(
        organization=organization,
        is_default=False,
        price_per_kwh=Decimal("0.30"),
        price_per_minute=Decimal("0.01"),
        session_fee=Decimal("1.00"),
    )
    TariffBandFactory(
        tariff=station_tariff,
        start_time=time(22),
        end_time=time(6),
        price_per_kwh=Decimal("0.20"),
        price_per_minute=Decimal("0"),
    )
    StationTariff.objects.create(charge_point=tx.charge_point, tariff=station_tariff)
    MeterValueFactory(
        transaction=tx, timestamp=T0 + timedelta(minutes=30), value=Decimal(15000)
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        stop(tx, minutes=60, meter_stop=19000)

    # then: day 5 kWh x 0.30 + night 4 kWh x 0.20 + 30 min x 0.01 + 1.00
    cost = TransactionCost.objects.get()
    assert (cost.tariff, cost.currency, cost.total) == (
        station_tariff,
        "EUR",
        Decimal("3.60"),
    )
    assert (cost.energy_cost, cost.time_cost, cost.session_fee) == (
        Decimal("2.30"),
        Decimal("0.30"),
        Decimal("1.00"),
    )
    assert [s["band"] for s in cost.breakdown["segments"]] == ["", "night"]
    billed = published[-1]
    assert billed["type"] == "transaction.billed"
    assert billed["organization"] == organization.pk
    assert (billed["data"]["cost"], billed["data"]["currency"]) == ("3.60", "EUR")


def test_organization_default_tariff_is_used_without_a_station_tariff():
    tx = TransactionFactory(started_at=T0, meter_start=Decimal(0))
    TariffFactory(organization=tx.organization, price_per_kwh=Decimal("0.25"))

    stop(tx, minutes=60, meter_stop=10000)

    assert Transaction.objects.get().billing.total == Decimal("2.50")


def test_without_a_tariff_nothing_is_billed(
    published, django_capture_on_commit_callbacks
):
    tx = TransactionFactory(started_at=T0)

    with django_capture_on_commit_callbacks(execute=True):
        stop(tx, minutes=10, meter_stop=2000)

    assert TransactionCost.objects.count() == 0
    assert [e["type"] for e in published] == ["transaction.stopped"]


def test_a_16_session_pays_idle_time_after_the_meter_stopped_rising():
    # given: the register rises until 22:10 and stays flat until the 22:30 stop
    tx = TransactionFactory(started_at=T0, meter_start=Decimal(0))
    TariffFactory(
        organization=tx.organization,
        price_per_kwh=Decimal("0.30"),
        price_per_minute=Decimal("0.05"),
        idle_fee_per_minute=Decimal("0.20"),
        idle_grace_minutes=10,
    )
    for minutes, wh in ((20, 5000), (40, 9000), (50, 9000)):
        MeterValueFactory(
            transaction=tx, timestamp=T0 + timedelta(minutes=minutes), value=Decimal(wh)
        )

    # when
    stop(tx, minutes=60, meter_stop=9000)

    # then: 40 charging minutes x 0.05 = 2.00; idle 22:20-22:30 = 10 x 0.20
    cost = TransactionCost.objects.get()
    assert (cost.charging_seconds, cost.idle_seconds) == (2400, 600)
    assert (cost.energy_cost, cost.time_cost, cost.idle_cost, cost.total) == (
        Decimal("2.70"),
        Decimal("2.00"),
        Decimal("2.00"),
        Decimal("6.70"),
    )


def test_billing_again_replaces_the_cost():
    tx = TransactionFactory(started_at=T0, meter_start=Decimal(0))
    tariff = TariffFactory(organization=tx.organization, price_per_kwh=Decimal("1"))
    stop(tx, minutes=60, meter_stop=1000)
    tariff.price_per_kwh = Decimal("2")
    tariff.save()

    transaction_bill(transaction=Transaction.objects.get())

    assert TransactionCost.objects.get().total == Decimal("2.00")


def test_a_new_default_tariff_takes_the_flag_from_the_old_one():
    organization = OrganizationFactory()
    old = tariff_create(organization=organization, name="Old", is_default=True)

    new = tariff_create(organization=organization, name="New", is_default=True)

    old.refresh_from_db()
    assert (old.is_default, new.is_default) == (False, True)


def test_tariff_update_replaces_bands_and_moves_stations():
    # given
    organization = OrganizationFactory()
    station = ChargePointFactory(organization=organization)
    first = tariff_create(organization=organization, name="A", charge_points=[station])
    second = tariff_create(
        organization=organization,
        name="B",
        bands=[{"name": "night", "start_time": time(22), "end_time": time(6)}],
    )

    # when
    tariff_update(
        tariff=second,
        charge_points=[station],
        bands=[{"name": "peak", "start_time": time(17), "end_time": time(20)}],
    )

    # then
    assert StationTariff.objects.get(charge_point=station).tariff == second
    assert list(first.station_links.all()) == []
    assert list(second.bands.values_list("name", flat=True)) == ["peak"]


def test_a_station_of_another_organization_cannot_use_the_tariff():
    station = ChargePointFactory()

    with pytest.raises(ApplicationError) as raised:
        tariff_create(
            organization=OrganizationFactory(), name="A", charge_points=[station]
        )

    assert raised.value.details == {"charge_points": [station.pk]}


def test_unknown_time_zone_is_refused():
    with pytest.raises(ApplicationError) as raised:
        tariff_create(
            organization=OrganizationFactory(), name="A", timezone="Mars/Base"
        )

    assert "timezone" in raised.value.details
    assert Tariff.objects.count() == 0
