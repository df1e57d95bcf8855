"""The buyer hears of an order cancelled before payment: one e-mail, the same two-language text whatever
the order's language."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from shop import cart as carts
from shop import checkout
from tests.factories import NOW


def test_cancelling_an_unpaid_order_tells_the_buyer(store, place, make_product):
    for locale in ("vi", "en"):
        carts.add_product(store, make_product(stock=10).id, "1")
        order = place(store, token=f"tok-{locale}")
        order.locale = locale
        checkout.cancel_unpaid(order, None, NOW)
        db.session.commit()
        [row] = db.session.scalars(select(Notification).where(Notification.kind == "order_cancelled",
                                                              Notification.order_id == order.id)).all()
        assert (row.channel, row.to_address, row.status) == ("email", "mai@example.vn", "pending")
        assert row.subject == f"Chợ Dứa Kép – {order.reference}"
        assert row.body == f"Đơn hàng {order.reference} đã được huỷ. / Order {order.reference} was cancelled."
