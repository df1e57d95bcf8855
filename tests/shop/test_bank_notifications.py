"""Bank notifications stored raw first (shop/payments/notifications.py), through the generic signed webhook
``POST /payments/bank/notify`` (its answers are pinned by tests/shop/test_webhooks.py), and the job
``flask process-bank-notifications`` that processes again what could not be processed at once."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from core.extensions import db
from core.time import utcnow
from shop import payments
from shop.payment_models import BankNotification, BankTransfer, Payment
from shop.payments import notifications
from tests.helpers import count
from tests.shop.bank_notices import (  # noqa: F401
    ACCOUNT_CONFIG,
    fail_once,
    order,
    run_job,
    snapshot,
    staff_told,
    stored,
)

BANK_SECRET = "bank-secret-for-tests"


@pytest.fixture
def app_config():
    return {"BANK_WEBHOOK_SECRET": BANK_SECRET, **ACCOUNT_CONFIG}


def notify(client, body=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    signature = hmac.new(BANK_SECRET.encode(), data, hashlib.sha256).hexdigest()
    return client.post("/payments/bank/notify", data=data, headers={"X-Signature": signature},
                       content_type="application/json")


def transfer(order, txn="FT26001", **changes):  # noqa: F811
    return {"transaction_id": txn, "amount": order.total_vnd, "content": f"MBVCB.889.{order.reference}.mua dua",
            **changes}


def test_the_notification_is_stored_as_it_came_and_linked_to_its_transfer(client, order):  # noqa: F811
    body = transfer(order, time="2026-11-22T10:02:37+07:00")
    assert notify(client, body).json == {"status": "matched", "order": order.reference}
    [row] = stored()
    recorded = db.session.scalar(select(BankTransfer))
    assert (row.source, row.source_id, row.status, row.bank_transfer_id) == ("generic", "FT26001", "processed",
                                                                             recorded.id)
    assert row.raw_body == json.dumps(body) and json.loads(row.headers)["X-Signature"]
    assert recorded.transaction_id == "FT26001", "the generic webhook keeps the bank's id as it is"


def test_an_unmatched_transfer_leaves_the_notification_unmatched(client, order):  # noqa: F811
    assert notify(client, transfer(order, content="chuyen tien")).json["status"] == "unmatched"
    assert stored()[0].status == "unmatched" and stored()[0].bank_transfer_id is not None


def test_a_signed_body_that_is_refused_is_stored_first_and_only_once(client):
    raw = b'{"transaction_id": "FT1", "amount": "12a000", "content": "x"}'
    for _ in range(3):
        response = notify(client, raw=raw)
        assert response.status_code == 400 and "amount" in response.json["error"]
    [row] = stored()
    assert row.status == "failed" and row.source_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert row.raw_body == raw.decode() and staff_told("notification_failed") == 1
    assert count(BankTransfer) == 0


def test_a_corrected_body_with_the_same_transaction_id_is_taken(client, order):  # noqa: F811
    assert notify(client, transfer(order, amount="12a000")).status_code == 400
    assert notify(client, transfer(order)).json["status"] == "matched"
    assert [row.status for row in stored()] == ["failed", "processed"] and order.status == "paid"


def test_bytes_that_are_not_text_are_stored_escaped(client):
    assert notify(client, raw=b"\xff\xfe\x00{").status_code == 400
    assert stored()[0].raw_body == "\\xff\\xfe\\x00{"


def test_a_huge_signed_body_is_kept_cut(client):
    raw = b'{"a":' * 100000 + b"1" + b"}" * 100000
    assert notify(client, raw=raw).status_code == 400
    row = stored()[0]
    assert len(row.raw_body) < 70 * 1024 and row.raw_body.endswith(f"[cut: {len(raw)} bytes in all]")


def test_a_transfer_staff_entered_before_is_a_duplicate_linked_to_it(client, order):  # noqa: F811
    now = utcnow()
    typed = payments.record_bank_transfer(transaction_id="FT26001", amount_vnd=order.total_vnd,
                                          content=order.reference, transferred_at=now, source="staff", now=now)
    db.session.commit()
    before = (count(BankTransfer), count(Payment))
    assert notify(client, transfer(order)).json == {"status": "duplicate"}
    [row] = stored()
    assert row.status == "processed" and row.bank_transfer_id == typed.id and "recorded before" in row.error
    assert (count(BankTransfer), count(Payment)) == before


def test_processing_a_row_again_changes_nothing(client, order):  # noqa: F811
    notify(client, transfer(order))
    before = snapshot()
    row_id = stored()[0].id
    assert notifications.process(row_id, utcnow()) is None
    db.session.commit()
    assert snapshot() == before


def test_the_raw_row_is_committed_before_processing_and_kept_when_it_fails(app, client, order, monkeypatch):  # noqa: F811
    seen_from_elsewhere = []
    real = notifications._apply

    def look_then_fail(row, source, reading, now):
        # Another connection (another worker, the job) already sees the stored notification.
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.connect() as conn:
            seen_from_elsewhere.append(conn.execute(text("SELECT status FROM bank_notifications")).scalar())
        engine.dispose()
        real(row, source, reading, now)
        raise OperationalError("UPDATE bank_notifications", {}, Exception("the connection broke after changes"))
    monkeypatch.setattr(notifications, "_apply", look_then_fail)
    response = notify(client, transfer(order))
    assert response.status_code == 503 and response.is_json
    assert seen_from_elsewhere == ["received"]
    assert stored()[0].status == "received" and count(BankTransfer) == 0 and order.status == "pending_payment"


def test_the_job_applies_a_stored_notification_exactly_once(app, client, order, monkeypatch):  # noqa: F811
    calls = fail_once(monkeypatch)
    body = transfer(order)
    assert notify(client, body).status_code == 503
    assert count(BankTransfer) == 0 and order.status == "pending_payment"
    output = run_job(app)
    assert "1 processed" in output and "still waiting 0" in output
    assert order.status == "paid" and stored()[0].status == "processed"
    after = snapshot()
    assert "none" in run_job(app)
    assert notify(client, body).json == {"status": "duplicate"}
    assert snapshot() == after and calls == ["FT26001", "FT26001"]


def test_a_retry_from_the_service_processes_a_row_left_received(client, order, monkeypatch):  # noqa: F811
    fail_once(monkeypatch)
    body = transfer(order)
    assert notify(client, body).status_code == 503
    assert notify(client, body).json == {"status": "matched", "order": order.reference}
    assert count(BankNotification) == 1 and count(BankTransfer) == 1 and order.status == "paid"


def test_a_lock_conflict_while_processing_runs_the_endpoint_again(client, order, monkeypatch, caplog):  # noqa: F811
    calls = fail_once(monkeypatch, sqlite3.OperationalError("database is locked"))
    caplog.set_level(logging.WARNING)
    response = notify(client, transfer(order))
    assert response.json == {"status": "matched", "order": order.reference}, "after its first commit, too"
    assert any(record.getMessage().startswith("Lock timeout on POST /payments/bank/notify, retried (attempt 1 of 3)")
               for record in caplog.records)
    assert calls == ["FT26001", "FT26001"] and count(BankNotification) == 1 and count(BankTransfer) == 1


def test_a_notification_that_keeps_failing_is_given_up_for_staff(app, client, order, monkeypatch):  # noqa: F811
    def broken(**kwargs):
        raise ValueError("a bug")
    monkeypatch.setattr(notifications, "record_bank_transfer", broken)
    assert notify(client, transfer(order)).status_code == 500
    for attempt in range(1, notifications.MAX_ATTEMPTS):
        run_job(app)
        row = stored()[0]
        assert (row.status, row.attempts) == ("received", attempt) and "a bug" in row.error
    assert "1 failed" in run_job(app)
    row = stored()[0]
    assert (row.status, row.attempts) == ("failed", notifications.MAX_ATTEMPTS)
    assert staff_told("notification_failed") == 1 and count(BankTransfer) == 0


def test_the_job_takes_the_oldest_first_and_only_what_waits(app, order):  # noqa: F811
    now = utcnow()
    for number, status in enumerate(["received", "processed", "received", "failed"]):
        raw = json.dumps(transfer(order, txn=f"FT{number}", content="no reference")).encode()
        db.session.add(BankNotification(source="generic", source_id=f"FT{number}", raw_body=raw.decode(),
                                        headers="{}", received_at=now - timedelta(minutes=number),
                                        status=status, attempts=0))
    db.session.commit()
    assert "2 unmatched" in run_job(app)
    assert sorted(db.session.scalars(select(BankTransfer.transaction_id))) == ["FT0", "FT2"]
    assert [row.status for row in stored()] == ["unmatched", "processed", "unmatched", "failed"]
