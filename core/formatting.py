"""Money, number and date formatting in the user's language."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_currency, format_date, format_datetime, format_decimal


def vnd(amount: int | None) -> str:
    """Whole dong the way the reader expects it: ``150.000 ₫`` in Vietnamese."""
    if amount is None:
        return ""
    return format_currency(int(amount), "VND", currency_digits=True)


def number(value) -> str:
    return format_decimal(value)


def datetime_local(value: datetime | None, fmt: str = "short") -> str:
    """A stored naive-UTC datetime shown in Asia/Ho_Chi_Minh in the user's locale."""
    return format_datetime(value, fmt) if value else ""


def date_local(value: date | None, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else ""


def register(app) -> None:
    app.jinja_env.filters.update(vnd=vnd, number=number, datetime=datetime_local, date=date_local)
