"""A session's power and energy over time as an inline SVG (no JavaScript, no CDN).

Energy (kWh) is drawn against the left axis, power (kW) against the right one.
Only numbers and fixed labels go into the markup, so it is safe to mark safe.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.html import escape

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 60, 60, 20, 40
ENERGY_COLOR = "#417690"
POWER_COLOR = "#d9822b"
TICKS = 5

Series = list[tuple[datetime, Decimal]]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _polyline(points: list[tuple[float, float]], color: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>'
    )


def power_energy_svg(*, energy: Series, power: Series) -> str:
    """The chart markup; an empty string when there is nothing to draw."""
    moments = [moment for moment, _ in energy + power]
    if len(moments) < 2:
        return ""
    start, end = min(moments), max(moments)
    span = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    energy_kwh = [(m, float(v) / 1000) for m, v in energy]
    power_kw = [(m, float(v) / 1000) for m, v in power]
    e_min = min((v for _, v in energy_kwh), default=0.0)
    e_top = _nice_max(max((v - e_min for _, v in energy_kwh), default=0.0))
    p_top = _nice_max(max((v for _, v in power_kw), default=0.0))

    def x(moment: datetime) -> float:
        return LEFT + (moment - start).total_seconds() / span * plot_w

    def y(value: float, top: float) -> float:
        return TOP + plot_h - value / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" style="max-width:{WIDTH}px" role="img" '
        'aria-label="Power and energy over time">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#ccc"/>',
    ]
    for i in range(TICKS + 1):
        frac = i / TICKS
        ty = TOP + plot_h - frac * plot_h
        tx = LEFT + frac * plot_w
        moment = start + (end - start) * frac
        parts += [
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" '
            'stroke="#eee"/>',
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{ENERGY_COLOR}">{e_top * frac:.2f}</text>',
            f'<text x="{LEFT + plot_w + 6}" y="{ty + 4:.1f}" font-size="11" '
            f'fill="{POWER_COLOR}">{p_top * frac:.1f}</text>',
            f'<text x="{tx:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
            f'text-anchor="middle">{escape(f"{moment:%H:%M}")}</text>',
        ]
    parts += [
        f'<text x="{LEFT}" y="{HEIGHT - 4}" font-size="12" fill="{ENERGY_COLOR}">'
        "— energy (kWh, from start)</text>",
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" font-size="12" '
        f'text-anchor="end" fill="{POWER_COLOR}">— power (kW)</text>',
    ]
    if len(energy_kwh) >= 1:
        parts.append(
            _polyline(
                [(x(m), y(v - e_min, e_top)) for m, v in energy_kwh], ENERGY_COLOR
            )
        )
    if len(power_kw) >= 1:
        parts.append(_polyline([(x(m), y(v, p_top)) for m, v in power_kw], POWER_COLOR))
    parts.append("</svg>")
    return "".join(parts)
