"""The outbox: messages written in the same transaction as what they announce,
sent after the commit through their channel (core/channels/: SMTP when configured), retried until sent.

core/messages.py ``notify`` renders and queues them; ``queue`` here writes one row as given.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from blinker import Namespace
from flask import current_app
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, and_, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core import channels
from core.extensions import BigIntPK, db
from core.time import utcnow

MAX_ATTEMPTS = 10
LEASE = timedelta(minutes=10)  # a message taken by a sender that died is tried again after this
FIRST_RETRY = timedelta(seconds=30)  # after the n-th failure, wait FIRST_RETRY * 2**(n-1), at most LONGEST_WAIT
LONGEST_WAIT = timedelta(hours=2)
# PostgreSQL: a trigger on notifications (migration 9b4e7d2a6c15) runs pg_notify on this channel at every insert,
# delivered at the commit, which wakes `flask worker` (core/worker.py) at once.
WAKE_CHANNEL = "kep_outbox"


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
    # After a failure, not before this (the backoff of ``retry_after``); None: at once.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    # What goes by SMS instead when this (Zalo) message cannot reach its recipient at all (core/messages.py).
    fallback_body: Mapped[str | None] = mapped_column(Text)
    # The provider's id of the message (Zalo's msg_id, eSMS's SMSID), and when the provider said it was delivered.
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


def queue(kind: str, to_address: str, subject: str, body: str, order_id: int | None = None, *,
          channel: str = "email") -> Notification:
    """Add a message to the current transaction; it is sent only if the transaction commits."""
    note = Notification(kind=kind, channel=channel, to_address=to_address, subject=subject, body=body,
                        order_id=order_id)
    db.session.add(note)
    return note


def retry_after(attempts: int) -> timedelta:
    """How long a message that has failed ``attempts`` times waits before the next try."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def send_pending(limit: int = 100, sender=None, *, time_budget_seconds: float | None = None,
                 due_only: bool = False) -> dict[str, int]:
    """Send what waits in the outbox, each message through its channel (core/channels/). A channel that
    is not ready (e-mail without MAIL_SERVER) sends nothing: its messages wait, and staff read them on
    the outbox page. ``sender`` (one callable taking the row) stands in for every channel.

    Each message is taken with a conditional UPDATE (attempts + 1, and ``sent_at`` set as a lease while
    it is still pending) and committed before it is sent, so a second sender running at the same time
    skips it; a sender that dies holding one only delays it by LEASE. No transaction stays open while
    the outside service is talked to. When a channel's service cannot be reached at all, the run stops
    trying that channel: its rest waits for the next run rather than for one timeout each. With
    ``time_budget_seconds`` (the end of a request) no new message is started once that much time has passed.
    With ``due_only`` (the worker), a message that failed waits for its ``next_attempt_at``; without it (a run by
    hand, ``flask send-notifications``) every pending message is tried now.
    """
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    query = select(Notification.id, Notification.channel).where(_sendable(utcnow()))
    if due_only:
        query = query.where(_due(utcnow()))
    if sender is None:
        ready = [channel.NAME for channel in channels.enabled() if channel.ready(current_app.config)]
        if not ready:
            return counts
        query = query.where(Notification.channel.in_(ready))
    rows = db.session.execute(query.order_by(Notification.id).limit(limit)).all()
    db.session.commit()
    waiting = {channel_name for _id, channel_name in rows}
    down: set[str] = set()
    started = time.monotonic()
    for note_id, channel_name in rows:
        if time_budget_seconds is not None and time.monotonic() - started >= time_budget_seconds:
            break
        if channel_name in down:
            continue
        note = _take(note_id)
        if note is None:
            counts["skipped"] += 1
            continue
        try:
            (sender or channels.get(note.channel).send)(note)
        except channels.Fallback as error:
            _fall_back(note, str(error))
            counts["failed"] += 1
        except Exception as error:  # noqa: BLE001 - any delivery failure is recorded and retried
            _record(note, error=f"{type(error).__name__}: {error}"[:1000])
            counts["failed"] += 1
            if isinstance(error, _unreachable(note.channel)):
                down.add(channel_name)
                if down == waiting:
                    break
        else:
            _record(note)
            counts["sent"] += 1
    return counts


def _unreachable(channel_name: str) -> tuple[type[BaseException], ...]:
    """The errors that mean the channel's service cannot be reached at all (none for an unknown channel)."""
    try:
        return channels.get(channel_name).UNREACHABLE
    except LookupError:
        return ()


def _sendable(now: datetime):
    """Pending, and not being sent by another sender right now (``sent_at`` is its lease then)."""
    return and_(Notification.status == "pending",
                or_(Notification.sent_at.is_(None), Notification.sent_at < now - LEASE))


def _due(now: datetime):
    return or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)


def next_due(now: datetime) -> datetime | None:
    """When the earliest message waiting for its retry becomes due (None: none waits)."""
    return db.session.scalar(select(func.min(Notification.next_attempt_at))
                             .where(Notification.status == "pending", Notification.next_attempt_at > now))


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
    last = error is not None and note.attempts >= MAX_ATTEMPTS
    if error is None:
        values = {"status": "sent", "sent_at": utcnow(), "next_attempt_at": None,
                  "provider_message_id": getattr(note, "provider_message_id", None)}
    else:
        values = {"last_error": error, "sent_at": None, "status": "failed" if last else "pending",
                  "next_attempt_at": None if last else utcnow() + retry_after(note.attempts)}
    recorded = db.session.execute(update(Notification).where(mine).values(**values)
                                  .execution_options(synchronize_session=False))
    if last and recorded.rowcount == 1:
        given_up.send(note, error=error)
    db.session.commit()


def _fall_back(note: Notification, reason: str) -> None:
    """``note`` cannot reach its recipient by its channel at all: it fails now, without retries, and its
    fallback text goes by SMS (a new row); without one, it is given up on."""
    mine = and_(Notification.id == note.id, Notification.status == "pending",
                Notification.attempts == note.attempts)
    recorded = db.session.execute(update(Notification).where(mine).values(
        status="failed", sent_at=None, next_attempt_at=None, last_error=f"{note.channel}: {reason}"[:1000])
        .execution_options(synchronize_session=False))
    if recorded.rowcount == 1:
        if note.fallback_body:
            queue(note.kind, note.to_address, "", note.fallback_body, note.order_id, channel="sms")
        else:
            given_up.send(note, error=reason)
    db.session.commit()


# Sent with the message (detached) and its last error when it is given up on; core/messages.py tells staff.
given_up = Namespace().signal("outbox-message-given-up")
