"""Messages about orders, written to the outbox in the same transaction as the change.

Each message goes out in the buyer's (or farmer's) language, from templates/messages/ (core/messages.py).
"""
from __future__ import annotations

from flask import current_app

from core.messages import Recipient, notify
from core.time import utcnow
from core.urls import public_url
from shop.models import LOW_STOCK


def order_link(order) -> str:
    return public_url("orders.detail", public_id=order.public_id, key=order.secret)


def order_placed(order) -> None:
    notify("order_placed", Recipient.buyer_of(order), order=order, link=order_link(order))


def order_paid(order) -> None:
    notify("order_paid", Recipient.buyer_of(order), order=order, link=order_link(order))
    for farm_order in order.farm_orders:
        farmer = Recipient.of_user(farm_order.farm.owner)
        notify("farm_new_order", farmer, order=order, farm_order=farm_order,
               link=public_url("farmer_orders.detail", farm_order_id=farm_order.id))
        low = [line.product for line in farm_order.lines if line.product_id is not None
               and line.product.stock <= LOW_STOCK and line.product.low_stock_warned_at is None]
        if low:
            for product in low:
                product.low_stock_warned_at = utcnow()
            notify("low_stock", farmer, farm=farm_order.farm, products=low,
                   link=public_url("farmer_products.index"))


def payout_sent(payout) -> None:
    """Staff recorded a transfer to the farm."""
    notify("payout_sent", Recipient.of_user(payout.farm.owner), payout=payout,
           link=public_url("farmer_dashboard.statement"))


def order_cancelled(order) -> None:
    """The buyer (or staff) cancelled an order before it was paid."""
    notify("order_cancelled", Recipient.buyer_of(order), order=order)


def farm_order_ready(farm_order) -> None:
    order = farm_order.order
    notify("farm_order_ready", Recipient.buyer_of(order), order=order, farm_order=farm_order,
           link=order_link(order))


def order_shipped(farm_order, shipment) -> None:
    """The farm's parcel has left with the carrier: its tracking code."""
    order = farm_order.order
    notify("order_shipped", Recipient.buyer_of(order), order=order, farm_order=farm_order, shipment=shipment,
           link=order_link(order))


def farm_order_cancelled(farm_order, refund) -> None:
    order = farm_order.order
    notify("farm_order_cancelled", Recipient.buyer_of(order), order=order, farm_order=farm_order, refund=refund,
           link=order_link(order))


def late_payment_refunded(order, payment, *, market_delay: bool = False) -> None:
    notify("late_payment_refunded", Recipient.buyer_of(order), order=order, payment=payment,
           market_delay=market_delay, link=order_link(order))
    staff_alert(order, "late_payment_refunded")


def received_money_refunded(order, transfers, refund, *, market_delay: bool = False) -> None:
    """Transfers that no order took (its parts when it expired or was cancelled, or a part that came after)."""
    notify("received_money_refunded", Recipient.buyer_of(order), order=order, transfers=transfers, refund=refund,
           market_delay=market_delay, link=order_link(order))
    staff_alert(order, "late_payment_refunded")


def staff_alert(order, reason: str, transfer=None, notification=None) -> None:
    """A note to commune staff (STAFF_EMAIL, in Vietnamese); also visible on the admin pages. ``notification``: the
    bank notification it is about (shop.payment_models.BankNotification)."""
    staff = Recipient.by_email(current_app.config.get("STAFF_EMAIL", ""))
    notify(f"staff_{reason}", staff, template="staff_alert", order=order, reason=reason, transfer=transfer,
           notification=notification)


def refund_after_delivery(farm_order, refund) -> None:
    """Staff refunded part or all of a farm order after payment; for a bank refund, the link to give an account."""
    order = farm_order.order
    details = public_url("payments.refund_details", token=refund.details_token) if refund.details_token else None
    notify("refund_after_delivery", Recipient.buyer_of(order), order=order, farm_order=farm_order, refund=refund,
           details_link=details, link=order_link(order))
