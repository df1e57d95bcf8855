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

FULFILMENTS = {"farm_pickup": _l("Pick up at the farm"), "commune_pickup": _l("Pick up at the commune centre"),
               "delivery": _l("Delivery")}
ORDER_STATUSES = {"pending_payment": _l("Waiting for payment"), "paid": _l("Paid"), "ready": _l("Ready"),
                  "completed": _l("Completed"), "expired": _l("Expired"), "cancelled": _l("Cancelled"),
                  "refunded": _l("Refunded")}
REFUND_STATUSES = {"pending": _l("To do"), "done": _l("Done"), "failed": _l("Failed")}
TRANSFER_STATUSES = {"matched": _l("Matched"), "underpaid": _l("Underpaid"), "overpaid": _l("Overpaid"),
                     "unmatched": _l("No order found"), "late": _l("Arrived late"), "resolved": _l("Resolved"),
                     "split": _l("Split across orders")}
STAFF_REASONS = {"duplicate_payment": _l("An order was paid twice: refund the second payment"),
                 "unmatched_transfer": _l("A bank transfer matches no order"),
                 "underpaid": _l("A bank transfer is less than the order total"),
                 "overpaid": _l("A bank transfer is more than the order total: refund the difference"),
                 "amount_mismatch": _l("A card payment does not match its order's amount"),
                 "late_payment_refunded": _l("A payment arrived after its order expired and is being refunded"),
                 "notification_flagged": _l("A bank notification names another account than the cooperative's: "
                                            "it was not applied"),
                 "notification_unmatched": _l("A bank notification could not be taken in by itself: enter the "
                                              "transfer by hand"),
                 "notification_failed": _l("A bank notification could not be read"),
                 "refund_to_make": _l("A refund is to be made by bank transfer: see the refunds page")}


def _lookup(table: dict):
    return lambda value: table.get(value, value)


def register(app) -> None:
    app.jinja_env.globals.update(
        role_label=_lookup(ROLES), farm_status_label=_lookup(FARM_STATUSES), unit_label=_lookup(UNITS),
        category_label=_lookup(CATEGORIES), bank_name=bank_name, fulfilment_label=_lookup(FULFILMENTS),
        order_status_label=_lookup(ORDER_STATUSES),
        refund_status_label=_lookup(REFUND_STATUSES), transfer_status_label=_lookup(TRANSFER_STATUSES),
        staff_reason_label=_lookup(STAFF_REASONS),
    )
