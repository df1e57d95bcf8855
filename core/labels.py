"""Translated labels for the values stored in status, role, unit and category columns."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.banks import bank_name

ROLES = {"buyer": _l("Buyer"), "farmer": _l("Farmer"), "admin": _l("Commune staff")}
FARM_STATUSES = {"pending": _l("Waiting for approval"), "approved": _l("Approved"),
                 "rejected": _l("Not approved"), "suspended": _l("Suspended")}
UNITS = {"kg": _l("kg"), "fruit": _l("fruit"), "box": _l("box"), "bottle": _l("bottle"), "bag": _l("bag"),
         "jar": _l("jar"), "plant": _l("plant")}
CATEGORIES = {"fresh": _l("Fresh pineapples"), "processed": _l("Dried, jam and juice"),
              "seedlings": _l("Seedlings"), "other": _l("Other")}


def _lookup(table: dict):
    return lambda value: table.get(value, value)


def register(app) -> None:
    app.jinja_env.globals.update(
        role_label=_lookup(ROLES), farm_status_label=_lookup(FARM_STATUSES), unit_label=_lookup(UNITS),
        category_label=_lookup(CATEGORIES), bank_name=bank_name,
    )
