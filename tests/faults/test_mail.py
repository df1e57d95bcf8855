"""Mail delivery failing: messages stay in the outbox, ``flask send-notifications`` retries them, and once
the SMTP server works again each one is delivered exactly once (also with two senders at the same time).

Real SMTP all the way: smtplib talks to a closed port, then to a small SMTP server in the test
(tests/faults/conftest.py ``smtp_sink``), which can also refuse a message with a temporary 451.
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from core import outbox
from core.extensions import db
from core.outbox import Notification
from tests.faults.conftest import closed_port, silent_server, smtp_sink
from tests.faults.test_database import fill_cart
from tests.shop.test_checkout_views import open_checkout, placed_order, submit


@pytest.fixture
def mail_down(app):
    """MAIL_SERVER is set, but nothing listens on its port."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_USE_TLS=False, MAIL_USERNAME="")
    return app


def queue_messages(n: int) -> list[int]:
    notes = [outbox.queue("order_placed", f"buyer{i}@example.vn", f"Chợ Dứa Kép – đơn {i}",
                          f"Cảm ơn bạn đã đặt hàng {i}.") for i in range(n)]
    db.session.commit()
    return [note.id for note in notes]


def send_notifications(app) -> str:
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def notes() -> list[Notification]:
    db.session.commit()  # a fresh transaction: what the senders wrote, not an older snapshot
    return db.session.scalars(select(Notification).order_by(Notification.id)).all()


def received(sink) -> Counter:
    """How many times each message (by its Subject) reached the SMTP server."""
    return Counter(email.message_from_string(message, policy=email.policy.default)["Subject"]
                   for _to, message in sink.messages)


def test_while_mail_is_down_messages_wait_then_each_is_sent_once(app, mail_down):
    queue_messages(3)
    # The server cannot be reached: the first message fails, and the run stops rather than wait on each.
    assert send_notifications(app) == "sent 0, failed 1, skipped 0, still waiting 3"
    assert send_notifications(app) == "sent 0, failed 1, skipped 0, still waiting 3"
    first, *rest = notes()
    assert (first.status, first.attempts, first.sent_at) == ("pending", 2, None)
    assert first.last_error.startswith("ConnectionRefusedError")
    assert all((note.status, note.attempts) == ("pending", 0) for note in rest)
    with smtp_sink() as sink:
        app.config["MAIL_PORT"] = sink.server_address[1]
        assert send_notifications(app) == "sent 3, failed 0, skipped 0, still waiting 0"
        assert send_notifications(app) == "sent 0, failed 0, skipped 0, still waiting 0"
    assert received(sink) == {f"Chợ Dứa Kép – đơn {i}": 1 for i in range(3)}
    assert sorted(to for to, _message in sink.messages) == [[f"buyer{i}@example.vn"] for i in range(3)]
    assert all(note.status == "sent" and note.sent_at is not None for note in notes())


def test_a_temporary_refusal_keeps_that_message_for_the_next_run(app, mail_down):
    queue_messages(3)
    with smtp_sink() as sink:
        app.config["MAIL_PORT"] = sink.server_address[1]
        sink.refuse_next = 1
        assert send_notifications(app) == "sent 2, failed 1, skipped 0, still waiting 1"
        refused = [note for note in notes() if note.status == "pending"]
        assert len(refused) == 1 and "451" in refused[0].last_error
        assert send_notifications(app) == "sent 1, failed 0, skipped 0, still waiting 0"
    assert received(sink) == {f"Chợ Dứa Kép – đơn {i}": 1 for i in range(3)}


def test_after_ten_failed_attempts_a_message_is_marked_failed_for_staff(app, mail_down, client, make_user):
    queue_messages(1)
    for _ in range(outbox.MAX_ATTEMPTS):
        send_notifications(app)
    note, alert = notes()
    assert (note.status, note.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert (alert.kind, alert.status) == ("staff_undeliverable", "pending"), "staff are told"
    assert send_notifications(app) == "sent 0, failed 1, skipped 0, still waiting 1", "only the alert is tried"
    from tests.helpers import login_as

    login_as(client, make_user(role="admin"))
    page = client.get("/admin/outbox?lang=en").get_data(as_text=True)
    assert "failed" in page and "10 attempts" in page


def pay_by_bank(app, client, market):
    """A placed order, and the bank's signed notification that it was paid; returns (order, response)."""
    app.config["BANK_WEBHOOK_SECRET"] = "bank-secret-for-the-fault-tests"
    fill_cart(client, market)
    submit(client, open_checkout(client))
    order = placed_order()
    raw = json.dumps({"transaction_id": "FT26152000002", "amount": order.total_vnd,
                      "content": order.reference}).encode()
    signature = hmac.new(b"bank-secret-for-the-fault-tests", raw, hashlib.sha256).hexdigest()
    return order, client.post("/payments/bank/notify", data=raw,
                              headers={"X-Signature": signature, "Content-Type": "application/json"})


def test_a_payment_goes_through_while_mail_is_down_and_its_messages_follow(app, client, market, mail_down):
    """The bank notification is taken (200, order paid) even though mail cannot be sent after the commit."""
    order, response = pay_by_bank(app, client, market)
    assert response.json == {"status": "matched", "order": order.reference}
    db.session.expire_all()
    assert order.status == "paid"
    waiting = notes()
    assert {note.kind for note in waiting} >= {"order_placed", "order_paid"}
    assert all(note.status == "pending" for note in waiting)
    assert any(note.attempts and note.last_error for note in waiting), "delivery after the commit was not tried"
    with smtp_sink() as sink:
        app.config["MAIL_PORT"] = sink.server_address[1]
        send_notifications(app)
    assert len(sink.messages) == len(waiting) and all(note.status == "sent" for note in notes())


def test_two_senders_at_once_send_each_message_once(app, mail_down):
    """Two cron runs overlap while the SMTP server is slow: nothing is sent twice, nothing is left."""
    ids = queue_messages(12)
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                results.append(outbox.send_pending(limit=100))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with smtp_sink() as sink:
        app.config["MAIL_PORT"] = sink.server_address[1]
        sink.delay = 0.05
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    assert received(sink) == {f"Chợ Dứa Kép – đơn {i}": 1 for i in range(len(ids))}
    assert sum(result["sent"] for result in results) == len(ids)
    assert [(note.status, note.attempts) for note in notes()] == [("sent", 1)] * len(ids)


def test_a_mail_server_that_never_answers_does_not_hold_up_a_payment(app, client, market):
    """It accepts the connection and says nothing: one timeout (MAIL_TIMEOUT_SECONDS), not one per message."""
    with silent_server(delay=30) as (server, _url):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1], MAIL_USE_TLS=False,
                          MAIL_TIMEOUT_SECONDS=1)
        started = time.monotonic()
        order, response = pay_by_bank(app, client, market)
        elapsed = time.monotonic() - started
    assert response.json == {"status": "matched", "order": order.reference}
    assert elapsed < 4, f"the bank waited {elapsed:.1f} s for our mail server"
    waiting = notes()
    assert len(waiting) >= 2 and all(note.status == "pending" for note in waiting)
    assert [note.attempts for note in waiting] == [1] + [0] * (len(waiting) - 1)
    assert "timed out" in waiting[0].last_error
