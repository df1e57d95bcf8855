"""The periods of the income dashboard: the last 30 days (the default, so that the first days of a month do not
show a page of zeros), this week, month, season or year, or two dates the farmer chose.

Every period is a range of local (Asia/Ho_Chi_Minh) calendar days, first and last included; the ledger stores
naive UTC, so ``start_utc``/``end_utc`` give the half-open UTC range to filter on.

The season is the pineapple harvest of Kep: 1 April to 30 September. From April on it is this year's season
(up to today); in January to March, last year's.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from core.time import local_to_utc

NAMED = ("30days", "week", "month", "season", "year")
DEFAULT = "30days"
SEASON_FIRST_MONTH, SEASON_LAST_MONTH = 4, 9
MAX_DAYS = 5 * 366          # longer than five years is a typing mistake
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)

LABELS = {"30days": _l("Last 30 days"), "week": _l("This week"), "month": _l("This month"), "season": _l("This season"),
          "year": _l("This year"), "custom": _l("Chosen dates")}


class PeriodError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Period:
    key: str      # week | month | season | year | custom
    start: date   # first local day
    end: date     # last local day, included

    @property
    def label(self):
        return LABELS[self.key]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_utc(self) -> datetime:
        return local_to_utc(datetime.combine(self.start, time()))

    @property
    def end_utc(self) -> datetime:
        """The first UTC instant after the period (exclusive bound)."""
        return local_to_utc(datetime.combine(self.end + timedelta(days=1), time()))

    @property
    def bucket(self) -> str:
        """The chart's step: day up to a month, week up to half a year (a season), month beyond."""
        if self.days <= 31:
            return "day"
        if self.days <= 190:
            return "week"
        return "month"

    def query_args(self) -> dict[str, str]:
        """The URL arguments that name this period again (for the CSV and statement links)."""
        if self.key == "custom":
            return {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return {"period": self.key}


def named(key: str, today: date) -> Period:
    if key == "30days":
        start = today - timedelta(days=29)
    elif key == "week":
        start = today - timedelta(days=today.weekday())
    elif key == "month":
        start = today.replace(day=1)
    elif key == "year":
        start = today.replace(month=1, day=1)
    elif key == "season":
        year = today.year if today.month >= SEASON_FIRST_MONTH else today.year - 1
        start = date(year, SEASON_FIRST_MONTH, 1)
        return Period("season", start, min(today, date(year, SEASON_LAST_MONTH, 30)))
    else:
        raise ValueError(key)
    return Period(key, start, today)


def custom(start_raw: str, end_raw: str) -> Period:
    """Two dates typed or picked by the farmer; PeriodError with a message for them when they make no sense."""
    if not start_raw or not end_raw:
        raise PeriodError(_l("Choose both a first and a last day."))
    try:
        start, end = date.fromisoformat(start_raw.strip()), date.fromisoformat(end_raw.strip())
    except ValueError:
        raise PeriodError(_l("These dates could not be read. Pick them in the calendar, or write them like "
                             "2026-05-31.")) from None
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
        raise PeriodError(_l("Choose dates between the years 2000 and 2099."))
    if start > end:
        raise PeriodError(_l("The first day is after the last day."))
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(_l("Choose at most five years."))
    return Period("custom", start, end)


def from_args(args: Mapping[str, str], today: date) -> tuple[Period, str | None]:
    """The period the URL asks for, or the last 30 days and a message saying why not."""
    if args.get("from") or args.get("to"):
        try:
            return custom(args.get("from", ""), args.get("to", "")), None
        except PeriodError as error:
            return named(DEFAULT, today), _l("%(problem)s Showing the last 30 days instead.", problem=error.message)
    key = args.get("period") or DEFAULT
    if key not in NAMED:
        return named(DEFAULT, today), _l("Unknown period. Showing the last 30 days instead.")
    return named(key, today), None
