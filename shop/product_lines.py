"""The product kind of line (shop/lines.py): a product and a quantity, holding units of stock."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.labels import UNITS
from shop import lines
from shop.models import Product
from shop.order_models import OrderLine


def problems(product: Product, quantity: int) -> list:
    if product.status != "active" or product.farm.status != "approved":
        return [_l("This product is no longer for sale. Please remove it.")]
    if product.stock <= 0:
        return [_l("Sold out. Please remove it from your cart.")]
    if quantity > product.stock:
        return [_l("Only %(stock)d left. Please lower the quantity.", stock=product.stock)]
    if quantity < product.min_order_qty:
        return [_l("The minimum order is %(min)d.", min=product.min_order_qty)]
    if quantity > product.order_limit:
        return [_l("At most %(max)d %(unit)s per order. Please lower the quantity.", max=product.order_limit,
                   unit=UNITS.get(product.unit, product.unit))]
    return []


class ProductLines:
    code = "p"
    rank = 1
    column = "product_id"

    def load(self, ids):
        return {p.id: p for p in db.session.scalars(
            select(Product).options(joinedload(Product.farm)).where(Product.id.in_(ids)))}

    def cart_line(self, key, product, values, now):
        quantity = int(values.get("q", 0))
        line = lines.CartLine(key=key, kind=self, ident=product.id, farm=product.farm, product=product,
                              unit_price_vnd=product.price_vnd, total_vnd=product.price_vnd * quantity,
                              amount=quantity, quantity=quantity, seen_price_vnd=int(values.get("price", 0)))
        line.problems = problems(product, quantity)
        return line

    def reserve(self, product_id, quantity):
        result = db.session.execute(
            update(Product).where(Product.id == product_id, Product.status == "active", Product.stock >= quantity)
            .values(stock=Product.stock - quantity).execution_options(synchronize_session="fetch"))
        return result.rowcount == 1

    def release(self, product_id, quantity):
        db.session.execute(update(Product).where(Product.id == product_id)
                           .values(stock=Product.stock + quantity).execution_options(synchronize_session="fetch"))

    def sold_out(self, line):
        return _l("Sorry, %(name)s has just sold out or has fewer units left than you asked for. Your cart was not "
                  "charged; please change the quantity.", name=line.product.name)

    def snapshot(self, farm_order, line):
        product = line.product
        return OrderLine(farm_order=farm_order, product_id=product.id, name=product.name, unit=product.unit,
                         unit_price_vnd=product.price_vnd, quantity=line.quantity, line_total_vnd=line.total_vnd)

    def cart_values(self, order_line):
        return {"q": order_line.quantity, "price": order_line.unit_price_vnd}

    def merge(self, product, values, existing):
        """Quantities add up, capped by stock and by the most per order."""
        quantity = int(values.get("q", 0)) + int((existing or {}).get("q", 0))
        quantity = min(quantity, max(product.stock, 0), product.order_limit) or int(values.get("q", 0))
        return {"q": quantity, "price": int(values.get("price", 0))}


PRODUCTS = ProductLines()
lines.register(PRODUCTS)
