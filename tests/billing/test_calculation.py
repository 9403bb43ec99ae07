"""Cost arithmetic with exact Decimal expectations."""

from datetime import UTC, datetime, time
from decimal import Decimal

from apps.billing.services.calculation import (
    BandSpec,
    TariffSpec,
    Usage,
    calculate_cost,
    energy_at,
)

D = Decimal


def at(hour: int, minute: int = 0, day: int = 15) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


def usage(start, stop, points, periods=None) -> Usage:
    return Usage(
        started_at=start,
        stopped_at=stop,
        energy_points=tuple((moment, D(wh)) for moment, wh in points),
        charging_periods=((start, stop),) if periods is None else tuple(periods),
    )


def test_session_fee_energy_and_time_add_up():
    # given: 12.345 kWh in 45 minutes
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.39"),
        price_per_minute=D("0.02"),
        session_fee=D("1.00"),
    )
    session = usage(at(10), at(10, 45), [(at(10), "1000"), (at(10, 45), "13345")])

    # when
    cost = calculate_cost(tariff=tariff, usage=session)

    # then: 12.345 x 0.39 = 4.81455 -> 4.81; 45 x 0.02 = 0.90
    assert (cost.session_fee, cost.energy_cost, cost.time_cost, cost.idle_cost) == (
        D("1.00"),
        D("4.81"),
        D("0.90"),
        D("0.00"),
    )
    assert cost.total == D("6.71")
    assert (cost.energy_wh, cost.charging_seconds, cost.idle_seconds) == (
        D("12345.000"),
        2700,
        0,
    )


def test_amounts_are_rounded_half_up_to_the_cent():
    # 2.5 kWh x 0.17 = 0.425 -> 0.43 (banker's rounding would give 0.42)
    tariff = TariffSpec(currency="EUR", price_per_kwh=D("0.17"))
    session = usage(at(10), at(11), [(at(10), "0"), (at(11), "2500")])

    assert calculate_cost(tariff=tariff, usage=session).total == D("0.43")


def test_a_session_crossing_into_a_night_band_is_priced_per_band():
    # given: day 0.30/kWh + 0.01/min; night (22:00-06:00) 0.20/kWh, time free
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.30"),
        price_per_minute=D("0.01"),
        session_fee=D("1.00"),
        bands=(
            BandSpec(
                name="night",
                start=time(22),
                end=time(6),
                price_per_kwh=D("0.20"),
                price_per_minute=D("0"),
            ),
        ),
    )
    session = usage(
        at(21, 30),
        at(22, 30),
        [(at(21, 30), "10000"), (at(22), "15000"), (at(22, 30), "19000")],
    )

    # when
    cost = calculate_cost(tariff=tariff, usage=session)

    # then: day 5 kWh x 0.30 = 1.50, night 4 kWh x 0.20 = 0.80; 30 min x 0.01
    assert (cost.energy_cost, cost.time_cost, cost.total) == (
        D("2.30"),
        D("0.30"),
        D("3.60"),
    )
    assert [(s.band, s.energy_wh, s.charging_seconds) for s in cost.segments] == [
        ("", D(5000), D(1800)),
        ("night", D(4000), D(1800)),
    ]


def test_energy_between_readings_is_split_at_the_band_boundary_linearly():
    # given: one reading at each end; the boundary is two thirds in
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.30"),
        bands=(BandSpec(start=time(22), end=time(6), price_per_kwh=D("0.15")),),
    )
    session = usage(at(20), at(23), [(at(20), "0"), (at(23), "9000")])

    # when
    cost = calculate_cost(tariff=tariff, usage=session)

    # then: 6 kWh x 0.30 = 1.80 before 22:00, 3 kWh x 0.15 = 0.45 after
    assert cost.energy_cost == D("2.25")
    assert [s.energy_wh for s in cost.segments] == [D(6000), D(3000)]


def test_a_night_band_is_left_again_in_the_morning_in_the_tariff_time_zone():
    # given: Europe/Berlin is UTC+1 in January, so the 22:00-06:00 band is
    # 21:00-05:00 UTC; the session runs 04:00-06:00 UTC
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.40"),
        timezone="Europe/Berlin",
        bands=(
            BandSpec(
                name="night", start=time(22), end=time(6), price_per_kwh=D("0.10")
            ),
        ),
    )
    session = usage(at(4), at(6), [(at(4), "0"), (at(5), "7000"), (at(6), "10000")])

    # when
    cost = calculate_cost(tariff=tariff, usage=session)

    # then: 7 kWh x 0.10 = 0.70 at night, 3 kWh x 0.40 = 1.20 after
    assert [(s.band, s.start, s.end) for s in cost.segments] == [
        ("night", at(4), at(5)),
        ("", at(5), at(6)),
    ]
    assert cost.energy_cost == D("1.90")


def test_a_session_spanning_two_nights_meets_the_band_twice():
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.30"),
        bands=(
            BandSpec(
                name="night", start=time(22), end=time(6), price_per_kwh=D("0.10")
            ),
        ),
    )
    session = usage(at(20), at(23, day=16), [(at(20), "0"), (at(23, day=16), "27000")])

    cost = calculate_cost(tariff=tariff, usage=session)

    # 27 h, 1 kWh per hour: night 22-06 (8 h) and 22-23 (1 h) = 9 kWh x 0.10,
    # day 20-22, 06-22 = 18 kWh x 0.30
    assert [s.band for s in cost.segments] == ["", "night", "", "night"]
    assert cost.energy_cost == D("6.30")


def test_idle_fee_runs_from_the_end_of_charging_after_the_grace_time():
    # given: charging 10:00-10:40, plugged in until 11:00, 5 free minutes
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.30"),
        idle_fee_per_minute=D("0.10"),
        idle_grace_minutes=5,
    )
    session = usage(
        at(10),
        at(11),
        [(at(10), "0"), (at(10, 40), "8000"), (at(11), "8000")],
        periods=[(at(10), at(10, 40))],
    )

    # when
    cost = calculate_cost(tariff=tariff, usage=session)

    # then: 15 idle minutes x 0.10
    assert (cost.idle_seconds, cost.idle_cost) == (900, D("1.50"))
    assert (cost.energy_cost, cost.total) == (D("2.40"), D("3.90"))


def test_idle_fee_is_nothing_within_the_grace_time():
    tariff = TariffSpec(
        currency="EUR", idle_fee_per_minute=D("1"), idle_grace_minutes=30
    )
    session = usage(at(10), at(11), [], periods=[(at(10), at(10, 40))])

    assert calculate_cost(tariff=tariff, usage=session).idle_cost == D("0.00")


def test_a_glitching_register_never_makes_a_piece_negative():
    tariff = TariffSpec(currency="EUR", price_per_kwh=D("1"))
    session = usage(
        at(10),
        at(11),
        [
            (at(10), "1000"),
            (at(10, 20), "5000"),
            (at(10, 40), "2000"),
            (at(11), "6000"),
        ],
    )

    cost = calculate_cost(tariff=tariff, usage=session)

    assert [s.energy_wh for s in cost.segments] == [D(5000)]
    assert cost.energy_cost == D("5.00")


def test_unknown_energy_costs_only_fee_and_time():
    tariff = TariffSpec(
        currency="EUR",
        price_per_kwh=D("0.30"),
        price_per_minute=D("0.05"),
        session_fee=D("0.50"),
    )

    cost = calculate_cost(tariff=tariff, usage=usage(at(10), at(10, 20), []))

    assert (cost.energy_cost, cost.time_cost, cost.total) == (
        D("0.00"),
        D("1.00"),
        D("1.50"),
    )


def test_energy_at_interpolates_between_readings():
    points = [(at(10), D(0)), (at(11), D(6000))]

    assert energy_at(points, at(10, 20)) == D(2000)
    assert energy_at(points, at(9)) == D(0)
    assert energy_at(points, at(12)) == D(6000)


def test_breakdown_is_json_ready():
    tariff = TariffSpec(currency="EUR", price_per_kwh=D("0.30"))
    session = usage(at(10), at(10, 30), [(at(10), "0"), (at(10, 30), "1500")])

    breakdown = calculate_cost(tariff=tariff, usage=session).as_dict()

    assert breakdown == {
        "currency": "EUR",
        "session_fee": "0.00",
        "energy_cost": "0.45",
        "time_cost": "0.00",
        "idle_cost": "0.00",
        "total": "0.45",
        "energy_wh": "1500",
        "charging_seconds": 1800,
        "idle_seconds": 0,
        "segments": [
            {
                "start": "2025-01-15T10:00:00+00:00",
                "end": "2025-01-15T10:30:00+00:00",
                "band": "",
                "energy_wh": "1500",
                "charging_minutes": "30",
                "price_per_kwh": "0.3",
                "price_per_minute": "0",
                "energy_cost": "0.45",
                "time_cost": "0",
            }
        ],
    }
