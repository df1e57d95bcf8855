"""The outbox: messages written in the same transaction as what they announce,
sent after the commit (SMTP when configured), retried until sent."""
from __future__ import annotations

import smtplib
import socket
import time
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Integer, String, Text, and_, or_, select,
                        update)
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import BigIntPK, db
from core.time import utcnow

MAX_ATTEMPTS = 10
LEASE = timedelta(minutes=10)  # a message taken by a sender that died is tried again after this
# The mail server cannot be reached (refused, timed out, hung up): no point trying the next message now.
UNREACHABLE = (ConnectionError, TimeoutError, socket.gaierror, smtplib.SMTPConnectError,
               smtplib.SMTPServerDisconnected)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10), default="email")
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # When it was sent; while it is still pending, when a sender took it (a lease, see send_pending).
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


def queue(kind: str, to_address: str, subject: str, body: str, order_id: int | None = None) -> Notification:
    """Add a message to the current transaction; it is sent only if the transaction commits."""
    note = Notification(kind=kind, to_address=to_address, subject=subject, body=body, order_id=order_id)
    db.session.add(note)
    return note


def _smtp_send(config, note: Notification) -> None:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = note.to_address
    message["Subject"] = note.subject
    message.set_content(note.body)
    timeout = config.get("MAIL_TIMEOUT_SECONDS", 10)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def send_pending(limit: int = 100, sender=None, *, time_budget_seconds: float | None = None) -> dict[str, int]:
    """Send what waits in the outbox. Without MAIL_SERVER nothing is sent: staff read the outbox page.

    Each message is taken with a conditional UPDATE (attempts + 1, and ``sent_at`` set as a lease while
    it is still pending) and committed before it is sent, so a second sender running at the same time
    skips it; a sender that dies holding one only delays it by LEASE. No transaction stays open while
    the mail server is talked to. When the server cannot be reached at all, the run stops there: the
    rest waits for the next run rather than for one timeout each. With ``time_budget_seconds`` (the end
    of a request) no new message is started once that much time has passed.
    """
    config = current_app.config
    if not config.get("MAIL_SERVER") and sender is None:
        return {"sent": 0, "failed": 0, "skipped": 0}
    sender = sender or (lambda note: _smtp_send(config, note))
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    ids = db.session.scalars(select(Notification.id).where(_sendable(utcnow()))
                             .order_by(Notification.id).limit(limit)).all()
    db.session.commit()
    started = time.monotonic()
    for note_id in ids:
        if time_budget_seconds is not None and time.monotonic() - started >= time_budget_seconds:
            break
        note = _take(note_id)
        if note is None:
            counts["skipped"] += 1
            continue
        try:
            sender(note)
        except Exception as error:  # noqa: BLE001 - any delivery failure is recorded and retried
            _record(note, error=f"{type(error).__name__}: {error}"[:1000])
            counts["failed"] += 1
            if isinstance(error, UNREACHABLE):
                break
        else:
            _record(note)
            counts["sent"] += 1
    return counts


def _sendable(now: datetime):
    """Pending, and not being sent by another sender right now (``sent_at`` is its lease then)."""
    return and_(Notification.status == "pending",
                or_(Notification.sent_at.is_(None), Notification.sent_at < now - LEASE))


def _take(note_id: int) -> Notification | None:
    """Claim one message for this sender; a detached copy of it, or None when another sender has it."""
    now = utcnow()
    claimed = db.session.execute(
        update(Notification).where(Notification.id == note_id, _sendable(now))
        .values(attempts=Notification.attempts + 1, sent_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    note = db.session.get(Notification, note_id, populate_existing=True)
    db.session.expunge(note)
    db.session.commit()
    return note


def _record(note: Notification, error: str | None = None) -> None:
    """What came of sending ``note``, if it is still this sender's (the same attempt)."""
    mine = and_(Notification.id == note.id, Notification.status == "pending",
                Notification.attempts == note.attempts)
    if error is None:
        values = {"status": "sent", "sent_at": utcnow()}
    else:
        values = {"last_error": error, "sent_at": None,
                  "status": "failed" if note.attempts >= MAX_ATTEMPTS else "pending"}
    db.session.execute(update(Notification).where(mine).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()
