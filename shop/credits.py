"""Visit credit: a buyer whose visit the farm called off (rain) may keep what they paid as credit for a later
booking instead of a refund.

- Given (``credit_line``): the line is taken back exactly as a refund takes it back (``refund_line`` without
  the refund on the payment: the farm order's refunded amount, the line's ledger reversal, its seats), and a
  ``CreditEntry`` of the line's total is written for the buyer's account. The farm's ledger reads the same as
  after a refund; the money stays with the market, owed to the buyer as credit (``balance``).
- Kept for ``CREDIT_MONTHS`` (12) months; what is left after that is no longer offered.
- One credit per line (unique ``order_line_id``), so a choice applied twice cannot give twice.
- Only an account holds credit (a guest booking is offered another date or a refund).
- Spent (``pay_order``) at checkout by the payment method "credit" (shop/payments/providers/credit.py), only when
  it covers the whole order: the entries that expire soonest first, each lowered with a guarded UPDATE (never
  below 0, never an expired one), and a succeeded ``Payment`` of provider "credit" for the total, confirmed as
  any payment is (the ledger books the sale as usual). A refund of such an order is given back as credit
  (``give_back``, once per refund).

The books agree to the đồng: money received (payments other than credit) less money sent back (refunds other
than credit) less the credit still owed equals what the ledger counts as sold (sales less refunds).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from core import audit
from core.extensions import db
from shop.credit_models import CREDIT_MONTHS, CreditEntry, expiry  # noqa: F401  (CREDIT_MONTHS: for callers)
from shop.checkout import CheckoutError
from shop.order_models import Order, OrderLine
from shop.payment_models import Payment, Refund
from shop.payments.confirm import confirm_payment
from shop.payments.farm_orders import refund_line
from shop.payments.providers.credit import CODE

def credit_line(line: OrderLine, user_id: int, actor, now: datetime, *, reason: str) -> CreditEntry | None:
    """Turn a paid line into credit of the buyer's account (in the caller's transaction); None when it cost
    nothing. Raises PaymentError (nothing changed) when the line was already refunded or credited."""
    amount = line.line_total_vnd
    refund_line(line, actor, now, reason, book_refund=False)
    if amount <= 0:
        return None
    entry = CreditEntry(user_id=user_id, amount_vnd=amount, remaining_vnd=amount, order_id=line.farm_order.order_id,
                        order_line_id=line.id, reason=reason, created_at=now, expires_at=expiry(now))
    db.session.add(entry)
    db.session.flush()
    audit.record("credit.given", "credit", entry.id, actor=actor, actor_label=None if actor else "system",
                 details={"amount_vnd": amount, "order_line_id": line.id, "user_id": user_id})
    return entry


@dataclass
class Balance:
    amount_vnd: int
    next_expiry: datetime | None
    entries: list[CreditEntry]


def balance(user_id: int, now: datetime) -> Balance:
    """What the account may still spend (credit not expired), and when the soonest of it expires (1 query)."""
    entries = list(db.session.scalars(select(CreditEntry).where(
        CreditEntry.user_id == user_id, CreditEntry.remaining_vnd > 0, CreditEntry.expires_at > now)
        .order_by(CreditEntry.expires_at, CreditEntry.id)))
    return Balance(sum(e.remaining_vnd for e in entries), entries[0].expires_at if entries else None, entries)


def outstanding_vnd(now: datetime | None = None) -> int:
    """All the credit the market owes (for the books): what is left on every entry, expired or not unless
    ``now`` is given."""
    query = select(func.coalesce(func.sum(CreditEntry.remaining_vnd), 0))
    if now is not None:
        query = query.where(CreditEntry.expires_at > now)
    return db.session.scalar(query)


def pay_order(order: Order, user_id: int, now: datetime) -> Payment:
    """Pay a just-placed order with the account's credit, in the caller's transaction; CheckoutError (the caller
    rolls back: nothing placed, nothing spent) when the credit does not cover it."""
    need = order.total_vnd
    available = balance(user_id, now)
    if order.user_id != user_id or available.amount_vnd < need or need <= 0:
        raise CheckoutError(_l("Your visit credit does not cover this order. Please choose another way to pay."),
                           reason="credit")
    for entry in available.entries:
        take = min(entry.remaining_vnd, need)
        spent = db.session.execute(
            update(CreditEntry).where(CreditEntry.id == entry.id, CreditEntry.remaining_vnd >= take,
                                      CreditEntry.expires_at > now)
            .values(remaining_vnd=CreditEntry.remaining_vnd - take).execution_options(synchronize_session=False))
        if spent.rowcount != 1:
            raise CheckoutError(_l("Your visit credit changed meanwhile. Please try again."), reason="credit")
        audit.record("credit.spent", "credit", entry.id, actor_label="buyer",
                     details={"order_id": order.id, "amount_vnd": take})
        need -= take
        if need == 0:
            break
    payment = Payment(order_id=order.id, provider=CODE, amount_vnd=order.total_vnd,
                      provider_ref=f"credit-{order.public_id}")
    db.session.add(payment)
    db.session.flush()
    confirm_payment(payment, actor_label="credit", now=now)
    return payment


def money_in_books() -> tuple[int, int]:
    """Money received from buyers and money sent back to them, credit left out (it is neither)."""
    received = db.session.scalar(select(func.coalesce(func.sum(Payment.amount_vnd), 0)).where(
        Payment.status == "succeeded", Payment.provider != CODE))
    sent_back = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_vnd), 0)).where(Refund.provider != CODE))
    return received, sent_back


def _current_balance() -> Balance | None:
    from flask_login import current_user

    from core.time import utcnow
    if not current_user.is_authenticated:
        return None
    return balance(current_user.id, utcnow())


def init_app(app) -> None:
    """Pages read the signed-in buyer's credit with ``visit_credit()`` (the account page shows it)."""
    app.context_processor(lambda: {"visit_credit": _current_balance})
