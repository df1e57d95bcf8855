"""Payments: one idempotent confirmation for every path (bank webhook, staff, Stripe
webhook, Stripe return page), late payments, refunds, and farm-order transitions.

Locks follow the app's one lock order (shop.checkout's docstring): each change here takes its
order's row first (``checkout.lock_order``), then the order's farm orders, payments and refunds,
then products and slots in id order. Stripe is never called while a lock is held: card refunds are
booked here and sent by ``flask send-refunds`` after the commit."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import audit, settings_store
from core.banks import bank_name
from core.extensions import db
from shop import checkout, ledger, notices
from shop import stripe as stripe_api
from shop.ledger import LedgerEntry
from shop.models import Product
from shop.order_models import FarmOrder, Order, OrderLine
from shop.payment_models import BankTransfer, Payment, Refund, StripeEvent
from shop.vietqr import find_reference
from tours import services as tour_services

# Allowed farm-order moves after payment; everything else is refused.
FARM_ORDER_TRANSITIONS = {("paid", "ready"), ("ready", "completed"), ("paid", "cancelled")}


class DuplicateTransfer(Exception):
    """This bank transaction was already taken in; nothing changed."""


class PaymentError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def platform_fee_bp() -> int:
    """The platform fee in basis points (100 = 1 %), set by staff; default 0."""
    return int(settings_store.get("platform_fee_bp", "0") or 0)


@dataclass(frozen=True)
class ReceivingAccount:
    bank_bin: str
    bank_name: str
    account_number: str
    account_name: str


def receiving_account() -> ReceivingAccount:
    """The cooperative's account that receives VietQR transfers: what staff set
    (settings "bank_bin", "bank_account_number", "bank_account_name", "bank_name"), else BANK_* config."""
    keys = ("bank_bin", "bank_account_number", "bank_account_name", "bank_name")
    rows = dict(db.session.execute(select(settings_store.Setting.key, settings_store.Setting.value)
                                   .where(settings_store.Setting.key.in_(keys))).all())
    staff = {key: (rows.get(key) or "").strip() for key in keys}
    config = current_app.config
    bank_bin = staff["bank_bin"] or config.get("BANK_BIN", "")
    # A bank chosen by staff is named from its BIN, not from the configured bank's name.
    name = staff["bank_name"] or (bank_name(bank_bin) if staff["bank_bin"] else
                                  config.get("BANK_NAME") or bank_name(bank_bin))
    return ReceivingAccount(bank_bin=bank_bin, bank_name=name,
                            account_number=staff["bank_account_number"] or config.get("BANK_ACCOUNT_NUMBER", ""),
                            account_name=staff["bank_account_name"] or config.get("BANK_ACCOUNT_NAME", ""))


# -- confirmation -----------------------------------------------------------------

def confirm_payment(payment: Payment, *, actor_label: str, now: datetime, actor=None) -> str:
    """Mark ``payment`` succeeded and its order paid. Safe to call any number of times.

    Returns what happened: "paid", "already", "late_paid" (the order had expired and
    its stock could be taken again), "late_refunded" or "duplicate_refunded".
    """
    checkout.lock_order(payment.order_id)
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status != "succeeded")
        .values(status="succeeded", confirmed_at=now, confirmed_by=actor_label)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return "already"
    db.session.refresh(payment)
    order = payment.order
    paid = db.session.execute(
        update(Order).where(Order.id == order.id, Order.status == "pending_payment")
        .values(status="paid", paid_at=now).execution_options(synchronize_session=False))
    db.session.refresh(order)
    if paid.rowcount == 1:
        _mark_paid(order, payment, now, actor, actor_label, from_state="pending_payment")
        return "paid"
    if order.status in ("expired", "cancelled"):
        previous = order.status
        if checkout.rereserve_lines(checkout.all_lines(order)):
            db.session.execute(update(Order).where(Order.id == order.id, Order.status == previous)
                               .values(status="paid", paid_at=now).execution_options(synchronize_session=False))
            db.session.execute(update(FarmOrder).where(FarmOrder.order_id == order.id,
                                                       FarmOrder.status == previous)
                               .values(status="pending_payment").execution_options(synchronize_session=False))
            db.session.refresh(order)
            _mark_paid(order, payment, now, actor, actor_label, from_state=previous)
            return "late_paid"
        create_refund(payment, payment.amount_vnd, reason="late_payment")
        audit.record("payment.late_refunded", "order", order.id, actor=actor, actor_label=actor_label,
                     details={"payment_id": payment.id, "amount_vnd": payment.amount_vnd})
        notices.late_payment_refunded(order, payment)
        return "late_refunded"
    # Already paid by another payment: give this one back.
    create_refund(payment, payment.amount_vnd, reason="duplicate_payment")
    audit.record("payment.duplicate_refunded", "order", order.id, actor=actor, actor_label=actor_label,
                 details={"payment_id": payment.id})
    notices.staff_alert(order, "duplicate_payment")
    return "duplicate_refunded"


def _mark_paid(order: Order, payment: Payment, now: datetime, actor, actor_label: str, from_state: str) -> None:
    db.session.execute(update(FarmOrder).where(FarmOrder.order_id == order.id,
                                               FarmOrder.status == "pending_payment")
                       .values(status="paid").execution_options(synchronize_session=False))
    for farm_order in order.farm_orders:
        db.session.refresh(farm_order)
        ledger.record_sale(farm_order, now, platform_fee_bp())
    # One UPDATE per product, in id order: a single UPDATE ... WHERE id IN (...) locks its rows in the order it
    # finds them on disk, which differs between two such statements and deadlocks them.
    for product_id in sorted({line.product_id for line in checkout.all_lines(order) if line.product_id}):
        db.session.execute(update(Product).where(Product.id == product_id)
                           .values(orders_count=Product.orders_count + 1).execution_options(synchronize_session="fetch"))
    tour_services.issue_tickets(order, now)
    audit.record("order.paid", "order", order.id, actor=actor, actor_label=actor_label, from_state=from_state,
                 to_state="paid", details={"payment_id": payment.id, "method": payment.method,
                                           "amount_vnd": payment.amount_vnd})
    notices.order_paid(order)


# -- refunds -------------------------------------------------------------------------

def create_refund(payment: Payment, amount_vnd: int, *, reason: str, farm_order: FarmOrder | None = None) -> Refund:
    """Book a refund on a payment, never above what it brought in. Card refunds are sent to
    Stripe after the commit (``send_card_refunds``); bank refunds wait for staff."""
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
                    amount_vnd=amount_vnd, method=payment.method, reason=reason)
    db.session.add(refund)
    db.session.flush()
    audit.record("refund.created", "refund", refund.id, actor_label="system", to_state="pending",
                 details={"order_id": payment.order_id, "amount_vnd": amount_vnd, "reason": reason})
    return refund


def send_card_refunds(now: datetime, *, time_budget_seconds: float | None = None) -> int:
    """Send pending card refunds to Stripe (after the commit that booked them). Retried until done.

    A job (``flask send-refunds``, and the staff button): it commits after each refund, and no
    transaction is open while Stripe is called. With ``time_budget_seconds`` no new refund is started
    once that much time has passed (a request must end well before the worker timeout); the rest
    wait for the next run."""
    sent = 0
    started = time.monotonic()
    pending = db.session.scalars(select(Refund.id).where(Refund.method == "card", Refund.status == "pending")
                                 .order_by(Refund.id)).all()
    db.session.commit()
    for refund_id in pending:
        if time_budget_seconds is not None and time.monotonic() - started >= time_budget_seconds:
            break
        refund = db.session.get(Refund, refund_id)
        payment = db.session.get(Payment, refund.payment_id)
        intent_id, amount = payment.stripe_payment_intent_id, refund.amount_vnd
        db.session.commit()
        if refund.status != "pending":
            continue
        try:
            stripe_id = stripe_api.refund(intent_id, amount, f"refund-{refund_id}")
        except stripe_api.StripeUnavailable as error:
            audit.record("refund.failed_attempt", "refund", refund_id, actor_label="stripe",
                         details={"error": str(error)[:300]})
            db.session.commit()
            continue
        db.session.execute(update(Refund).where(Refund.id == refund_id, Refund.status == "pending")
                           .values(status="done", stripe_refund_id=stripe_id, done_at=now)
                           .execution_options(synchronize_session=False))
        audit.record("refund.done", "refund", refund_id, actor_label="stripe", from_state="pending",
                     to_state="done")
        db.session.commit()
        sent += 1
    return sent


def mark_bank_refund_done(refund: Refund, staff, bank_reference: str, now: datetime) -> None:
    done = db.session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == "pending", Refund.method == "vietqr")
        .values(status="done", bank_reference=bank_reference.strip(), done_at=now, done_by_id=staff.id)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise PaymentError(_l("This refund is already done."))
    audit.record("refund.done", "refund", refund.id, actor=staff, from_state="pending", to_state="done",
                 details={"bank_reference": bank_reference.strip()})


# -- farm orders -------------------------------------------------------------------------

def move_farm_order(farm_order: FarmOrder, to_state: str, actor, now: datetime, *, on_behalf_of=None) -> None:
    """Advance a paid farm order (ready, completed) with a conditional UPDATE from its state.

    ``on_behalf_of``: the farm's owner when commune staff act for the farm (written to the audit log)."""
    from_state = farm_order.status
    if (from_state, to_state) not in FARM_ORDER_TRANSITIONS or to_state == "cancelled":
        raise PaymentError(_l("This order cannot be moved to that step."))
    changed = db.session.execute(
        update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status == from_state)
        .values(status=to_state, updated_at=now).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise PaymentError(_l("This order was changed meanwhile. Please reload the page."))
    db.session.refresh(farm_order)
    audit.record(f"farm_order.{to_state}", "farm_order", farm_order.id, actor=actor, on_behalf_of=on_behalf_of,
                 from_state=from_state, to_state=to_state)
    if to_state == "ready":
        notices.farm_order_ready(farm_order)


def cancel_paid_farm_order(farm_order: FarmOrder, actor, now: datetime, reason: str = "cancelled", *,
                           on_behalf_of=None) -> Refund:
    """Cancel a paid farm order: refund its share, reverse its ledger entries, give its stock back."""
    checkout.lock_order(farm_order.order_id)
    db.session.refresh(farm_order, ["refunded_vnd"])
    already = farm_order.refunded_vnd  # a visit line may have been refunded on its own (refund_line)
    changed = db.session.execute(
        update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status == "paid",
                                FarmOrder.refunded_vnd == already)
        .values(status="cancelled", refunded_vnd=FarmOrder.total_vnd, updated_at=now)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise PaymentError(_l("Only a paid order that is not ready yet can be cancelled."))
    db.session.refresh(farm_order)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == farm_order.order_id,
                                                      Payment.status == "succeeded").order_by(Payment.id))
    refund = create_refund(payment, farm_order.total_vnd - already, reason=reason, farm_order=farm_order)
    refunded_lines = _reverse_sales(now, LedgerEntry.farm_order_id == farm_order.id)
    checkout.release_lines([line for line in farm_order.lines if line.id not in refunded_lines])
    audit.record("farm_order.cancelled", "farm_order", farm_order.id, actor=actor, on_behalf_of=on_behalf_of,
                 from_state="paid", to_state="cancelled", details={"refund_id": refund.id, "reason": reason})
    notices.farm_order_cancelled(farm_order, refund)
    return refund


def refund_line(line: OrderLine, actor, now: datetime, reason: str) -> Refund | None:
    """Refund one line of a paid farm order (a cancelled visit): its amount goes back through the payment it
    came with, only its own ledger entries are reversed, its seats (or stock) are given back, and the farm
    order is cancelled once all of it has been refunded. None when the line cost nothing."""
    farm_order = line.farm_order
    checkout.lock_order(farm_order.order_id)
    amount = line.line_total_vnd
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.order_line_id == line.id,
                                                      LedgerEntry.kind == "refund").limit(1)):
        raise PaymentError(_l("This line was already refunded."))
    booked = db.session.execute(
        update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status.in_(("paid", "ready", "completed")),
                                FarmOrder.refunded_vnd + amount <= FarmOrder.total_vnd)
        .values(refunded_vnd=FarmOrder.refunded_vnd + amount, updated_at=now)
        .execution_options(synchronize_session=False))
    if booked.rowcount != 1:
        raise PaymentError(_l("This line can no longer be refunded."))
    refund = None
    if amount > 0:
        payment = db.session.scalar(select(Payment).where(Payment.order_id == farm_order.order_id,
                                                          Payment.status == "succeeded").order_by(Payment.id))
        refund = create_refund(payment, amount, reason=reason, farm_order=farm_order)
    _reverse_sales(now, LedgerEntry.order_line_id == line.id)
    checkout.release_lines([line])
    db.session.refresh(farm_order)
    from_state = farm_order.status
    if farm_order.refunded_vnd >= farm_order.total_vnd and from_state in ("paid", "ready"):
        db.session.execute(update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status == from_state)
                           .values(status="cancelled", updated_at=now).execution_options(synchronize_session=False))
        db.session.refresh(farm_order)
        audit.record("farm_order.cancelled", "farm_order", farm_order.id, actor=actor, from_state=from_state,
                     to_state="cancelled", details={"reason": reason})
    audit.record("order_line.refunded", "order_line", line.id, actor=actor, actor_label=None if actor else "system",
                 details={"amount_vnd": amount, "reason": reason, "refund_id": refund.id if refund else None})
    return refund


def _reverse_sales(now: datetime, *where) -> set[int]:
    """Reverse the sale and fee entries matching ``where`` whose line was not reversed yet (append-only:
    new refund and fee_refund entries). Returns the ids of the lines that had been reversed before."""
    entries = db.session.scalars(select(LedgerEntry).where(*where, LedgerEntry.kind.in_(("sale", "fee")))).all()
    done = set(db.session.scalars(select(LedgerEntry.order_line_id).where(
        *where, LedgerEntry.kind == "refund", LedgerEntry.order_line_id.is_not(None))))
    db.session.add_all([
        LedgerEntry(farm_id=e.farm_id, occurred_at=now, source=e.source,
                    kind="refund" if e.kind == "sale" else "fee_refund", amount_vnd=-e.amount_vnd,
                    quantity=-e.quantity, order_id=e.order_id, farm_order_id=e.farm_order_id,
                    order_line_id=e.order_line_id, product_id=e.product_id, tour_id=e.tour_id)
        for e in entries if e.order_line_id is None or e.order_line_id not in done])
    return done


# -- bank transfers ---------------------------------------------------------------------

def record_bank_transfer(*, transaction_id: str, amount_vnd: int, content: str, transferred_at: datetime | None,
                         source: str, now: datetime, actor=None, order: Order | None = None) -> BankTransfer:
    """Take in one incoming transfer (bank notification or staff entry), exactly once per bank transaction.

    The order is found by the KEP reference in the content (or given by staff). Underpaid stays
    pending and is flagged; overpaid is confirmed and the difference booked for refund; no
    reference keeps the transfer as unmatched for staff.
    """
    transaction_id = transaction_id.strip()
    if db.session.scalar(select(BankTransfer.id).where(BankTransfer.transaction_id == transaction_id)):
        raise DuplicateTransfer(transaction_id)
    if order is None:
        reference = find_reference(content)
        order = db.session.get(Order, int(reference[3:])) if reference else None
    if order is not None:
        checkout.lock_order(order.id)  # before the rows that refer to it (their foreign key shares its lock)
    transfer = BankTransfer(transaction_id=transaction_id, amount_vnd=amount_vnd, content=content[:1000],
                            transferred_at=transferred_at, received_at=now, source=source,
                            order_id=order.id if order else None, status="unmatched")
    db.session.add(transfer)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DuplicateTransfer(transaction_id) from None
    actor_label = "webhook:bank" if actor is None else f"staff:{actor.id}"
    if order is None:
        audit.record("bank_transfer.unmatched", "bank_transfer", transfer.id, actor=actor, actor_label=actor_label)
        notices.staff_alert(None, "unmatched_transfer", transfer=transfer)
        return transfer
    if amount_vnd < order.total_vnd:
        transfer.status = "underpaid"
        audit.record("bank_transfer.underpaid", "order", order.id, actor=actor, actor_label=actor_label,
                     details={"transfer_id": transfer.id, "amount_vnd": amount_vnd, "due_vnd": order.total_vnd})
        notices.staff_alert(order, "underpaid", transfer=transfer)
        return transfer
    payment = Payment(order_id=order.id, method="vietqr", amount_vnd=amount_vnd, bank_transaction_id=transaction_id)
    db.session.add(payment)
    db.session.flush()
    outcome = confirm_payment(payment, actor_label=actor_label, now=now, actor=actor)
    transfer.status = {"paid": "matched", "late_paid": "matched"}.get(outcome, "late")
    if amount_vnd > order.total_vnd and outcome in ("paid", "late_paid"):
        transfer.status = "overpaid"
        create_refund(payment, amount_vnd - order.total_vnd, reason="overpaid")
        notices.staff_alert(order, "overpaid", transfer=transfer)
    return transfer


def resolve_transfer(transfer: BankTransfer, staff, note: str) -> None:
    changed = db.session.execute(
        update(BankTransfer).where(BankTransfer.id == transfer.id,
                                   BankTransfer.status.in_(("unmatched", "underpaid", "late")))
        .values(status="resolved", note=note.strip()).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise PaymentError(_l("This transfer needs no action."))
    audit.record("bank_transfer.resolved", "bank_transfer", transfer.id, actor=staff, to_state="resolved",
                 details={"note": note.strip()})


# -- cards ------------------------------------------------------------------------------------

def start_card_payment(order: Order, now: datetime) -> Payment:
    """A new PaymentIntent for this order (one per attempt); the Stripe call happens before any write."""
    if order.status != "pending_payment" or order.is_overdue(now):
        raise PaymentError(_l("This order can no longer be paid."))
    attempt = db.session.scalar(select(db.func.count()).select_from(Payment)
                                .where(Payment.order_id == order.id, Payment.method == "card")) + 1
    intent = stripe_api.create_payment_intent(amount_vnd=order.total_vnd, order_reference=order.reference,
                                              attempt=attempt, email=order.buyer_email)
    payment = Payment(order_id=order.id, method="card", amount_vnd=order.total_vnd,
                      stripe_payment_intent_id=intent.id)
    db.session.add(payment)
    db.session.flush()
    payment.client_secret = intent.client_secret
    return payment


def sync_card_payment(intent_id: str, *, actor_label: str, now: datetime) -> str:
    """Re-read a PaymentIntent from Stripe and act on what Stripe says, never on a payload.

    Confirms only when the intent succeeded with the payment's amount in VND."""
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    if payment is None:
        return "unknown"
    intent = stripe_api.retrieve_payment_intent(intent_id)
    if intent.status == "succeeded":
        if intent.amount != payment.amount_vnd or intent.currency != stripe_api.CURRENCY:
            audit.record("payment.mismatch", "payment", payment.id, actor_label=actor_label,
                         details={"amount": intent.amount, "currency": intent.currency})
            notices.staff_alert(payment.order, "amount_mismatch")
            return "mismatch"
        return confirm_payment(payment, actor_label=actor_label, now=now)
    if intent.status in ("requires_payment_method", "canceled") and payment.status == "pending":
        payment.status = "failed"
        payment.failure_message = intent.failure_message
        audit.record("payment.failed", "payment", payment.id, actor_label=actor_label,
                     details={"message": intent.failure_message})
        return "failed"
    return intent.status


def handle_stripe_event(event: dict, now: datetime) -> str:
    """Act on an event once; a replay is a no-op.

    Stripe is asked (the PaymentIntent re-read) before anything is written, so no lock is held during
    the call; the event row is written with the outcome, and a concurrent duplicate rolls back on the
    UNIQUE event id.
    """
    if db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event["id"])):
        return "duplicate"
    obj = event.get("data", {}).get("object", {})
    if event["type"] in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        outcome = sync_card_payment(obj.get("id", ""), actor_label="webhook:stripe", now=now)
    elif event["type"] == "charge.refunded":
        audit.record("stripe.charge_refunded", "payment", None, actor_label="webhook:stripe",
                     details={"payment_intent": obj.get("payment_intent"),
                              "amount_refunded": obj.get("amount_refunded")})
        outcome = "recorded"
    else:
        outcome = "ignored"
    db.session.add(StripeEvent(event_id=event["id"], type=event["type"], received_at=now))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    return outcome
