"""Messages about orders, written to the outbox in the same transaction as the change.

Each message is rendered in the buyer's (or farmer's) language from templates/emails/.
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from core import outbox
from core.urls import public_url


def order_link(order) -> str:
    return public_url("orders.detail", public_id=order.public_id, key=order.secret)


def _queue(kind: str, to: str, locale: str, template: str, order=None, **context) -> None:
    if not to:
        return
    with force_locale(locale or "vi"):
        subject = render_template(f"emails/{template}.subject.txt", order=order, **context).strip()
        body = render_template(f"emails/{template}.txt", order=order, **context)
    outbox.queue(kind, to, subject, body, order.id if order is not None else None)


def order_placed(order) -> None:
    _queue("order_placed", order.buyer_email, order.locale, "order_placed", order, link=order_link(order))


def order_paid(order) -> None:
    _queue("order_paid", order.buyer_email, order.locale, "order_paid", order, link=order_link(order))
    for farm_order in order.farm_orders:
        owner = farm_order.farm.owner
        _queue("farm_new_order", owner.email, owner.locale or "vi", "farm_new_order", order,
               farm_order=farm_order, link=public_url("farmer_orders.detail", farm_order_id=farm_order.id))


def farm_order_ready(farm_order) -> None:
    order = farm_order.order
    _queue("farm_order_ready", order.buyer_email, order.locale, "farm_order_ready", order, farm_order=farm_order,
           link=order_link(order))


def farm_order_cancelled(farm_order, refund) -> None:
    order = farm_order.order
    _queue("farm_order_cancelled", order.buyer_email, order.locale, "farm_order_cancelled", order,
           farm_order=farm_order, refund=refund, link=order_link(order))


def late_payment_refunded(order, payment) -> None:
    _queue("late_payment_refunded", order.buyer_email, order.locale, "late_payment_refunded", order,
           payment=payment, link=order_link(order))
    staff_alert(order, "late_payment_refunded")


def staff_alert(order, reason: str, transfer=None) -> None:
    """A note to commune staff (STAFF_EMAIL); also visible on the admin pages."""
    to = current_app.config.get("STAFF_EMAIL", "")
    _queue(f"staff_{reason}", to, "vi", "staff_alert", order, reason=reason, transfer=transfer)

