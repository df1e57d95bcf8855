"""Bank transfers into the cooperative's account: the account itself, and each incoming transfer taken in
exactly once, whether a bank-notification service reported it or staff typed it in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit, settings_store
from core.banks import bank_name
from core.extensions import db
from shop import checkout, notices
from shop.order_models import Order
from shop.payment_models import TRANSFER_MOVES, BankTransfer, Payment
from shop.payments.confirm import confirm_payment
from shop.payments.outcome import DuplicateTransfer, PaymentError
from shop.payments.refunds import create_refund
from shop.vietqr import find_reference

# The provider of the payments that bank transfers make (providers/vietqr.py).
BANK_TRANSFER = "vietqr"


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


def record_bank_transfer(*, transaction_id: str, amount_vnd: int, content: str, transferred_at: datetime | None,
                         source: str, now: datetime, actor=None, order: Order | None = None,
                         actor_label: str = "webhook:bank") -> BankTransfer:
    """Take in one incoming transfer (bank notification or staff entry), exactly once per bank transaction.

    The order is found by the KEP reference in the content (or given by staff). Underpaid stays
    pending and is flagged; overpaid is confirmed and the difference booked for refund; no
    reference keeps the transfer as unmatched for staff. ``actor_label`` names the notification's service
    (staff are named by ``actor``).
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
    try:
        with db.session.begin_nested():  # a concurrent copy of this notification wins; this one changes nothing
            db.session.add(transfer)
    except IntegrityError:
        raise DuplicateTransfer(transaction_id) from None
    actor_label = actor_label if actor is None else f"staff:{actor.id}"
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
    payment = Payment(order_id=order.id, provider=BANK_TRANSFER, provider_ref=transaction_id, amount_vnd=amount_vnd)
    db.session.add(payment)
    db.session.flush()
    outcome = confirm_payment(payment, actor_label=actor_label, now=now, actor=actor)
    transfer.status = "matched" if outcome.paid else "late"
    if amount_vnd > order.total_vnd and outcome.paid:
        transfer.status = "overpaid"
        create_refund(payment, amount_vnd - order.total_vnd, reason="overpaid")
        notices.staff_alert(order, "overpaid", transfer=transfer)
    return transfer


def resolve_transfer(transfer: BankTransfer, staff, note: str) -> None:
    if not TRANSFER_MOVES.move(transfer.id, ("unmatched", "underpaid", "late"), "resolved", note=note.strip()):
        raise PaymentError(_l("This transfer needs no action."))
    audit.record("bank_transfer.resolved", "bank_transfer", transfer.id, actor=staff, to_state="resolved",
                 details={"note": note.strip()})
