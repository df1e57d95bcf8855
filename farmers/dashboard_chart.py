"""The geometry of the dashboard's net-income chart, drawn as SVG by templates/farmers/dashboard_chart.html.

Two bars per day, week or month: produce (solid) and visits (striped), so the chart reads without colour; every
bar carries a ``<title>`` with its figure, and the page repeats the numbers in a table. The figures are also
printed on the chart (a phone has no hover): above each bar while there is room for one label per bar (turned
upright when the bars are narrow), else one label per day, week or month with its net total. Coordinates are in
the SVG's own units (its viewBox); amounts stay integers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_decimal
from flask_babel import gettext as _

from farmers.dashboard import Bucket

WIDTH, HEIGHT = 360, 250
LEFT, RIGHT, TOP, BOTTOM = 4, 4, 70, 24     # margins; the legend and the top bar's label sit in the top one
MAX_LABELS = 7
UPRIGHT_BELOW = 28      # a bar narrower than this gets its label turned upright
PER_BAR_FROM = 9        # a bar at least this wide gets its own label; narrower bars share one per bucket


@dataclass(frozen=True)
class Bar:
    group: str      # produce | tours
    x: float
    y: float
    width: float
    height: float
    value: int
    days: str       # "01/06" or "01/06–07/06"


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Value:
    """A figure printed on the chart, anchored at (x, y): above a bar (below it when negative)."""
    x: float
    y: float
    text: str
    upright: bool
    below: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    step: str
    top_value: int
    bottom_value: int
    top_y: float
    zero_y: float
    bottom_y: float
    empty: bool
    values: list[Value] = ()


def short_amount(value: int) -> str:
    """A figure short enough to print on a bar: 850k, 1,2tr (in English 1.2M); the exact one is in the table."""
    size = abs(value)
    if size >= 1_000_000:
        return _("%(number)sM", number=format_decimal(round(value / 1_000_000, 1 if size < 100_000_000 else 0)))
    if size >= 1_000:
        return _("%(number)sk", number=format_decimal(round(value / 1_000)))
    return format_decimal(value)


def _day(day: date) -> str:
    """Day and month the same way in both languages (and much faster than a locale-aware format)."""
    return day.strftime("%d/%m")


def chart(buckets: list[Bucket], step: str) -> Chart:
    values = [v for b in buckets for v in (b.produce.net, b.tours.net)]
    high, low = max([0, *values]), min([0, *values])
    span = (high - low) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: int) -> float:
        return round(TOP + (high - value) * plot_h / span, 1)

    zero = y(0)
    slot = plot_w / max(len(buckets), 1)
    bar_w = round(max(slot * 0.4, 1.0), 1)
    bars, labels, printed = [], [], []
    per_bar, upright = bar_w >= PER_BAR_FROM, bar_w < UPRIGHT_BELOW
    every = -(-len(buckets) // MAX_LABELS) or 1
    for index, bucket in enumerate(buckets):
        left = LEFT + index * slot + slot * 0.1
        days = _day(bucket.start) if bucket.start == bucket.end else f"{_day(bucket.start)}–{_day(bucket.end)}"
        for offset, (group, value) in enumerate((("produce", bucket.produce.net), ("tours", bucket.tours.net))):
            top = y(value)
            bars.append(Bar(group, round(left + offset * bar_w, 1), min(top, zero), bar_w,
                            round(abs(zero - top), 1), value, days))
            if per_bar and value:
                printed.append(_value(left + (offset + 0.5) * bar_w, top, value, upright))
        total = bucket.produce.net + bucket.tours.net
        if not per_bar and (bucket.produce.net or bucket.tours.net):
            edge = y(max(bucket.produce.net, bucket.tours.net, 0)) if total >= 0 else y(min(
                bucket.produce.net, bucket.tours.net, 0))
            printed.append(_value(left + bar_w, edge, total, True))
        if index % every == 0:
            text = bucket.start.strftime("%m/%y") if step == "month" else _day(bucket.start)
            labels.append(Label(round(LEFT + index * slot, 1), text))
    return Chart(WIDTH, HEIGHT, bars, labels, step, high, low, float(TOP), zero, float(TOP + plot_h),
                 empty=not any(values), values=printed)


def _value(x: float, edge: float, value: int, upright: bool) -> Value:
    below = value < 0
    return Value(round(x, 1), round(edge + (3 if below else -3), 1), short_amount(value), upright, below)
