"""Bank transfers into the cooperative's account: the account itself, and each incoming transfer taken in
exactly once, whether a bank-notification service reported it or staff typed it in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from core import audit, settings_store
from core.banks import bank_name
from core.extensions import db
from shop import checkout, notices
from shop.order_models import Order
from shop.payment_models import TRANSFER_MOVES, BankTransfer, Payment, Refund
from shop.payments.confirm import confirm_payment
from shop.payments.outcome import DuplicateTransfer, PaymentError
from shop.payments.reference import find_references
from shop.payments.refunds import create_refund, new_details_token

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


def order_in_content(content: str) -> Order | None:
    """The order a transfer's content names: of its valid references, those of an order that exists ("Dua Kep
    KEP..." may read as two, the first an order no one placed), if they are one order; the legacy references
    only if none of the new form names an order. A reference mistyped, or two orders named, is no order:
    staff look at the transfer."""
    found = find_references(content)
    for group in ([entry for entry in found if not entry.legacy], [entry for entry in found if entry.legacy]):
        orders = [order for entry in group if (order := db.session.get(Order, entry.order_id))]
        if orders:
            return orders[0] if len(orders) == 1 else None
    return None


def record_bank_transfer(*, transaction_id: str, amount_vnd: int, content: str, transferred_at: datetime | None,
                         source: str, now: datetime, actor=None, order: Order | None = None,
                         actor_label: str = "webhook:bank") -> BankTransfer:
    """Take in one incoming transfer (bank notification or staff entry), exactly once per bank transaction.

    The order is found by its reference in the content (or given by staff); no reference keeps the transfer as
    unmatched for staff. Transfers add up: one that leaves an unpaid order short waits ("underpaid") for the
    rest, and the one that completes it makes one payment of all the parts (what is over is booked back). Money
    that an expired or cancelled order can no longer take is booked back at once. ``actor_label`` names the
    notification's service (staff are named by ``actor``)."""
    transaction_id = transaction_id.strip()
    if db.session.scalar(select(BankTransfer.id).where(BankTransfer.transaction_id == transaction_id)):
        raise DuplicateTransfer(transaction_id)
    if order is None:
        order = order_in_content(content)
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
    if order is None:
        audit.record("bank_transfer.unmatched", "bank_transfer", transfer.id, actor=actor,
                     actor_label=_actor_label(actor, actor_label))
        notices.staff_alert(None, "unmatched_transfer", transfer=transfer)
        return transfer
    return apply_to_order(transfer, order, now=now, actor=actor, actor_label=actor_label)


def _actor_label(actor, service: str = "webhook:bank") -> str:
    return service if actor is None else f"staff:{actor.id}"


def apply_to_order(transfer: BankTransfer, order: Order, *, now: datetime, actor=None,
                   actor_label: str = "webhook:bank") -> BankTransfer:
    """What a transfer does to its order (the caller holds the order's lock): a part that waits for the rest, the
    payment that completes it, or money booked back that the order can no longer take."""
    actor_label = _actor_label(actor, actor_label)
    amount_vnd, transferred_at = transfer.amount_vnd, transfer.transferred_at
    parts: list[BankTransfer] = []
    received = amount_vnd
    if order.status == "pending_payment":
        parts = waiting_parts(order.id, but=transfer.id)
        received += sum(part.amount_vnd for part in parts)
        if received < order.total_vnd:
            transfer.status = "underpaid"
            audit.record("bank_transfer.part", "order", order.id, actor=actor, actor_label=actor_label,
                         details={"transfer_id": transfer.id, "amount_vnd": amount_vnd, "received_vnd": received,
                                  "due_vnd": order.total_vnd})
            return transfer
    elif order.status in ("expired", "cancelled") and amount_vnd < order.total_vnd:
        transfer.status = "late"
        book_unapplied_refund(order, amount_vnd, reason="late_payment", transfers=[transfer], now=now,
                              market_delay=paid_in_time(order, transferred_at))
        return transfer
    payment = Payment(order_id=order.id, provider=BANK_TRANSFER, provider_ref=transfer.transaction_id,
                      amount_vnd=received)
    db.session.add(payment)
    db.session.flush()
    outcome = confirm_payment(payment, actor_label=actor_label, now=now, actor=actor,
                              market_delay=paid_in_time(order, transferred_at))
    for part in [*parts, transfer]:
        part.payment_id = payment.id
        part.status = "matched" if outcome.paid else "late"
    if received > order.total_vnd and outcome.paid:
        transfer.status = "overpaid"
        create_refund(payment, received - order.total_vnd, reason="overpaid")
        notices.staff_alert(order, "overpaid", transfer=transfer)
    return transfer


def waiting_parts(order_id: int, *, but: int | None = None) -> list[BankTransfer]:
    """The transfers of an unpaid order that wait for the rest of its total, oldest first."""
    return db.session.scalars(select(BankTransfer).where(BankTransfer.order_id == order_id,
                                                         BankTransfer.status == "underpaid", BankTransfer.id != but)
                              .order_by(BankTransfer.id)).all()


def paid_in_time(order: Order, transferred_at: datetime | None) -> bool:
    """The bank's own time of the transfer was inside the order's hold: a late notification is the market's
    delay, not the buyer's."""
    return transferred_at is not None and transferred_at <= order.expires_at


def book_unapplied_refund(order: Order, amount_vnd: int, *, reason: str, transfers: list[BankTransfer],
                          now: datetime, market_delay: bool = False) -> Refund:
    """Money received by transfer that no order took (parts of an order that expired or was cancelled, or a
    part that came after): one refund task for staff, the buyer told what was received and that it goes back."""
    refund = Refund(order_id=order.id, provider=BANK_TRANSFER, amount_vnd=amount_vnd, reason=reason,
                    bank_transfer_id=transfers[0].id if len(transfers) == 1 else None,
                    details_token=new_details_token())
    db.session.add(refund)
    db.session.flush()
    audit.record("refund.created", "refund", refund.id, actor_label="system", to_state="pending",
                 details={"order_id": order.id, "amount_vnd": amount_vnd, "reason": reason,
                          "transfer_ids": [transfer.id for transfer in transfers]})
    notices.received_money_refunded(order, transfers, refund, market_delay=market_delay)
    return refund


def on_order_closed(order: Order, *, now: datetime, **_) -> None:
    """``order_expired`` / ``order_cancelled`` receiver: parts already received for the order go back."""
    parts = waiting_parts(order.id)
    if not parts:
        return
    for part in parts:
        part.status = "late"
    reason = "unpaid_in_time" if order.status == "expired" else "cancelled_unpaid"
    book_unapplied_refund(order, sum(part.amount_vnd for part in parts), reason=reason, transfers=parts, now=now)


def lock_credit(transfer_id: int) -> BankTransfer | None:
    """Hold a bank credit's row until the transaction ends (before any order: shop.checkout's lock order), and
    read it as it is now. Staff's steps on an unmatched credit (assign, split, send back) take it first."""
    return db.session.scalar(select(BankTransfer).where(BankTransfer.id == transfer_id)
                             .with_for_update().execution_options(populate_existing=True))


def given_out_vnd(transfer_id: int) -> int:
    """What of a credit went to its parts (shop/payments/split.py) or was booked back to the payer."""
    parts = db.session.scalar(select(func.coalesce(func.sum(BankTransfer.amount_vnd), 0))
                              .where(BankTransfer.parent_id == transfer_id))
    back = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_vnd), 0))
                             .where(Refund.bank_transfer_id == transfer_id, Refund.reason == "unmatched"))
    return int(parts) + int(back)


def left_vnd(transfer: BankTransfer) -> int:
    """What of a credit is still unmatched (its whole amount until it is split)."""
    return transfer.amount_vnd - given_out_vnd(transfer.id)


def assign_transfer(transfer: BankTransfer, order: Order, staff, now: datetime) -> BankTransfer:
    """Staff give an unmatched credit its order (the buyer mistyped the content): the same bank credit, no second
    row and no re-typing, then what it does to the order as if it had named it. A credit already split in part
    is not given whole to one order (split what is left instead)."""
    credit = lock_credit(transfer.id)
    if credit is not None and credit.order_id is None and credit.status == "unmatched" and given_out_vnd(credit.id):
        raise PaymentError(_l("Part of this transfer went to other orders: split what is left instead."))
    checkout.lock_order(order.id)
    if not TRANSFER_MOVES.move(and_(BankTransfer.id == transfer.id, BankTransfer.order_id.is_(None)), "unmatched",
                               "unmatched", order_id=order.id):
        raise PaymentError(_l("This transfer already has its order."))
    db.session.refresh(transfer)
    audit.record("bank_transfer.assigned", "bank_transfer", transfer.id, actor=staff,
                 details={"order_id": order.id})
    return apply_to_order(transfer, db.session.get(Order, order.id), now=now, actor=staff)


def refund_unmatched(transfer: BankTransfer, staff, note: str, now: datetime) -> Refund:
    """Staff send an unmatched credit back (no order is its): a refund task of what is left of it (its whole
    amount unless part of it was split to orders)."""
    credit = lock_credit(transfer.id)
    left = left_vnd(credit) if credit is not None else 0
    if left <= 0 or not TRANSFER_MOVES.move(and_(BankTransfer.id == transfer.id, BankTransfer.order_id.is_(None)),
                                            "unmatched", "resolved", note=note.strip()):
        raise PaymentError(_l("This transfer needs no action."))
    refund = Refund(bank_transfer_id=transfer.id, provider=BANK_TRANSFER, amount_vnd=left,
                    reason="unmatched", details_token=new_details_token())
    db.session.add(refund)
    db.session.flush()
    audit.record("refund.created", "refund", refund.id, actor=staff, to_state="pending",
                 details={"transfer_id": transfer.id, "amount_vnd": left, "note": note.strip()})
    return refund


def resolve_transfer(transfer: BankTransfer, staff, note: str) -> None:
    if not TRANSFER_MOVES.move(transfer.id, ("unmatched", "underpaid", "late"), "resolved", note=note.strip()):
        raise PaymentError(_l("This transfer needs no action."))
    audit.record("bank_transfer.resolved", "bank_transfer", transfer.id, actor=staff, to_state="resolved",
                 details={"note": note.strip()})
