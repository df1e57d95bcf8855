"""Money coming in and going back: payments, bank transfers and the bank notifications they came from, Stripe
events, refunds."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import BigIntPK, db
from core.states import Moves
from core.time import utcnow
from shop.order_models import _in

PAYMENT_STATUSES = ("pending", "succeeded", "failed")
# "split": a credit whose whole amount went to its parts (child rows, ``parent_id``) or back to the payer.
TRANSFER_STATUSES = ("matched", "underpaid", "overpaid", "unmatched", "late", "resolved", "split")
REFUND_STATUSES = ("pending", "done", "failed")
# Where a bank notification came from (shop/payments/banks/), and what came of it (shop/payments/notifications.py).
NOTIFICATION_SOURCES = ("sepay", "casso", "generic", "payos")
NOTIFICATION_STATUSES = ("received", "processed", "unmatched", "ignored", "flagged", "failed")


class Payment(db.Model):
    """One attempt to pay an order: a Stripe PaymentIntent, or a bank transfer."""
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount_vnd"),
        CheckConstraint("refunded_vnd >= 0 AND refunded_vnd <= amount_vnd", name="refunded_vnd"),
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="status"),
        UniqueConstraint("provider", "provider_ref", name="uq_payments_provider_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # The payment provider (shop/payments/registry.py) and its own id of this payment: the bank's transaction
    # id of a transfer, Stripe's PaymentIntent id.
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    refunded_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Who confirmed it: "webhook:stripe", "return:stripe", "webhook:bank", or "staff:<user id>".
    confirmed_by: Mapped[str | None] = mapped_column(String(40))

    order = relationship("Order", backref="payments")


class BankTransfer(db.Model):
    """A transfer reported by the bank (webhook) or entered by staff; kept whatever it matched.

    A row without ``parent_id`` is one credit of the bank statement. Staff may split an unmatched credit across
    several orders (shop/payments/split.py): each part is a row of its own with ``parent_id`` the credit's, its
    order and its amount, so each part adds up with its order's other transfers exactly as a transfer would; the
    credit keeps its whole amount and is never counted twice (the statement and the daily figures read the rows
    without a parent)."""
    __tablename__ = "bank_transfers"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount_vnd"),
        CheckConstraint(_in("status", TRANSFER_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(100), unique=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[str] = mapped_column(Text, default="")
    transferred_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # The payment it is part of: transfers add up, and the one that completes an order makes one payment of all.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    source: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    # The credit this row is a part of (a split); none for a credit of the statement itself.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)

    order = relationship("Order")


class BankNotification(db.Model):
    """One notification from a bank-notification service, stored as it came before anything acts on it.

    ``source_id`` is the service's own id of the transaction (a digest of the body when the body has none), so a
    retry is stored once. ``status``: received (stored, not yet processed), processed (it made
    ``bank_transfer``, matched to an order), unmatched (it made an unmatched transfer, or could not make one:
    staff look at it), ignored (money out, nothing moved), flagged (another account than the cooperative's:
    never applied, staff told), failed (the body could not be read)."""
    __tablename__ = "bank_notifications"
    __table_args__ = (
        CheckConstraint(_in("source", NOTIFICATION_SOURCES), name="source"),
        CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status"),
        UniqueConstraint("source", "source_id", name="uq_bank_notifications_source_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[str] = mapped_column(String(100))
    # The body as text (bytes that are not UTF-8, and NUL, written as \xNN), and the headers worth keeping as
    # JSON (never the secret ones).
    raw_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text, default="{}")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="received", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed processing runs (the job gives up at 5)
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, or what was odd in it
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    bank_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)

    bank_transfer = relationship("BankTransfer")


# payOS's own statuses of a payment link (its create answer and GET /v2/payment-requests/{id}).
PAYOS_LINK_STATUSES = ("PENDING", "UNDERPAID", "PROCESSING", "PAID", "CANCELLED", "EXPIRED", "FAILED")
PAYOS_OPEN_STATUSES = ("PENDING", "UNDERPAID", "PROCESSING")


class PayosLink(db.Model):
    """One payOS payment link (payment request) for an order's amount due: payOS refuses a reused orderCode, so
    each attempt has its own, ``order id * 1000 + attempt`` (shop/payments/providers/payos.py)."""
    __tablename__ = "payos_links"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount_vnd"),
        CheckConstraint("attempt BETWEEN 1 AND 999", name="attempt"),
        CheckConstraint(_in("status", PAYOS_LINK_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_code: Mapped[int] = mapped_column(BigInteger, unique=True)  # payOS's orderCode
    attempt: Mapped[int] = mapped_column(Integer)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    payment_link_id: Mapped[str] = mapped_column(String(64), unique=True)  # payOS's paymentLinkId
    description: Mapped[str] = mapped_column(String(50))  # the transfer content payOS's QR carries
    qr_code: Mapped[str] = mapped_column(Text)  # the VietQR payload payOS returned
    checkout_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="PENDING", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)  # payOS last asked for its status
    cancel_sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # we asked payOS to cancel it

    order = relationship("Order")


class StripeEvent(db.Model):
    """Every Stripe webhook event, stored once."""
    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Refund(db.Model):
    """Money going back to a buyer: a Stripe Refund, or a bank-transfer task for staff."""
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount_vnd"),
        CheckConstraint(_in("status", REFUND_STATUSES), name="status"),
        UniqueConstraint("provider", "provider_ref", name="uq_refunds_provider_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The order it gives money back for; none for a bank credit that no order is (``bank_transfer_id``).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    farm_order_id: Mapped[int | None] = mapped_column(ForeignKey("farm_orders.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    bank_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(20))  # its payment's provider
    provider_ref: Mapped[str | None] = mapped_column(String(255))  # the provider's id of the refund (Stripe's)
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)  # staff's words, for a refund after delivery
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    # A refund that staff make by bank transfer: the buyer says where it goes, through a secret link.
    details_token: Mapped[str | None] = mapped_column(String(43), unique=True)
    buyer_bank_bin: Mapped[str | None] = mapped_column(String(8))
    buyer_account_number: Mapped[str | None] = mapped_column(String(19))
    buyer_account_name: Mapped[str | None] = mapped_column(String(120))
    details_given_at: Mapped[datetime | None] = mapped_column(DateTime)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order = relationship("Order")
    farm_order = relationship("FarmOrder")
    payment = relationship("Payment")
    bank_transfer = relationship("BankTransfer")


# The moves of each status (core/states.py). A card attempt that failed may still succeed (the buyer tries
# the same PaymentIntent again).
PAYMENT_MOVES = Moves(Payment, [("pending", "succeeded"), ("pending", "failed"), ("failed", "succeeded")])
REFUND_MOVES = Moves(Refund, [("pending", "done"), ("pending", "failed")])
# ("unmatched", "unmatched"): staff give it its order, and then it moves as any transfer with an order.
# ("unmatched", "split"): nothing of it is left unmatched once its parts (and what went back) make its amount.
TRANSFER_MOVES = Moves(BankTransfer, [(state, "resolved") for state in ("unmatched", "underpaid", "late")]
                       + [("unmatched", "unmatched"), ("unmatched", "split")])
