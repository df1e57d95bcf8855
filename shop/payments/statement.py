"""Where a buyer's money is: every amount received for an order, every refund (waiting or sent, with its
reference), and what that makes of the order (a fully refunded order is "refunded", not "paid")."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from shop.payment_models import BankTransfer, Payment, Refund
from shop.payments.transfers import BANK_TRANSFER


@dataclass(frozen=True)
class Received:
    amount_vnd: int
    at: datetime
    provider: str
    reference: str | None  # the bank's transaction id, or nothing for a card


@dataclass
class OrderMoney:
    received: list[Received] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def received_vnd(self) -> int:
        return sum(item.amount_vnd for item in self.received)

    @property
    def refunded_vnd(self) -> int:
        return sum(refund.amount_vnd for refund in self.refunds)

    @property
    def waiting_back_vnd(self) -> int:
        """Booked for refund and not sent yet (an overpayment, a duplicate, a cancelled part…)."""
        return sum(refund.amount_vnd for refund in self.refunds if refund.status == "pending")

    def status(self, order, now: datetime) -> str:
        """The order's status as the buyer reads it: "refunded" once everything received has gone back."""
        status = order.display_status(now)
        if self.received and self.refunded_vnd >= self.received_vnd and status in ("paid", "cancelled", "expired"):
            return "refunded"
        return status


def order_money(order) -> OrderMoney:
    """Three queries: the order's bank transfers (each part of a payment), its other payments, its refunds."""
    transfers = db.session.scalars(select(BankTransfer).where(BankTransfer.order_id == order.id,
                                                              BankTransfer.status != "unmatched")).all()
    others = db.session.scalars(select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded",
                                                      Payment.provider != BANK_TRANSFER)).all()
    received = [Received(t.amount_vnd, t.transferred_at or t.received_at, BANK_TRANSFER, t.transaction_id)
                for t in transfers]
    received += [Received(p.amount_vnd, p.confirmed_at or p.created_at, p.provider, None) for p in others]
    refunds = db.session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()
    return OrderMoney(received=sorted(received, key=lambda item: item.at), refunds=list(refunds))
