"""Refunds: booked on the payment they give back (never above what it brought in), sent after the commit
by the providers that send their own (Stripe), made by commune staff for the others (bank transfers)."""
from __future__ import annotations

import secrets
import time
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core import audit
from core.extensions import db
from shop import notices
from shop.payment_models import REFUND_MOVES, Payment, Refund
from shop.payments import registry
from shop.payments.outcome import PaymentError
from shop.payments.providers.base import ProviderUnavailable

REFUND_REASONS = {"overpaid": _l("paid too much"), "late_payment": _l("paid after the order expired"),
                  "duplicate_payment": _l("paid twice"), "cancelled": _l("farm order cancelled"),
                  "unpaid_in_time": _l("not paid in full before the order expired"),
                  "cancelled_unpaid": _l("order cancelled before it was paid in full"),
                  "unmatched": _l("a transfer that matched no order"), "visit_cancelled": _l("booking cancelled"),
                  "slot_cancelled": _l("visit cancelled by the farm"),
                  "visit_rebooked": _l("visit moved to a date that costs less")}


def refund_reason_label(reason: str):
    """What a refund's reason reads as; the farm's own reasons for cancelling (``farm_<reason>``) read as one."""
    if reason in REFUND_REASONS:
        return REFUND_REASONS[reason]
    return _l("order cancelled by the farm") if reason.startswith("farm_") else reason


def create_refund(payment: Payment, amount_vnd: int, *, reason: str, farm_order=None) -> Refund:
    """Book a refund on a payment, never above what it brought in. It is sent later (``send_pending_refunds``)
    or made by staff (``mark_refund_done``), as its provider does refunds."""
    if amount_vnd <= 0:
        raise PaymentError(_l("A refund must be more than 0 ₫."))
    booked = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status == "succeeded",
                              Payment.refunded_vnd + amount_vnd <= Payment.amount_vnd)
        .values(refunded_vnd=Payment.refunded_vnd + amount_vnd).execution_options(synchronize_session=False))
    if booked.rowcount != 1:
        raise PaymentError(_l("This refund would be more than was paid."))
    db.session.expire(payment, ["refunded_vnd"])
    refund = Refund(order_id=payment.order_id, payment_id=payment.id, farm_order=farm_order,
                    amount_vnd=amount_vnd, provider=payment.provider, reason=reason,
                    details_token=None if registry.get(payment.provider).sends_refunds else new_details_token())
    db.session.add(refund)
    db.session.flush()
    audit.record("refund.created", "refund", refund.id, actor_label="system", to_state="pending",
                 details={"order_id": payment.order_id, "amount_vnd": amount_vnd, "reason": reason})
    if refund.details_token is not None:  # staff make this one by hand: tell them
        notices.staff_alert(payment.order, "refund_to_make")
    return refund


def pending_sent_by_providers():
    """The query of the refunds waiting for their provider to send them."""
    return select(Refund).where(Refund.provider.in_(registry.sending_refunds()), Refund.status == "pending")


def send_pending_refunds(now: datetime, *, time_budget_seconds: float | None = None) -> int:
    """Send the pending refunds of the providers that send their own; those that fail stay pending.

    A job (``flask send-refunds``, and the staff button): it commits after each refund, and no transaction is
    open while a provider is called. With ``time_budget_seconds`` no new refund is started once that much time
    has passed (a request must end well before the worker timeout); the rest wait for the next run."""
    sent = 0
    started = time.monotonic()
    pending = db.session.scalars(pending_sent_by_providers().with_only_columns(Refund.id).order_by(Refund.id)).all()
    db.session.commit()
    for refund_id in pending:
        if time_budget_seconds is not None and time.monotonic() - started >= time_budget_seconds:
            break
        refund = db.session.get(Refund, refund_id)
        payment = db.session.get(Payment, refund.payment_id)
        db.session.commit()
        if refund.status != "pending":
            continue
        try:
            reference = registry.get(refund.provider).send_refund(payment, refund)
        except ProviderUnavailable as error:
            audit.record("refund.failed_attempt", "refund", refund_id, actor_label=refund.provider,
                         details={"error": str(error)[:300]})
            db.session.commit()
            continue
        REFUND_MOVES.move(refund_id, "pending", "done", provider_ref=reference, done_at=now)
        audit.record("refund.done", "refund", refund_id, actor_label=refund.provider, from_state="pending",
                     to_state="done")
        db.session.commit()
        sent += 1
    return sent


def mark_refund_done(refund: Refund, staff, bank_reference: str, now: datetime) -> None:
    """Staff made this refund themselves (a bank transfer back to the buyer) and give the bank's reference."""
    if registry.get(refund.provider).sends_refunds or not REFUND_MOVES.move(
            refund.id, "pending", "done", bank_reference=bank_reference.strip(), done_at=now, done_by_id=staff.id):
        raise PaymentError(_l("This refund is already done."))
    audit.record("refund.done", "refund", refund.id, actor=staff, from_state="pending", to_state="done",
                 details={"bank_reference": bank_reference.strip()})


def new_details_token() -> str:
    """The secret of the link by which a buyer gives the bank account a refund is sent to."""
    return secrets.token_urlsafe(24)


def refund_for_details(token: str) -> Refund | None:
    """The refund a details link is for, while staff still have to send it by hand; None otherwise."""
    if not token:
        return None
    refund = db.session.scalar(select(Refund).where(Refund.details_token == token))
    if refund is None or refund.status != "pending" or registry.get(refund.provider).sends_refunds:
        return None
    return refund


def give_bank_details(refund: Refund, *, bank_bin: str, account_number: str, account_name: str,
                      now: datetime) -> None:
    """The buyer says where the refund goes (they may correct it until staff have sent it)."""
    refund.buyer_bank_bin = bank_bin
    refund.buyer_account_number = account_number
    refund.buyer_account_name = account_name.strip()
    refund.details_given_at = now
    audit.record("refund.details_given", "refund", refund.id, actor_label="buyer",
                 details={"bank_bin": bank_bin, "account_number_end": account_number[-4:]})
