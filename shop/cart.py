"""The cart: in the session for guests, in the database once logged in.

Both keep the same thing per line — a product and a quantity, or a tour slot and
a party (each a kind of line, shop/lines.py) — plus the price the buyer saw, so a
price change is flagged before checkout. ``load`` reads every line's item in one
query per kind and says what is wrong with each line.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from accounts.farms import Farm
from core import inputs
from core.domain import DomainError
from core.extensions import db
from core.labels import UNITS
from shop import lines as line_kinds
from shop.lines import CartLine
from shop.models import MAX_STOCK, Product
from shop.order_models import CartItem
from shop.product_lines import PRODUCTS


class CartError(DomainError):
    """What stops a line going into the cart, in the buyer's language."""


# -- storage -----------------------------------------------------------------

class SessionStore:
    """A guest's cart in the signed session cookie: {<line key>: {"q" or "a", "c", "price"}} (shop/lines.py)."""

    def __init__(self, session):
        self.session = session

    def items(self) -> dict[str, dict]:
        raw = self.session.get("cart")
        return dict(raw) if isinstance(raw, dict) else {}

    def put(self, key: str, values: dict) -> None:
        items = self.items()
        items[key] = values
        self.session["cart"] = items

    def remove(self, key: str) -> None:
        items = self.items()
        items.pop(key, None)
        self.session["cart"] = items

    def clear(self) -> None:
        self.session.pop("cart", None)


class DbStore:
    """A logged-in buyer's cart in cart_items."""

    def __init__(self, user_id: int):
        self.user_id = user_id

    def items(self) -> dict[str, dict]:
        result = {}
        for item in db.session.scalars(select(CartItem).where(CartItem.user_id == self.user_id)):
            kind, ident = line_kinds.of_row(item)
            values = ({"q": item.quantity} if kind is PRODUCTS else {"a": item.adults, "c": item.children})
            if item.hold_token:
                values["w"] = item.hold_token
            result[line_kinds.key(kind, ident)] = {**values, "price": item.seen_price_vnd}
        return result

    def _row(self, key: str) -> CartItem | None:
        kind, ident = line_kinds.parse_key(key)
        column = getattr(CartItem, kind.column)
        return db.session.scalar(select(CartItem).where(CartItem.user_id == self.user_id, column == ident))

    def put(self, key: str, values: dict) -> None:
        row = self._row(key)
        if row is None:
            kind, ident = line_kinds.parse_key(key)
            row = CartItem(user_id=self.user_id, **{kind.column: ident})
            db.session.add(row)
        row.quantity = values.get("q", 0)
        row.adults = values.get("a", 0)
        row.children = values.get("c", 0)
        row.seen_price_vnd = values.get("price", 0)
        row.hold_token = values.get("w") or None
        db.session.flush()

    def remove(self, key: str) -> None:
        row = self._row(key)
        if row is not None:
            db.session.delete(row)
            db.session.flush()

    def clear(self) -> None:
        db.session.execute(delete(CartItem).where(CartItem.user_id == self.user_id))


def store_for(user, session):
    return DbStore(user.id) if user is not None and user.is_authenticated else SessionStore(session)


# -- reading -----------------------------------------------------------------

@dataclass
class Cart:
    lines: list[CartLine]

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def has_problems(self) -> bool:
        return any(line.problems for line in self.lines)

    def by_farm(self) -> list[tuple[Farm, list[CartLine]]]:
        groups: dict[int, tuple[Farm, list[CartLine]]] = {}
        for line in self.lines:
            groups.setdefault(line.farm.id, (line.farm, []))[1].append(line)
        return sorted(groups.values(), key=lambda group: group[0].id)

    @property
    def total_vnd(self) -> int:
        return sum(line.total_vnd for line in self.lines)

    @property
    def count(self) -> int:
        return len(self.lines)


def load(store, now) -> Cart:
    """The cart with each line checked against today's item (one query per kind of line)."""
    items = store.items()
    wanted: dict = {}
    for key in items:
        parsed = line_kinds.parse_key(key)
        if parsed is not None:
            wanted.setdefault(parsed[0], []).append(parsed[1])
    found = {kind: kind.load(ids) for kind, ids in wanted.items()}
    lines = []
    for key, values in items.items():
        parsed = line_kinds.parse_key(key)
        item = found[parsed[0]].get(parsed[1]) if parsed else None
        if item is None:
            continue
        line = parsed[0].cart_line(key, item, values, now)
        if line.price_changed and not line.problems:
            line.problems.append(_l("The price changed since you added it. Please check and confirm."))
        lines.append(line)
    lines.sort(key=lambda line: (line.farm.id, line.key))
    return Cart(lines)


# -- changing ----------------------------------------------------------------

def parse_quantity(raw) -> int:
    """A whole, positive quantity, or a CartError in the buyer's language."""
    text = str(raw or "").strip()
    value = inputs.parse_int(text)
    if value is None and text.isascii() and text.isdigit():
        raise CartError(_l("That quantity is too large."))
    if value is None:
        raise CartError(_l("Enter the quantity as a whole number, for example 2."))
    if value <= 0:
        raise CartError(_l("The quantity must be at least 1."))
    if value > MAX_STOCK:
        raise CartError(_l("That quantity is too large."))
    return value


def add_product(store, product_id, quantity_raw) -> Product:
    """Add units of a product (on top of what is already in the cart)."""
    quantity = parse_quantity(quantity_raw)
    product = _sellable_product(product_id)
    key = line_kinds.key(PRODUCTS, product.id)
    current = int(store.items().get(key, {}).get("q", 0))
    total = current + quantity
    _check_quantity(product, total)
    store.put(key, {"q": total, "price": product.price_vnd})
    return product


def set_product_quantity(store, product_id, quantity_raw) -> None:
    """Set a line's quantity; 0 removes it. Confirms the current price."""
    text = str(quantity_raw or "").strip()
    if text == "0":
        store.remove(line_kinds.key(PRODUCTS, product_id))
        return
    quantity = parse_quantity(text)
    product = _sellable_product(product_id)
    _check_quantity(product, quantity)
    store.put(line_kinds.key(PRODUCTS, product.id), {"q": quantity, "price": product.price_vnd})


def _sellable_product(product_id) -> Product:
    ident = inputs.parse_id(product_id)
    if ident is None:
        raise CartError(_l("This product does not exist."))
    product = db.session.get(Product, ident)
    if product is None or product.status != "active" or product.farm.status != "approved":
        raise CartError(_l("This product is not for sale."))
    return product


def _check_quantity(product: Product, quantity: int) -> None:
    if product.stock <= 0:
        raise CartError(_l("Sorry, %(name)s is sold out.", name=product.name))
    if quantity > product.stock:
        raise CartError(_l("Only %(stock)d left of %(name)s.", stock=product.stock, name=product.name))
    if quantity < product.min_order_qty:
        raise CartError(_l("The minimum order of %(name)s is %(min)d.", name=product.name,
                           min=product.min_order_qty))
    if quantity > product.order_limit:
        raise CartError(_l("One order can hold at most %(max)d %(unit)s of %(name)s.", max=product.order_limit,
                           unit=UNITS.get(product.unit, product.unit), name=product.name))


def remove(store, key: str) -> None:
    if line_kinds.parse_key(key):
        store.remove(key)


def put_back(store, order_lines) -> None:
    """Put a cancelled order's lines back into the cart, so the buyer can change them and order again.

    Each line keeps the price the order had as the price seen, so a price changed since is flagged."""
    for line in order_lines:
        kind, ident = line_kinds.of_row(line)
        store.put(line_kinds.key(kind, ident), kind.cart_values(line))


def merge_into_account(session, user) -> None:
    """At login, move the guest's lines into the account's cart (quantities add up, capped by stock and by
    the most per order)."""
    guest = SessionStore(session)
    items = guest.items()
    if not items:
        return
    account = DbStore(user.id)
    existing = account.items()
    for key, values in items.items():
        parsed = line_kinds.parse_key(key)
        item = parsed[0].load([parsed[1]]).get(parsed[1]) if parsed else None
        if item is None:
            continue
        merged = parsed[0].merge(item, values, existing.get(key))
        if merged is not None:
            account.put(key, merged)
    guest.clear()
