"""Template helpers of the tours pages, the order page's ticket list and the messages."""
from __future__ import annotations

from babel.dates import get_day_names
from flask import Blueprint
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from core.time import to_local
from tours import services, tickets

SLOT_STATES = {"open": _l("Places left"), "full": _l("Full"), "closed": _l("Closed for booking"),
               "too_late": _l("Too late to book"), "past": _l("Past"), "cancelled": _l("Cancelled")}
SLOT_STATUSES = {"open": _l("Open for booking"), "closed": _l("Closed for booking"), "cancelled": _l("Cancelled")}
BOOKING_STATES = {"valid": _l("Valid"), "checked_in": _l("Checked in"), "cancelled": _l("Cancelled"),
                  "unpaid": _l("Not paid"), "paid": _l("Paid"), "pending": _l("Waiting for payment")}
# Why a farm cancelled a visit time (the farmer picks one; visitors and staff read it).
CANCEL_REASONS = {"weather": _l("Bad weather"), "harvest": _l("Harvest work on the farm"),
                  "other": _l("Another reason")}
TOUR_STATUSES = {"active": _l("Offered"), "paused": _l("Paused"), "archived": _l("Archived")}


def _lookup(table: dict):
    return lambda value: table.get(value, value)


def cancel_reason_label(code: str | None):
    return CANCEL_REASONS.get(code or "", code or "")


def visit_when(value) -> str:
    """A visit's start (stored naive UTC) as Vietnam time: "Thứ Bảy, 6 tháng 6, 2026, 08:00"."""
    return format_datetime(value, "EEEE, d MMMM y, HH:mm") if value else ""


def visit_day(value) -> str:
    return format_date(value, "EEEE, d MMMM") if value else ""


def visit_hour(value) -> str:
    return format_datetime(value, "HH:mm") if value else ""


def weekday_names() -> list[str]:
    """Monday to Sunday, short, in the reader's language (calendar headings)."""
    names = get_day_names("abbreviated", context="stand-alone", locale=get_locale())
    return [names[n] for n in range(7)]


def register_globals(bp: Blueprint) -> None:
    for name, function in {
        "tickets_for_order": services.tickets_for_order,
        "ticket_link": tickets.ticket_url,
        "ticket_state": tickets.booking_state,
        "slot_state_label": _lookup(SLOT_STATES),
        "slot_status_label": _lookup(SLOT_STATUSES),
        "booking_state_label": _lookup(BOOKING_STATES),
        "tour_status_label": _lookup(TOUR_STATUSES),
        "cancel_reason_label": cancel_reason_label,
        "local_time": to_local,
        "visit_when": visit_when,
        "visit_day": visit_day,
        "visit_hour": visit_hour,
        "weekday_names": weekday_names,
    }.items():
        bp.add_app_template_global(function, name)
