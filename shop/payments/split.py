"""One unmatched bank credit split across several orders (a buyer paid for two orders, or a family's orders, in
one transfer).

The credit stays one row, with its whole amount: one line of the bank statement, never typed again. Each part
is a row of its own (``BankTransfer.parent_id`` = the credit; source "split"; transaction id the credit's with
"/1", "/2"…) with its order and amount, and goes to ``apply_to_order`` exactly as a transfer naming that order
would: a part that completes its order (with the order's other transfers) pays it, a smaller one waits
("underpaid") for the rest, one beyond the total is booked back as overpaid. Child rows rather than a table of
allocations because every rule of adding up (``waiting_parts``, the payment of all the parts, the refund of
parts when an order expires, the buyer's "money received" list) already reads bank_transfers rows by order: a
part is one, and nothing else had to learn a second kind of row.

What is not given to an order stays on the credit: still unmatched (staff split again, send it back, or mark
it resolved), or booked at once as a refund of the rest (a ``Refund`` on the credit, reason "unmatched"). The
credit becomes "split" when nothing of it is left unmatched.

Concurrency: the credit's row is locked first (SELECT ... FOR UPDATE, before any order: the lock order of
shop.checkout), then what is left is read, then the orders are locked in id order. Two staff splitting the same
credit at once are serialised on that row: the second sees the first one's parts and cannot give out more than
the credit. ``assign_transfer`` and ``refund_unmatched`` lock the credit the same way."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from core.formatting import vnd
from shop import checkout
from shop.order_models import Order
from shop.payment_models import TRANSFER_MOVES, BankTransfer, Refund
from shop.payments.outcome import PaymentError
from shop.payments.refunds import new_details_token
from shop.payments.transfers import BANK_TRANSFER, apply_to_order, left_vnd, lock_credit

MAX_PARTS = 10


def _unmatched_credit(transfer_id: int) -> BankTransfer:
    credit = lock_credit(transfer_id)
    if credit is None or credit.parent_id is not None or credit.order_id is not None:
        raise PaymentError(_l("This transfer already has its order."))
    if credit.status != "unmatched":
        raise PaymentError(_l("This transfer needs no action."))
    return credit


def split_transfer(transfer: BankTransfer, parts: list[tuple[Order, int]], *, refund_rest: bool, note: str,
                   staff, now: datetime) -> list[BankTransfer]:
    """Give parts of an unmatched credit to orders (each order once, each amount above 0, all of them at most
    what is left of the credit); the rest stays unmatched, or with ``refund_rest`` is booked back at once.
    Returns the parts made, each as ``apply_to_order`` left it."""
    credit = _unmatched_credit(transfer.id)
    if not parts:
        raise PaymentError(_l("Give at least one order and its amount."))
    if len(parts) > MAX_PARTS:
        raise PaymentError(_l("A transfer can be split across at most %(num)d orders at once.", num=MAX_PARTS))
    if len({order.id for order, _amount in parts}) != len(parts):
        raise PaymentError(_l("Each order can appear only once in a split."))
    if any(amount <= 0 for _order, amount in parts):
        raise PaymentError(_l("Each part must be more than 0 ₫."))
    left = left_vnd(credit)
    total = sum(amount for _order, amount in parts)
    if total > left:
        raise PaymentError(_l("The parts add up to %(total)s, more than the %(left)s left of this transfer.",
                              total=vnd(total), left=vnd(left)))
    for order_id in sorted(order.id for order, _amount in parts):
        checkout.lock_order(order_id)
    number = db.session.scalar(select(func.count()).select_from(BankTransfer)
                               .where(BankTransfer.parent_id == credit.id))
    made = []
    for order, amount in parts:
        number += 1
        part = BankTransfer(transaction_id=f"{credit.transaction_id[:94]}/{number}", amount_vnd=amount,
                            content=credit.content, transferred_at=credit.transferred_at, received_at=now,
                            source="split", order_id=order.id, status="unmatched", parent_id=credit.id)
        db.session.add(part)
        db.session.flush()
        audit.record("bank_transfer.split_part", "bank_transfer", credit.id, actor=staff,
                     details={"part_id": part.id, "order_id": order.id, "amount_vnd": amount})
        order = db.session.get(Order, order.id)
        db.session.refresh(order)
        made.append(apply_to_order(part, order, now=now, actor=staff))
    rest = left - total
    if rest and refund_rest:
        refund = Refund(bank_transfer_id=credit.id, provider=BANK_TRANSFER, amount_vnd=rest, reason="unmatched",
                        details_token=new_details_token())
        db.session.add(refund)
        db.session.flush()
        audit.record("refund.created", "refund", refund.id, actor=staff, to_state="pending",
                     details={"transfer_id": credit.id, "amount_vnd": rest, "note": note.strip()})
        rest = 0
    if rest == 0:
        TRANSFER_MOVES.move(credit.id, "unmatched", "split", note=note.strip() or None)
        db.session.refresh(credit)
    audit.record("bank_transfer.split", "bank_transfer", credit.id, actor=staff,
                 details={"parts": [{"order_id": p.order_id, "amount_vnd": p.amount_vnd, "status": p.status}
                                    for p in made], "left_vnd": rest, "note": note.strip()})
    return made
