"""The geometry of the dashboard's net-income chart, drawn as SVG by templates/farmers/dashboard_chart.html.

Two bars per day, week or month: produce (solid) and visits (striped), so the chart reads without colour; every
bar carries a ``<title>`` with its figure, and the page repeats the numbers in a table. Coordinates are in the
SVG's own units (its viewBox); amounts stay integers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from farmers.dashboard import Bucket

WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 4, 4, 40, 24     # plot area margins; the legend sits in the top one
MAX_LABELS = 7


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
    bars, labels = [], []
    every = -(-len(buckets) // MAX_LABELS) or 1
    for index, bucket in enumerate(buckets):
        left = LEFT + index * slot + slot * 0.1
        days = _day(bucket.start) if bucket.start == bucket.end else f"{_day(bucket.start)}–{_day(bucket.end)}"
        for offset, (group, value) in enumerate((("produce", bucket.produce.net), ("tours", bucket.tours.net))):
            top = y(value)
            bars.append(Bar(group, round(left + offset * bar_w, 1), min(top, zero), bar_w, abs(zero - top), value,
                            days))
        if index % every == 0:
            text = bucket.start.strftime("%m/%y") if step == "month" else _day(bucket.start)
            labels.append(Label(round(LEFT + index * slot, 1), text))
    return Chart(WIDTH, HEIGHT, bars, labels, step, high, low, float(TOP), zero, float(TOP + plot_h),
                 empty=not any(values))
