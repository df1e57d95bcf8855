"""Placing an order, holding its stock, and letting unpaid orders expire.

Placing an order is one transaction: the cart is re-read (each line within its
product's most per order and its tour's largest group), the limits on unpaid
orders are counted, the total the buyer confirmed is compared with the
recomputed one, stock and seats are taken with guarded UPDATEs in id order, and
the order is split into one farm order per farm. The caller commits; on any
CheckoutError it rolls back, so nothing is left half-written.

Lock order, the same everywhere in the app (checkout, expiry, payment confirmation, late payments,
cancellations and refunds in shop.payments and tours.cancellations), so that two transactions never
wait for each other in a circle:

1. the order (``lock_order``: SELECT ... FOR UPDATE, or the conditional UPDATE of its status), and,
   when one transaction changes several orders, in id order; no order is locked by a transaction
   that already holds a product or a slot;
2. what belongs to that order: its farm orders, payments, tickets and refunds (the order's lock
   serialises them, so their order among themselves does not matter);
3. products, in id order (stock, orders_count);
4. the shared guides and vehicles of the slots (tours.resources.lock_for_slots: every resource of every slot
   the transaction will take or give back seats on, in id order, before the first slot: the visit kind's
   ``lock_ahead``; a step on one slot takes its slot's resources just before the slot);
5. tour slots, in id order (seats); a slot's waiting-list entries only after that slot (tours/waitlist.py:
   seats freed on a slot are offered to its list while the slot is locked).
Steps 3 to 5 are the kinds of line (shop/lines.py) by their ``rank``, each in id order (step 4 is the visit kind's
``lock_ahead``). A bank
notification's row (shop.payments.notifications) is locked before step 1; nothing else locks it. So are, by
staff's steps only, an unmatched bank credit's row (assigning, splitting or sending it back:
shop.payments.transfers.lock_credit, then the orders in id order) and a statement line being recorded
(shop.payments.reconcile.record_line).

A step outside checkout that takes seats on several slots, or locks a slot and then takes seats on it (a
rebooking, a moved visit), calls tours.resources.lock_for_slots with all of them first.

A new order (checkout) starts at 3 (after the advisory locks of its unpaid-order counts, which only
checkouts take). The expiry job changes one order per short transaction and
skips an order that another transaction holds (FOR UPDATE SKIP LOCKED): that one is being paid or
cancelled, and if it is still due the next run takes it. A deadlock that happens anyway is retried
(core.transactions).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import DBAPIError

from core import audit, places, transactions
from core.domain import DomainError
from core.extensions import db
from core.validators import normalize_any_mobile
from shop import cart as carts
from shop import delivery, events, notices, referrals
from shop import lines as line_kinds
from shop.order_models import FARM_ORDER_MOVES, ORDER_MOVES, FarmOrder, Order, OrderLine


class CheckoutError(DomainError):
    """``open_order``: with reason "unpaid_limit", the buyer's own open order to pay or cancel, when there is
    one this buyer may open (same browser session or same account); None for someone else's."""

    def __init__(self, message, *, reason: str = "invalid", open_order=None):
        super().__init__(message)
        self.reason = reason
        self.open_order = open_order


@dataclass(frozen=True)
class Origin:
    """Where an order is placed from: the client's address and a key of the browser session (either may be
    empty). Only keyed hashes of them are stored on the order."""
    address: str = ""
    session: str = ""


@dataclass(frozen=True)
class UnpaidLimits:
    """How many orders waiting for payment (and still inside their hold) may be open at once from one client
    address, one buyer phone and one browser session; 0 means no limit."""
    per_address: int = 5
    per_phone: int = 2
    per_session: int = 1

    @classmethod
    def from_config(cls, config) -> "UnpaidLimits":
        return cls(per_address=config["UNPAID_ORDERS_PER_ADDRESS"], per_phone=config["UNPAID_ORDERS_PER_PHONE"],
                   per_session=config["UNPAID_ORDERS_PER_SESSION"])


def origin_hash(kind: str, value: str) -> str | None:
    """A keyed hash (HMAC-SHA256 with SECRET_KEY, 32 hex digits) of an address or a session key; None if empty.

    Equal inputs give equal hashes, so open orders can be counted, but the address itself is not stored."""
    if not value:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class Buyer:
    name: str
    phone: str
    email: str
    note: str = ""
    locale: str = "vi"


def receiving(cart: carts.Cart, fulfilments: dict[int, str]) -> dict[int, str]:
    """Each farm's way of receiving: as chosen, or a pick-up at the farm for a part with only visits (the
    visit happens there; nothing is asked)."""
    return {farm.id: fulfilments.get(farm.id, "") if delivery.needs_receiving(lines) else "farm_pickup"
            for farm, lines in cart.by_farm()}


def quotes(cart: carts.Cart, fulfilments: dict[int, str], destination=None) -> dict[int, tuple]:
    """Each farm's (delivery quote or None, reason it cannot deliver or None) for the chosen ways."""
    chosen = receiving(cart, fulfilments)
    return {farm.id: delivery.try_quote(farm, lines, chosen[farm.id], destination)
            for farm, lines in cart.by_farm()}


def totals(cart: carts.Cart, fulfilments: dict[int, str], destination=None,
           quoted: dict[int, tuple] | None = None) -> tuple[dict[int, int], int]:
    """Each farm's total (lines + delivery fee) and the grand total. A delivery that cannot be quoted (no
    address yet, or out of the farm's reach) counts 0 here; placing the order refuses it."""
    quoted = quotes(cart, fulfilments, destination) if quoted is None else quoted
    per_farm = {}
    for farm, lines in cart.by_farm():
        found = quoted[farm.id][0]
        per_farm[farm.id] = sum(line.total_vnd for line in lines) + (found.fee_vnd if found else 0)
    return per_farm, sum(per_farm.values())


def find_by_token(checkout_token: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.checkout_token == checkout_token))


def place_order(store, *, buyer: Buyer, fulfilments: dict[int, str], payment_method: str, shown_total: int,
                checkout_token: str, user, now: datetime, hold_minutes: int, origin: Origin | None = None,
                limits: UnpaidLimits | None = None, destination: delivery.Destination | None = None) -> Order:
    """Place the cart as one order waiting for payment, holding its stock and seats for ``hold_minutes``.

    ``limits`` (the checkout page passes them from the settings; None: not counted, for demo data and tools)
    refuse a new order while this address, phone or browser session already has as many open unpaid orders.
    A delivery needs a complete ``destination`` the farm reaches (shop.delivery); it is copied on the order.
    """
    existing = find_by_token(checkout_token)
    if existing is not None:
        return existing
    cart = carts.load(store, now)
    if cart.is_empty:
        raise CheckoutError(_l("Your cart is empty."), reason="empty")
    if cart.has_problems:
        raise CheckoutError(_l("Some lines of your cart changed. Please check them before paying."),
                            reason="stale")
    fulfilments = receiving(cart, fulfilments)
    for farm, _ in cart.by_farm():
        if fulfilments.get(farm.id) not in delivery.fulfilment_choices(farm):
            raise CheckoutError(_l("Choose how to receive the order from %(farm)s.", farm=farm.name))
    quoted = quotes(cart, fulfilments, destination)
    for _farm_id, (found, reason) in quoted.items():
        if reason is not None:
            raise CheckoutError(reason, reason="address")
        if found is not None and not destination.complete:
            raise CheckoutError(_l("Enter the recipient's name and mobile number."), reason="address")
    per_farm, total = totals(cart, fulfilments, destination, quoted)
    if total != shown_total:
        raise CheckoutError(_l("The total changed while you were checking out. Please look at the new total "
                               "and confirm again."), reason="total_changed")
    origin = origin or Origin()
    phone = normalize_any_mobile(buyer.phone) or buyer.phone.strip()
    placed_from, placed_session = origin_hash("address", origin.address), origin_hash("session", origin.session)
    if limits is not None:
        _check_unpaid_limits(limits, phone=phone, placed_from=placed_from, placed_session=placed_session,
                             user=user, now=now)
    _reserve(cart, now)

    order = Order(public_id=secrets.token_hex(6).upper(), secret=secrets.token_urlsafe(24),
                  checkout_token=checkout_token, user_id=user.id if user is not None else None,
                  buyer_name=buyer.name, buyer_phone=phone, buyer_email=buyer.email, note=buyer.note,
                  locale=buyer.locale, payment_method=payment_method, total_vnd=total, created_at=now,
                  expires_at=now + timedelta(minutes=hold_minutes), placed_from=placed_from,
                  placed_session=placed_session)
    if any(found for found, _reason in quoted.values()):
        _copy_destination(order, destination)
    db.session.add(order)
    for farm, lines in cart.by_farm():
        found = quoted[farm.id][0]
        fee = found.fee_vnd if found else 0
        farm_order = FarmOrder(order=order, farm_id=farm.id, fulfilment=fulfilments[farm.id],
                               subtotal_vnd=per_farm[farm.id] - fee, delivery_fee_vnd=fee,
                               total_vnd=per_farm[farm.id], delivery_method=found.method if found else None,
                               delivery_days_min=found.days_min if found else None,
                               delivery_days_max=found.days_max if found else None,
                               from_share=referrals.credited(farm.id, now))
        db.session.add(farm_order)
        for line in lines:
            db.session.add(line.kind.snapshot(farm_order, line))
    db.session.flush()
    audit.record("order.placed", "order", order.id, actor=user if user is not None else None,
                 actor_label=None if user is not None else "guest", to_state="pending_payment",
                 details={"total_vnd": total, "method": payment_method})
    store.clear()
    return order


def _copy_destination(order: Order, destination: delivery.Destination) -> None:
    """The delivery address, names included, as it is today (a later change of the place list or of the
    buyer's saved address never moves an order)."""
    order.ship_name, order.ship_phone = destination.recipient.strip(), destination.phone.strip()
    order.ship_street = destination.street.strip()
    order.ship_province_code, order.ship_commune_code = destination.province_code, destination.commune_code
    order.ship_province = places.province(destination.province_code).name
    order.ship_commune = places.commune(destination.commune_code).name


def _open_unpaid(now: datetime):
    """Orders still holding stock: waiting for payment and inside their hold."""
    return (Order.status == "pending_payment", Order.expires_at > now)


def _check_unpaid_limits(limits: UnpaidLimits, *, phone: str, placed_from: str | None,
                         placed_session: str | None, user, now: datetime) -> None:
    """Refuse a new order while this session, phone or address already has its number of open unpaid orders.

    One indexed COUNT per limit. On PostgreSQL a transaction-scoped advisory lock per counted value (taken in
    key order, so two checkouts never wait on each other in a circle) makes checkouts from the same place
    wait for each other: parallel requests cannot all pass the count before any has written its order. The
    lock ends with the transaction. A paid, expired or cancelled order never counts.
    """
    checks = [(limit, column, value) for limit, column, value in (
        (limits.per_session, Order.placed_session, placed_session),
        (limits.per_phone, Order.buyer_phone, phone),
        (limits.per_address, Order.placed_from, placed_from)) if limit > 0 and value]
    if db.session.get_bind().dialect.name == "postgresql":
        keys = sorted({_lock_key(column.key, value) for _limit, column, value in checks})
        for key in keys:
            db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    for limit, column, value in checks:
        count = db.session.scalar(select(func.count()).select_from(Order).where(column == value, *_open_unpaid(now)))
        if count >= limit:
            raise CheckoutError(_UNPAID_MESSAGES[column.key], reason="unpaid_limit",
                                open_order=_own_open_order(placed_session, user, now))


def _lock_key(kind: str, value: str) -> int:
    """A signed 64-bit advisory-lock key for one counted value."""
    return int.from_bytes(hashlib.sha256(f"unpaid:{kind}:{value}".encode()).digest()[:8], "big", signed=True)


_UNPAID_MESSAGES = {
    "placed_session": _l("You already have an order waiting for payment. Please pay it, or cancel it, before "
                         "placing a new one."),
    "buyer_phone": _l("This phone number already has orders waiting for payment. Please pay them, or cancel "
                      "them, before placing a new one; the links are in the messages we sent."),
    "placed_from": _l("Too many orders waiting for payment were placed from this network. Please pay or cancel "
                      "yours first, or try again a little later."),
}


def _own_open_order(placed_session: str | None, user, now: datetime) -> Order | None:
    """The newest open unpaid order of this browser session or account, which this buyer may open."""
    mine = [Order.placed_session == placed_session] if placed_session else []
    if user is not None:
        mine.append(Order.user_id == user.id)
    if not mine:
        return None
    return db.session.scalar(select(Order).where(or_(*mine), *_open_unpaid(now))
                             .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))


def _reserve(cart: carts.Cart, now: datetime) -> None:
    """Take what each line holds (stock, then seats), each kind in id order, with guarded UPDATEs; the caller
    rolls back on failure. A line with a ``hold`` (a waiting-list offer) takes over what is held for it."""
    line_kinds.lock_ahead(cart.lines, lambda item: (item.kind, item.ident))
    for line in line_kinds.in_lock_order(cart.lines, lambda item: (item.kind, item.ident)):
        taken = line.kind.reserve_held(line, now) if line.hold else line.kind.reserve(line.ident, line.amount)
        if not taken:
            raise CheckoutError(line.kind.sold_out(line), reason="sold_out")


def release_lines(order_lines) -> None:
    """Give back the stock and seats of these order lines (in the lock order, like reservations)."""
    line_kinds.lock_ahead(order_lines, line_kinds.of_row)  # seats given back may be offered to a waiting list
    for line in line_kinds.in_lock_order(order_lines, line_kinds.of_row):
        kind, ident = line_kinds.of_row(line)
        kind.release(ident, line.quantity)


def rereserve_lines(order_lines) -> bool:
    """Take again what an expired order had released; False (and nothing taken) when it is gone."""
    savepoint = db.session.begin_nested()
    line_kinds.lock_ahead(order_lines, line_kinds.of_row)
    for line in line_kinds.in_lock_order(order_lines, line_kinds.of_row):
        kind, ident = line_kinds.of_row(line)
        if not kind.reserve(ident, line.quantity):
            savepoint.rollback()
            return False
    savepoint.commit()
    return True


def all_lines(order: Order) -> list[OrderLine]:
    return [line for farm_order in order.farm_orders for line in farm_order.lines]


def lock_order(order_id: int) -> None:
    """Step 1 of the lock order: hold this order's row until the transaction ends."""
    db.session.execute(select(Order.id).where(Order.id == order_id).with_for_update())


def expire_orders(now: datetime, actor_label: str = "cli:expire-orders") -> int:
    """Expire unpaid orders past their hold and release their stock and seats; a job, not a service:
    it commits, one order per short transaction (so it never holds one order's products while it
    waits for the next order).

    Each order is taken with SELECT ... FOR UPDATE SKIP LOCKED (an order a payment is confirming is
    left to it) and changed with a conditional UPDATE from pending_payment, so two runs at once (or a
    payment arriving meanwhile) release nothing twice. A lock conflict is retried (core.transactions);
    an order still in conflict after that is left for the next run. On SQLite FOR UPDATE is ignored and
    the conditional UPDATE alone decides.
    """
    due = db.session.scalars(select(Order.id).where(Order.status == "pending_payment", Order.expires_at <= now)
                             .order_by(Order.id)).all()
    db.session.commit()
    expired = 0
    for order_id in due:
        try:
            done = transactions.run(lambda: _expire_one(order_id, now, actor_label),
                                    what=f"expiring order {order_id}")
        except DBAPIError as error:
            kind = transactions.conflict_kind(error)
            if kind is None:
                raise
            db.session.rollback()
            current_app.logger.error("%s while expiring order %s, still there after %d attempts; left for the "
                                     "next run: %s", kind.capitalize(), order_id, transactions.ATTEMPTS, error.orig)
            continue
        expired += done
    return expired


def _expire_one(order_id: int, now: datetime, actor_label: str) -> bool:
    """One order's expiry, in its own transaction (committed here)."""
    free = db.session.scalar(select(Order.id).where(Order.id == order_id, Order.status == "pending_payment",
                                                    Order.expires_at <= now)
                             .with_for_update(skip_locked=True))
    done = free is not None and expire_order(order_id, now, actor_label)
    db.session.commit()
    return done


def expire_order(order_id: int, now: datetime, actor_label: str) -> bool:
    """Expire one order (the caller holds or takes its lock first, and commits): order, farm orders,
    then its products and slots in id order."""
    if not ORDER_MOVES.move(and_(Order.id == order_id, Order.expires_at <= now), "pending_payment", "expired"):
        return False
    FARM_ORDER_MOVES.move(FarmOrder.order_id == order_id, "pending_payment", "expired")
    order = db.session.get(Order, order_id)
    db.session.refresh(order)
    release_lines(all_lines(order))
    audit.record("order.expired", "order", order_id, actor_label=actor_label, from_state="pending_payment",
                 to_state="expired")
    events.order_expired.send(order, now=now)
    return True


def cancel_unpaid(order: Order, actor, now: datetime) -> None:
    """The buyer (or staff) cancels an order that is not paid yet; its stock goes back."""
    if not ORDER_MOVES.move(order.id, "pending_payment", "cancelled"):
        raise CheckoutError(_l("This order can no longer be cancelled here."))
    FARM_ORDER_MOVES.move(FarmOrder.order_id == order.id, "pending_payment", "cancelled")
    db.session.refresh(order)
    release_lines(all_lines(order))
    audit.record("order.cancelled", "order", order.id, actor=actor, from_state="pending_payment",
                 to_state="cancelled")
    events.order_cancelled.send(order, now=now)
    notices.order_cancelled(order)
