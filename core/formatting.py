"""Money, number and date formatting in the user's language."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale, ngettext

# Day first and a 24-hour clock in both languages: Babel's English "short" is American ("12/2/26, 5:16 AM"),
# which a visitor from anywhere else reads as 12 February. The month is written out in English, so that no
# reader has to guess the order.
DATETIME = {"vi": "HH:mm, dd/MM/y", "en": "d MMM y, HH:mm"}
DATE = {"vi": "dd/MM/y", "en": "d MMM y"}


def _pattern(table: dict[str, str], fmt: str) -> str:
    if fmt not in ("short", "medium"):
        return fmt
    locale = get_locale()
    return table.get(locale.language if locale else "vi", fmt)


def vnd(amount: int | None) -> str:
    """Whole dong the way the reader expects it: ``150.000 ₫`` in Vietnamese."""
    if amount is None:
        return ""
    return format_currency(int(amount), "VND", currency_digits=True)


def number(value, digits: int | None = None) -> str:
    """A number in the reader's locale ("4,5" in Vietnamese, "4.5" in English); ``digits``: exactly that many
    after the decimal sign."""
    if digits is None:
        return format_decimal(value)
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def datetime_local(value: datetime | None, fmt: str = "short") -> str:
    """A stored naive-UTC datetime shown in Asia/Ho_Chi_Minh in the user's locale: "08:00, 05/12/2026" in
    Vietnamese, "5 Dec 2026, 08:00" in English. Any other Babel format or pattern is passed through."""
    return format_datetime(value, _pattern(DATETIME, fmt)) if value else ""


def date_local(value: date | None, fmt: str = "medium") -> str:
    return format_date(value, _pattern(DATE, fmt)) if value else ""


def party(adults: int, children: int) -> str:
    """A visiting party with each count in its own plural: "1 adult, 2 children"; no children, no mention."""
    text = ngettext("%(num)d adult", "%(num)d adults", adults)
    if children:
        text += ", " + ngettext("%(num)d child", "%(num)d children", children)
    return text


def register(app) -> None:
    app.jinja_env.filters.update(vnd=vnd, number=number, datetime=datetime_local, date=date_local)
    app.jinja_env.globals.update(party=party)


class Shown(str):
    """A farm's own text in the reader's language: the English version where the farm wrote one and the reader
    reads English, else the Vietnamese original. ``untranslated``: an English reader is shown the Vietnamese
    (the page marks it with ``lang="vi"`` and a line saying so)."""
    untranslated = False


def in_reader_language(vietnamese: str, english: str | None) -> Shown:
    locale = get_locale()
    reads_english = locale is not None and locale.language == "en"
    if reads_english and english:
        return Shown(english)
    shown = Shown(vietnamese or "")
    shown.untranslated = reads_english and bool(vietnamese)
    return shown
