"""What the tests of the bank-notification endpoints share (tests/shop/test_*_notify.py, test_bank_notifications.py):
the cooperative's account in them, a two-farm order, counting what a notification may change, a processing step
that fails once, and the job."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import cart as carts
from shop.ledger import LedgerEntry
from shop.payment_models import BankNotification, BankTransfer, Payment, Refund
from tests.helpers import count

ACCOUNT = "1017588888"  # the cooperative's receiving account in these tests
ACCOUNT_CONFIG = {"BANK_BIN": "970422", "BANK_ACCOUNT_NUMBER": ACCOUNT, "BANK_ACCOUNT_NAME": "HTX DUA KEP"}


@pytest.fixture
def order(store, place, make_product, make_farm):
    """A two-farm order, placed now: 4 × 25,000 + 2 × 55,000 = 210,000 ₫."""
    carts.add_product(store, make_product(farm=make_farm(), price_vnd=25000, stock=50).id, "4")
    carts.add_product(store, make_product(farm=make_farm(), price_vnd=55000, stock=10).id, "2")
    placed = place(store, now=utcnow())
    db.session.commit()
    return placed


def snapshot() -> tuple[int, ...]:
    return tuple(count(model) for model in (BankNotification, BankTransfer, Payment, LedgerEntry, Refund,
                                            Notification, AuditEntry))


def stored() -> list[BankNotification]:
    return list(db.session.scalars(select(BankNotification).order_by(BankNotification.id)))


def staff_told(reason: str) -> int:
    return count(Notification, Notification.kind == f"staff_{reason}")


def fail_once(monkeypatch, orig: Exception | None = None):
    """The processing step that locks the order fails once, as a lost database connection would (or as ``orig``
    says: a lock conflict); the returned list counts the calls."""
    from shop.payments import notifications

    real = notifications.record_bank_transfer
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["transaction_id"])
        if len(calls) == 1:
            raise OperationalError("SELECT orders FOR UPDATE", {}, orig or Exception("server closed the connection"))
        return real(**kwargs)
    monkeypatch.setattr(notifications, "record_bank_transfer", flaky)
    return calls


def run_job(app) -> str:
    result = app.test_cli_runner().invoke(args=["process-bank-notifications"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output
