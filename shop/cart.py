"""The cart: in the session for guests, in the database once logged in.

Both keep the same thing per line — a product and a quantity, or a tour slot and
a party — plus the price the buyer saw, so a price change is flagged before
checkout. ``load`` reads every line's product or slot in a constant number of
queries and says what is wrong with each line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from accounts.farms import Farm
from core import inputs
from core.extensions import db
from core.labels import UNITS
from shop.models import MAX_STOCK, Product
from shop.order_models import CartItem
from tours.models import Tour, TourSlot


class CartError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# -- storage -----------------------------------------------------------------

class SessionStore:
    """A guest's cart in the signed session cookie: {"p:<id>": {"q", "price"}, "s:<id>": {"a", "c", "price"}}."""

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
            if item.product_id:
                result[f"p:{item.product_id}"] = {"q": item.quantity, "price": item.seen_price_vnd}
            else:
                result[f"s:{item.slot_id}"] = {"a": item.adults, "c": item.children, "price": item.seen_price_vnd}
        return result

    def _row(self, key: str) -> CartItem | None:
        kind, ident = key.split(":")
        column = CartItem.product_id if kind == "p" else CartItem.slot_id
        return db.session.scalar(select(CartItem).where(CartItem.user_id == self.user_id, column == int(ident)))

    def put(self, key: str, values: dict) -> None:
        row = self._row(key)
        if row is None:
            kind, ident = key.split(":")
            row = CartItem(user_id=self.user_id, **({"product_id": int(ident)} if kind == "p" else {"slot_id": int(ident)}))
            db.session.add(row)
        row.quantity = values.get("q", 0)
        row.adults = values.get("a", 0)
        row.children = values.get("c", 0)
        row.seen_price_vnd = values.get("price", 0)
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
class CartLine:
    key: str
    product: Product | None = None
    slot: TourSlot | None = None
    quantity: int = 0
    adults: int = 0
    children: int = 0
    seen_price_vnd: int = 0
    problems: list = field(default_factory=list)

    @property
    def farm(self) -> Farm:
        return self.product.farm if self.product else self.slot.tour.farm

    @property
    def unit_price_vnd(self) -> int:
        return self.product.price_vnd if self.product else self.slot.tour.price_adult_vnd

    @property
    def seats(self) -> int:
        return self.adults + self.children

    @property
    def total_vnd(self) -> int:
        if self.product:
            return self.product.price_vnd * self.quantity
        tour = self.slot.tour
        return tour.price_adult_vnd * self.adults + tour.price_child_vnd * self.children

    @property
    def price_changed(self) -> bool:
        return self.seen_price_vnd != self.unit_price_vnd


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


def _parse_key(key: str) -> tuple[str, int] | None:
    kind, _, ident = str(key).partition(":")
    ident = inputs.parse_id(ident) if kind in ("p", "s") else None
    return (kind, ident) if ident is not None else None


def load(store, now) -> Cart:
    """The cart with each line checked against today's product or slot (2 queries at most)."""
    items = store.items()
    product_ids = [ident for key in items if (parsed := _parse_key(key)) and parsed[0] == "p" for ident in [parsed[1]]]
    slot_ids = [ident for key in items if (parsed := _parse_key(key)) and parsed[0] == "s" for ident in [parsed[1]]]
    products = {p.id: p for p in db.session.scalars(
        select(Product).options(joinedload(Product.farm)).where(Product.id.in_(product_ids)))} if product_ids else {}
    slots = {s.id: s for s in db.session.scalars(
        select(TourSlot).options(joinedload(TourSlot.tour).joinedload(Tour.farm))
        .where(TourSlot.id.in_(slot_ids)))} if slot_ids else {}
    lines = []
    for key, values in items.items():
        parsed = _parse_key(key)
        if parsed is None:
            continue
        kind, ident = parsed
        if kind == "p":
            product = products.get(ident)
            if product is None:
                continue
            line = CartLine(key=key, product=product, quantity=int(values.get("q", 0)),
                            seen_price_vnd=int(values.get("price", 0)))
            line.problems = product_problems(product, line.quantity)
        else:
            slot = slots.get(ident)
            if slot is None:
                continue
            line = CartLine(key=key, slot=slot, adults=int(values.get("a", 0)), children=int(values.get("c", 0)),
                            seen_price_vnd=int(values.get("price", 0)))
            line.problems = slot_problems(slot, line.adults, line.children, now)
        if line.price_changed and not line.problems:
            line.problems.append(_l("The price changed since you added it. Please check and confirm."))
        lines.append(line)
    lines.sort(key=lambda line: (line.farm.id, line.key))
    return Cart(lines)


def product_problems(product: Product, quantity: int) -> list:
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


def slot_problems(slot: TourSlot, adults: int, children: int, now) -> list:
    """Problems of a visit line; the booking rules (cut-off, capacity) live in the tours service."""
    from tours import services as tour_services

    return tour_services.booking_problems(slot, adults, children, now)


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
    key = f"p:{product.id}"
    current = int(store.items().get(key, {}).get("q", 0))
    total = current + quantity
    _check_quantity(product, total)
    store.put(key, {"q": total, "price": product.price_vnd})
    return product


def _parse_people(raw, message) -> int:
    text = str(raw if raw is not None else "").strip()
    if text == "":
        return 0
    value = inputs.parse_int(text, max_digits=6)
    if value is None:
        raise CartError(message)
    return value


def add_visit(store, slot_id, adults_raw, children_raw, *, now=None, tour_id: int | None = None) -> TourSlot:
    """Put a visit in the cart: a slot and a party (adults, children), replacing the party already in the cart
    for that slot. ``tour_id`` refuses a slot of another tour (a changed form). The seats are taken only when
    the order is placed."""
    from core.time import utcnow
    from tours import services as tour_services

    adults = _parse_people(adults_raw, _l("Enter the number of adults as a whole number, for example 2."))
    children = _parse_people(children_raw, _l("Enter the number of children as a whole number, for example 0."))
    ident = inputs.parse_id(slot_id)
    if ident is None:
        raise CartError(_l("Choose a date and time for the visit."))
    slot = db.session.scalar(select(TourSlot).options(joinedload(TourSlot.tour).joinedload(Tour.farm))
                             .where(TourSlot.id == ident))
    if slot is None or (tour_id is not None and slot.tour_id != tour_id):
        raise CartError(_l("This visit time does not exist. Please choose one from the list."))
    problems = tour_services.booking_problems(slot, adults, children, now or utcnow())
    if problems:
        raise CartError(problems[0])
    store.put(f"s:{slot.id}", {"a": adults, "c": children, "price": slot.tour.price_adult_vnd})
    return slot


def set_product_quantity(store, product_id, quantity_raw) -> None:
    """Set a line's quantity; 0 removes it. Confirms the current price."""
    text = str(quantity_raw or "").strip()
    if text == "0":
        store.remove(f"p:{int(product_id)}")
        return
    quantity = parse_quantity(text)
    product = _sellable_product(product_id)
    _check_quantity(product, quantity)
    store.put(f"p:{product.id}", {"q": quantity, "price": product.price_vnd})


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
    if _parse_key(key):
        store.remove(key)


def put_back(store, order_lines) -> None:
    """Put a cancelled order's lines back into the cart, so the buyer can change them and order again.

    Each line keeps the price the order had as the price seen, so a price changed since is flagged."""
    for line in order_lines:
        if line.product_id:
            store.put(f"p:{line.product_id}", {"q": line.quantity, "price": line.unit_price_vnd})
        else:
            store.put(f"s:{line.slot_id}", {"a": line.adults, "c": line.children, "price": line.unit_price_vnd})


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
        parsed = _parse_key(key)
        if parsed is None:
            continue
        if parsed[0] == "p":
            product = db.session.get(Product, parsed[1])
            if product is None:
                continue
            quantity = int(values.get("q", 0)) + int(existing.get(key, {}).get("q", 0))
            quantity = min(quantity, max(product.stock, 0), product.order_limit) or int(values.get("q", 0))
            account.put(key, {"q": quantity, "price": int(values.get("price", 0))})
        elif key not in existing:
            account.put(key, values)
    guest.clear()
