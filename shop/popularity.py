"""How many paid orders each product is in (the catalogue's "most ordered" sort), counted when an order is
paid (a ``shop.events.order_paid`` receiver)."""
from __future__ import annotations

from sqlalchemy import update

from core.extensions import db
from shop import checkout
from shop.models import Product


def on_order_paid(order, **_) -> None:
    # One UPDATE per product, in id order: a single UPDATE ... WHERE id IN (...) locks its rows in the order it
    # finds them on disk, which differs between two such statements and deadlocks them.
    for product_id in sorted({line.product_id for line in checkout.all_lines(order) if line.product_id}):
        db.session.execute(update(Product).where(Product.id == product_id)
                           .values(orders_count=Product.orders_count + 1)
                           .execution_options(synchronize_session="fetch"))
