"""Bank notifications, raw first: what a bank-notification service reports is stored as it came, committed, and
only then acted on, so a failure while acting on it (a deadlock, a database hiccup, a bug) loses nothing.

1. ``take_in`` (the endpoints in shop/payments/banks/, after they authenticated the sender): the notification is
   stored in a short transaction of its own and committed (``store``: the one write of a webhook that commits by
   itself, before any order is locked). UNIQUE(source, source id) keeps a retried notification once; the service's
   id is its ``source_id``, or a digest of the body when the body cannot be read (then it is stored ``failed``).
2. ``process``: the stored row is locked (FOR UPDATE: before the order, which comes first in the app's lock order
   of shop.checkout; nothing else locks notifications) and, while it is still ``received``, read by its source's
   ``read`` into a ``Reading`` and acted on by the rules below. Processing a row twice changes nothing: the second
   time it is no longer ``received``.
3. When the processing fails in the request, its error is the request's: a lock conflict re-runs the endpoint
   (it is ``@idempotent``: the re-run finds the stored row and processes it), the database going away answers
   503 and anything else 500, so the service sends the notification again. The stored row is left ``received``
   meanwhile and ``flask process-bank-notifications`` (``process_waiting``, a job: it commits per row) processes
   it; whichever comes first takes it in, once. After ``MAX_ATTEMPTS`` failed runs of the job the row is marked
   ``failed`` for staff.

Rules (``_apply``): only money in counts (money out is ``ignored``, kept); the receiving account the notification
names must be the cooperative's (``transfers.receiving_account()``, digits compared), else ``flagged`` and staff
told, never applied; a notification that cannot be taken in as a transfer (an amount that is not whole dong, an
unclear direction) is ``unmatched`` for staff; the others go to ``record_bank_transfer`` under the transaction id
``<source>:<id>`` (the generic webhook keeps its bare id), with the order the service names (payOS's orderCode) or
else the order the content names, and are ``processed`` when the transfer found its order, ``unmatched`` when it did
not. A reading its source marks ``ignore`` (payOS's webhook test) is ``ignored``, kept."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.extensions import db
from core.transactions import run
from shop import notices
from shop.order_models import Order
from shop.payment_models import BankNotification, BankTransfer
from shop.payments.outcome import DuplicateTransfer
from shop.payments.transfers import receiving_account, record_bank_transfer

MAX_ATTEMPTS = 5  # failed processing runs before a notification is given up as failed
MAX_STORED_CHARS = 64 * 1024  # a notification is a few hundred bytes; a larger body is kept cut
MAX_NOTE_CHARS = 1000


class Unreadable(ValueError):
    """The body, from an authenticated sender, cannot be read as a notification of its service."""


@dataclass(frozen=True)
class Reading:
    """What one notification says, in the market's terms."""
    transaction_id: str  # for record_bank_transfer: "<source>:<the service's id>"
    direction: str | None  # "in", "out", or None when the notification does not say clearly
    amount_vnd: int | None  # whole dong, not negative; None when the amount cannot be read as such
    content: str  # the transfer content, where the buyer put the order's reference
    transferred_at: datetime | None  # the bank's time of the transfer, naive UTC
    accounts: tuple[str, ...] | None  # the receiving account (and virtual account) it names; None: none by design
    notes: tuple[str, ...] = ()  # what was odd in it, kept on the row for staff
    order_id: int | None = None  # the order it pays, when the service names it (payOS's orderCode); else the content
    ignore: str | None = None  # why it moves no money though it reads well (payOS's webhook test), kept ``ignored``


@dataclass(frozen=True)
class Source:
    """A bank-notification service (one module in shop/payments/banks/)."""
    code: str  # bank_notifications.source
    transfer_source: str  # bank_transfers.source of what it makes
    actor_label: str  # who confirmed the payments it makes (payments.confirmed_by)
    identify: Callable[[bytes], str]  # the service's id of the transaction in a body; raises Unreadable
    read: Callable[[bytes], Reading]  # raises Unreadable


SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    SOURCES[source.code] = source


@dataclass(frozen=True)
class Taken:
    """What ``take_in`` came to: the stored row, whether this delivery was new work (not a retry of one done
    before), and whether the bank transaction had been recorded already (by staff, or before notifications were
    stored)."""
    notification: BankNotification
    first: bool
    duplicate_transfer: bool = False


# -- storing ---------------------------------------------------------------------------------------------------

def body_text(raw: bytes) -> str:
    """The body as storable text: UTF-8 as it is, other bytes and NUL (PostgreSQL refuses it) as \\xNN."""
    text = raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    if len(text) > MAX_STORED_CHARS:
        return text[:MAX_STORED_CHARS] + f"\n[cut: {len(raw)} bytes in all]"
    return text


def body_digest(raw: bytes) -> str:
    """The id of a body that names none: the same bytes sent again are the same notification."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def store(source: str, source_id: str, raw: bytes, headers: dict, now: datetime,
          failed: str | None = None) -> tuple[int, bool]:
    """Store and commit one notification, in a transaction of its own; returns its id and whether it is new (a
    retry finds the row stored before). ``failed``: the body could not be read; it is stored so, and staff are
    told in the same commit."""
    row = BankNotification(source=source, source_id=source_id, raw_body=body_text(raw),
                           headers=json.dumps(headers, ensure_ascii=False, sort_keys=True), received_at=now,
                           status="failed" if failed else "received", attempts=0,
                           error=failed[:MAX_NOTE_CHARS] if failed else None, processed_at=now if failed else None)
    db.session.add(row)
    try:
        db.session.flush()
        if failed:
            _tell_staff(row, "notification_failed")
        db.session.commit()
    except IntegrityError:  # stored before (a retry), or by a concurrent copy of this delivery
        db.session.rollback()
        existing = db.session.scalar(select(BankNotification.id).where(BankNotification.source == source,
                                                                       BankNotification.source_id == source_id))
        if existing is None:
            raise
        return existing, False
    return row.id, True


def take_in(code: str, raw: bytes, headers: dict, now: datetime) -> Taken:
    """An authenticated notification: stored and committed, then processed in the request (flushed; the request
    commits). An error while processing is the request's (see the module's notes): the stored row waits."""
    source = SOURCES[code]
    try:
        source_id, failed = source.identify(raw), None
    except Unreadable as error:
        source_id, failed = body_digest(raw), str(error)
    row_id, created = store(code, source_id, raw, headers, now, failed=failed)
    done = process(row_id, now)
    row = db.session.get(BankNotification, row_id)
    return Taken(row, first=created or done is not None, duplicate_transfer=done == "duplicate")


# -- processing ------------------------------------------------------------------------------------------------

def process(row_id: int, now: datetime) -> str | None:
    """Act on a stored notification once (a service: it flushes). Returns None when there was nothing to do (it
    was processed before), "duplicate" when its bank transaction had been recorded already, else "done"."""
    row = db.session.scalar(select(BankNotification).where(BankNotification.id == row_id).with_for_update())
    if row is None or row.status != "received":
        return None
    source = SOURCES[row.source]
    try:
        reading = source.read(row.raw_body.encode("utf-8"))
    except Unreadable as error:
        _finish(row, "failed", now, [str(error)], alert="notification_failed")
        return "done"
    return _apply(row, source, reading, now)


def _apply(row: BankNotification, source: Source, reading: Reading, now: datetime) -> str:
    notes = list(reading.notes)
    if reading.ignore:
        _finish(row, "ignored", now, notes + [reading.ignore])
        return "done"
    if reading.direction == "out":
        _finish(row, "ignored", now, notes + ["money out of the account: nothing to take in"])
        return "done"
    if reading.accounts is not None and not _ours(reading.accounts):
        names = ", ".join(reading.accounts) or "none"
        _finish(row, "flagged", now, notes + [f"receiving account {names} is not the cooperative's"],
                alert="notification_flagged")
        return "done"
    if reading.direction is None or reading.amount_vnd is None:
        _finish(row, "unmatched", now, notes or ["not readable as money in"], alert="notification_unmatched")
        return "done"
    if reading.amount_vnd == 0:
        _finish(row, "ignored", now, notes + ["amount 0: nothing moved"])
        return "done"
    outcome = "done"
    try:
        transfer = record_bank_transfer(transaction_id=reading.transaction_id, amount_vnd=reading.amount_vnd,
                                        content=reading.content, transferred_at=reading.transferred_at,
                                        source=source.transfer_source, now=now, actor_label=source.actor_label,
                                        order=db.session.get(Order, reading.order_id) if reading.order_id else None)
    except DuplicateTransfer:
        transfer = db.session.scalar(select(BankTransfer).where(
            BankTransfer.transaction_id == reading.transaction_id.strip()))
        notes.append("this bank transaction was recorded before")
        outcome = "duplicate"
    row.bank_transfer_id = transfer.id if transfer is not None else None
    matched = transfer is not None and transfer.status != "unmatched"
    _finish(row, "processed" if matched else "unmatched", now, notes)
    return outcome


def _ours(accounts: tuple[str, ...]) -> bool:
    ours = digits(receiving_account().account_number)
    return bool(ours) and any(digits(account) == ours for account in accounts)


def digits(value) -> str:
    """The ASCII digits of an account number, whatever the spaces, dots or dashes around them."""
    return "".join(ch for ch in str(value or "") if "0" <= ch <= "9")


def _finish(row: BankNotification, status: str, now: datetime, notes: list[str], alert: str | None = None) -> None:
    row.status = status
    row.processed_at = now
    row.error = "; ".join(notes)[:MAX_NOTE_CHARS] or None
    db.session.flush()
    if alert:
        _tell_staff(row, alert)


def _tell_staff(row: BankNotification, reason: str) -> None:
    audit.record(f"bank_notification.{row.status}", "bank_notification", row.id, actor_label=f"webhook:{row.source}",
                 details={"source_id": row.source_id, "note": row.error})
    notices.staff_alert(None, reason, notification=row)


# -- the job ---------------------------------------------------------------------------------------------------

def process_waiting(now: datetime, *, limit: int = 500) -> Counter:
    """Process the notifications left ``received`` (a job: one short transaction per notification, a lock
    conflict retried). A run that fails is counted on the row; at ``MAX_ATTEMPTS`` the row becomes ``failed`` and
    staff are told. Safe next to the webhooks and to another run: each row is locked, and taken only while it is
    still ``received``. Returns the statuses the rows came to."""
    waiting = db.session.scalars(select(BankNotification.id).where(BankNotification.status == "received")
                                 .order_by(BankNotification.id).limit(limit)).all()
    db.session.commit()
    counts: Counter = Counter()
    for row_id in waiting:
        try:
            run(lambda row_id=row_id: _process_and_commit(row_id, now), what=f"processing bank notification {row_id}")
        except Exception as error:  # noqa: BLE001 - one notification must not stop the others
            db.session.rollback()
            current_app.logger.warning("Processing bank notification %s failed", row_id, exc_info=True)
            _count_failure(row_id, error, now)
        counts[db.session.scalar(select(BankNotification.status).where(BankNotification.id == row_id))] += 1
        db.session.commit()
    return counts


def still_waiting() -> int:
    return db.session.scalar(select(func.count()).select_from(BankNotification)
                             .where(BankNotification.status == "received"))


def _process_and_commit(row_id: int, now: datetime) -> None:
    process(row_id, now)
    db.session.commit()


def _count_failure(row_id: int, error: Exception, now: datetime) -> None:
    row = db.session.scalar(select(BankNotification).where(BankNotification.id == row_id).with_for_update())
    if row is not None and row.status == "received":
        row.attempts += 1
        note = f"processing failed ({row.attempts} of {MAX_ATTEMPTS}): {error.__class__.__name__}: {error}"
        if row.attempts >= MAX_ATTEMPTS:
            _finish(row, "failed", now, [note], alert="notification_failed")
        else:
            row.error = note[:MAX_NOTE_CHARS]
    db.session.commit()
