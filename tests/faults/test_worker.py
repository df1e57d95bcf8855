"""``flask worker`` (core/worker.py): messages leave seconds after their commit, two workers never send one twice,
failures wait their backoff, and a message given up on is reported to staff.

Real SMTP all the way (tests/faults/conftest.py ``smtp_sink``). On PostgreSQL the worker polls only every minute
in the first test, so the message can only be that quick if the commit's NOTIFY woke it.
"""
from __future__ import annotations

import email
import email.policy
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from core import outbox, worker
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.faults.conftest import closed_port, smtp_sink
from tests.faults.test_mail import notes, pay_by_bank, queue_messages, received, send_notifications


def on_postgres() -> bool:
    return db.engine.url.get_backend_name() == "postgresql"


@contextmanager
def workers(app, n=1, *, poll_seconds=0.5):
    """``n`` workers, each in its own thread with its own app context, stopped (and woken) at the end."""
    stop, errors = threading.Event(), []

    def run():
        try:
            with app.app_context():
                worker.run(poll_seconds=poll_seconds, stop=stop)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(n)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # listening before the test commits anything
    try:
        yield
    finally:
        stop.set()
        if on_postgres():
            db.session.execute(text(f"SELECT pg_notify('{outbox.WAKE_CHANNEL}', '')"))
            db.session.commit()
        for thread in threads:
            thread.join(poll_seconds + 10)
        assert not errors, errors
        assert not any(thread.is_alive() for thread in threads), "a worker did not stop"


def wait_for(condition, seconds: float) -> float:
    """Seconds until ``condition()`` held; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


def subjects(sink) -> list[str]:
    return [email.message_from_string(message, policy=email.policy.default)["Subject"]
            for _to, message in sink.messages]


@pytest.fixture
def mail(app):
    """Mail goes to a local SMTP server; pages leave sending to the worker (OUTBOX_WORKER)."""
    with smtp_sink() as sink:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.server_address[1], MAIL_USE_TLS=False,
                          MAIL_USERNAME="", OUTBOX_WORKER=True)
        yield sink


def test_a_paid_orders_message_leaves_within_five_seconds_of_the_commit(app, client, market, mail):
    with workers(app, poll_seconds=60 if on_postgres() else 1):
        order, response = pay_by_bank(app, client, market)
        committed = time.monotonic()
        assert response.json == {"status": "matched", "order": order.reference}
        paid = db.session.scalar(select(Notification).where(Notification.kind == "order_paid"))
        assert paid is not None
        wait_for(lambda: paid.subject in subjects(mail), 5)
        assert time.monotonic() - committed < 5
        wait_for(lambda: len(mail.messages) == len(notes()), 5)
    assert all(note.status == "sent" and note.attempts == 1 for note in notes())
    sent = [(tuple(to), subject) for (to, _message), subject in zip(mail.messages, subjects(mail), strict=True)]
    assert len(sent) == len(set(sent)) == len(notes()), "each message once"


def test_the_page_leaves_the_sending_to_the_worker(app, client, market, mail):
    """With OUTBOX_WORKER the bank notification's answer does not wait on SMTP: nothing is tried in the request."""
    pay_by_bank(app, client, market)
    assert mail.messages == []
    assert all(note.attempts == 0 for note in notes())


def test_two_workers_send_each_message_once(app, mail):
    mail.delay = 0.02
    with workers(app, 2):
        ids = queue_messages(30)
        wait_for(lambda: len(mail.messages) >= len(ids), 30)
        time.sleep(0.3)  # a second copy would come now
    assert received(mail) == {f"Chợ Dứa Kép – đơn {i}": 1 for i in range(len(ids))}
    assert [(note.status, note.attempts) for note in notes()] == [("sent", 1)] * len(ids)


def test_the_backoff_doubles_from_thirty_seconds_up_to_two_hours():
    assert [outbox.retry_after(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.retry_after(20) == timedelta(hours=2)


def test_a_failed_message_waits_its_backoff_then_the_worker_sends_it(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_USE_TLS=False, MAIL_USERNAME="")
    [note_id] = queue_messages(1)
    before = utcnow()
    assert outbox.send_pending(due_only=True)["failed"] == 1
    [note] = notes()
    assert note.status == "pending" and note.attempts == 1
    assert before + timedelta(seconds=29) < note.next_attempt_at <= utcnow() + timedelta(seconds=30)
    assert outbox.send_pending(due_only=True) == {"sent": 0, "failed": 0, "skipped": 0}, "not due yet"
    assert outbox.next_due(utcnow()) == note.next_attempt_at
    with smtp_sink() as sink:
        app.config["MAIL_PORT"] = sink.server_address[1]
        db.session.execute(update(Notification).where(Notification.id == note_id)
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        with workers(app):
            wait_for(lambda: len(sink.messages) == 1, 5)
    [note] = notes()
    assert (note.status, note.attempts, note.next_attempt_at) == ("sent", 2, None)


def test_a_run_by_hand_tries_every_pending_message_now(app):
    """``flask send-notifications`` is for one-off runs: it does not wait for the backoff."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_USE_TLS=False, MAIL_USERNAME="")
    queue_messages(1)
    outbox.send_pending(due_only=True)
    with smtp_sink() as sink:
        app.config["MAIL_PORT"] = sink.server_address[1]
        assert send_notifications(app) == "sent 1, failed 0, skipped 0, still waiting 0"


def test_a_message_given_up_on_is_reported_to_staff_once(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_USE_TLS=False, MAIL_USERNAME="",
                      STAFF_EMAIL="htx@duakep.vn")
    [note_id] = queue_messages(1)
    db.session.execute(update(Notification).where(Notification.id == note_id)
                       .values(attempts=outbox.MAX_ATTEMPTS - 1))
    db.session.commit()
    outbox.send_pending()
    given_up, alert = notes()
    assert (given_up.status, given_up.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert (alert.kind, alert.to_address, alert.status) == ("staff_undeliverable", "htx@duakep.vn", "pending")
    assert "buyer0@example.vn" in alert.body and "ConnectionRefusedError" in alert.body
    assert "http://localhost/admin/outbox?status=failed" in alert.body
    # The alert itself cannot be delivered either: it fails for good without another alert.
    db.session.execute(update(Notification).where(Notification.id == alert.id)
                       .values(attempts=outbox.MAX_ATTEMPTS - 1))
    db.session.commit()
    outbox.send_pending()
    assert [(note.kind, note.status) for note in notes()] == [("order_placed", "failed"),
                                                              ("staff_undeliverable", "failed")]
