"""The outbox: messages written in the same transaction as what they announce,
sent after the commit (SMTP when configured), retried until sent."""
from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import BigIntPK, db
from core.time import utcnow

MAX_ATTEMPTS = 10


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
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def send_pending(limit: int = 100, sender=None) -> dict[str, int]:
    """Send what waits in the outbox. Without MAIL_SERVER nothing is sent: staff read the outbox page.

    Each message is claimed with a conditional UPDATE (attempts = attempts + 1 where it is still
    pending with the attempts we read), so two senders running at once never send one twice.
    """
    config = current_app.config
    if not config.get("MAIL_SERVER") and sender is None:
        return {"sent": 0, "failed": 0, "skipped": 0}
    sender = sender or (lambda note: _smtp_send(config, note))
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    ids = db.session.scalars(select(Notification.id).where(Notification.status == "pending")
                             .order_by(Notification.id).limit(limit)).all()
    for note_id in ids:
        note = db.session.get(Notification, note_id)
        claimed = db.session.execute(
            update(Notification).where(Notification.id == note_id, Notification.status == "pending",
                                       Notification.attempts == note.attempts)
            .values(attempts=Notification.attempts + 1).execution_options(synchronize_session=False))
        db.session.commit()
        if claimed.rowcount != 1:
            counts["skipped"] += 1
            continue
        db.session.refresh(note)
        try:
            sender(note)
        except Exception as error:  # noqa: BLE001 - any delivery failure is recorded and retried
            note.last_error = f"{type(error).__name__}: {error}"[:1000]
            if note.attempts >= MAX_ATTEMPTS:
                note.status = "failed"
            counts["failed"] += 1
        else:
            note.status = "sent"
            note.sent_at = utcnow()
            counts["sent"] += 1
        db.session.commit()
    return counts
