"""The cost of a session: pure Decimal arithmetic, no database.

The session [start, stop) is cut at every time-of-day band boundary (in the
tariff's time zone). In each piece the band's prices apply (or the tariff's):
energy is the meter curve's rise over the piece (linear between readings),
time is the part of the piece spent charging. Idle time runs from the end of
the last charging period (plus the grace minutes) to the stop and is not
banded. Each component is rounded half-up to the cent once, at the end; the
total is the sum of the rounded components, so the breakdown adds up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
DETAIL = Decimal("0.000001")
_ZERO = Decimal(0)
_WH_PER_KWH = Decimal(1000)
_SECONDS_PER_MINUTE = Decimal(60)

Point = tuple[datetime, Decimal]
Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class BandSpec:
    start: time
    end: time
    price_per_kwh: Decimal | None = None
    price_per_minute: Decimal | None = None
    name: str = ""


@dataclass(frozen=True)
class TariffSpec:
    currency: str
    price_per_kwh: Decimal = _ZERO
    price_per_minute: Decimal = _ZERO
    session_fee: Decimal = _ZERO
    idle_fee_per_minute: Decimal | None = None
    idle_grace_minutes: int = 0
    timezone: str = "UTC"
    bands: tuple[BandSpec, ...] = ()


@dataclass(frozen=True)
class Usage:
    started_at: datetime
    stopped_at: datetime
    # Register readings (Wh) including the start and stop values; empty when
    # the session's energy is unknown.
    energy_points: tuple[Point, ...] = ()
    charging_periods: tuple[Period, ...] = ()


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    band: str
    energy_wh: Decimal
    charging_seconds: Decimal
    price_per_kwh: Decimal
    price_per_minute: Decimal

    @property
    def energy_cost(self) -> Decimal:
        return self.energy_wh / _WH_PER_KWH * self.price_per_kwh

    @property
    def time_cost(self) -> Decimal:
        return self.charging_seconds / _SECONDS_PER_MINUTE * self.price_per_minute

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "band": self.band,
            "energy_wh": _plain(self.energy_wh.quantize(Decimal("0.001"))),
            "charging_minutes": _plain(
                (self.charging_seconds / _SECONDS_PER_MINUTE).quantize(DETAIL)
            ),
            "price_per_kwh": _plain(self.price_per_kwh),
            "price_per_minute": _plain(self.price_per_minute),
            "energy_cost": _plain(self.energy_cost.quantize(DETAIL)),
            "time_cost": _plain(self.time_cost.quantize(DETAIL)),
        }


@dataclass(frozen=True)
class CostBreakdown:
    currency: str
    session_fee: Decimal
    energy_cost: Decimal
    time_cost: Decimal
    idle_cost: Decimal
    total: Decimal
    energy_wh: Decimal
    charging_seconds: int
    idle_seconds: int
    segments: tuple[Segment, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "session_fee": str(self.session_fee),
            "energy_cost": str(self.energy_cost),
            "time_cost": str(self.time_cost),
            "idle_cost": str(self.idle_cost),
            "total": str(self.total),
            "energy_wh": _plain(self.energy_wh),
            "charging_seconds": self.charging_seconds,
            "idle_seconds": self.idle_seconds,
            "segments": [segment.as_dict() for segment in self.segments],
        }


def _plain(value: Decimal) -> str:
    """A Decimal as a string without exponent or trailing zeros."""
    text = f"{value.normalize():f}"
    return text


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def seconds(delta: timedelta) -> Decimal:
    """An exact Decimal number of seconds."""
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / Decimal(1_000_000)


def _monotonic(points: tuple[Point, ...]) -> list[Point]:
    """Sorted, never decreasing, never above the final reading.

    A glitching register (a reading lower than the one before) must not make
    a piece of the session negative; the pieces still add up to the total.
    """
    ordered = sorted(points, key=lambda point: point[0])
    if not ordered:
        return []
    final = ordered[-1][1]
    result: list[Point] = []
    highest = ordered[0][1]
    for moment, value in ordered:
        highest = max(highest, value)
        result.append((moment, min(highest, final)))
    return result


def energy_at(points: list[Point], moment: datetime) -> Decimal:
    """The register value at ``moment``, linear between readings."""
    if not points:
        return _ZERO
    if moment <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if t0 <= moment <= t1:
            if t1 == t0:
                return v1
            return v0 + (v1 - v0) * seconds(moment - t0) / seconds(t1 - t0)
    return points[-1][1]


def _overlap(a: Period, b: Period) -> Decimal:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return seconds(end - start) if end > start else _ZERO


def band_windows(
    tariff: TariffSpec, start: datetime, stop: datetime
) -> list[tuple[datetime, datetime, BandSpec]]:
    """Every band occurrence touching [start, stop), in UTC."""
    zone = ZoneInfo(tariff.timezone)
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = stop.astimezone(zone).date()
    windows = []
    day = first_day
    while day <= last_day:
        for band in tariff.bands:
            end_day = day if band.end > band.start else day + timedelta(days=1)
            begin = datetime.combine(day, band.start, tzinfo=zone).astimezone(UTC)
            end = datetime.combine(end_day, band.end, tzinfo=zone).astimezone(UTC)
            if end > start and begin < stop:
                windows.append((begin, end, band))
        day += timedelta(days=1)
    return windows


def _segments(tariff: TariffSpec, usage: Usage) -> list[Segment]:
    start, stop = usage.started_at, usage.stopped_at
    windows = band_windows(tariff, start, stop) if tariff.bands else []
    cuts = {start, stop}
    for begin, end, _band in windows:
        cuts.update(moment for moment in (begin, end) if start < moment < stop)
    ordered = sorted(cuts)
    points = _monotonic(usage.energy_points)
    segments = []
    for begin, end in zip(ordered, ordered[1:], strict=False):
        middle = begin + (end - begin) / 2
        band = next((b for s, e, b in windows if s <= middle < e), None)
        price_kwh = tariff.price_per_kwh
        price_minute = tariff.price_per_minute
        if band is not None:
            if band.price_per_kwh is not None:
                price_kwh = band.price_per_kwh
            if band.price_per_minute is not None:
                price_minute = band.price_per_minute
        segments.append(
            Segment(
                start=begin,
                end=end,
                band=band.name if band is not None else "",
                energy_wh=energy_at(points, end) - energy_at(points, begin),
                charging_seconds=sum(
                    (
                        _overlap((begin, end), period)
                        for period in usage.charging_periods
                    ),
                    _ZERO,
                ),
                price_per_kwh=price_kwh,
                price_per_minute=price_minute,
            )
        )
    return segments


def _idle_seconds(tariff: TariffSpec, usage: Usage) -> Decimal:
    if tariff.idle_fee_per_minute is None or not usage.charging_periods:
        return _ZERO
    charging_end = max(end for _start, end in usage.charging_periods)
    idle_from = charging_end + timedelta(minutes=tariff.idle_grace_minutes)
    if idle_from >= usage.stopped_at:
        return _ZERO
    return seconds(usage.stopped_at - idle_from)


def calculate_cost(*, tariff: TariffSpec, usage: Usage) -> CostBreakdown:
    segments = _segments(tariff, usage)
    idle = _idle_seconds(tariff, usage)
    session_fee = _money(tariff.session_fee)
    energy_cost = _money(sum((s.energy_cost for s in segments), _ZERO))
    time_cost = _money(sum((s.time_cost for s in segments), _ZERO))
    idle_cost = _money(
        idle / _SECONDS_PER_MINUTE * (tariff.idle_fee_per_minute or _ZERO)
    )
    charging = sum((s.charging_seconds for s in segments), _ZERO)
    return CostBreakdown(
        currency=tariff.currency,
        session_fee=session_fee,
        energy_cost=energy_cost,
        time_cost=time_cost,
        idle_cost=idle_cost,
        total=session_fee + energy_cost + time_cost + idle_cost,
        energy_wh=sum((s.energy_wh for s in segments), _ZERO).quantize(
            Decimal("0.001")
        ),
        charging_seconds=int(charging),
        idle_seconds=int(idle),
        segments=tuple(segments),
    )
