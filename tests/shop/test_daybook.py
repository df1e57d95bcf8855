"""The daily balance: credits received = payments applied + waiting as parts + refunded + unmatched + resolved,
per local day, on every path money takes (full payment, parts, overpayment, unmatched, split, refund, late)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.extensions import db
from core.time import local_to_utc, to_local, utcnow
from shop import checkout, payments
from shop.payment_models import BankTransfer
from shop.payments.daybook import daily_balance
from shop.payments.split import split_transfer
from tests.factories import make_order, make_product, make_user
from tests.helpers import login_as


def _order(now):
    return make_order((make_product(price_vnd=50000, stock=30), 3), now=now)  # 150,000 ₫


def _in(amount, txn, content, at):
    transfer = payments.record_bank_transfer(transaction_id=txn, amount_vnd=amount, content=content,
                                             transferred_at=at, source="webhook", now=at)
    db.session.commit()
    return transfer


@pytest.fixture
def day(app):
    """A local day, and a time at 10:00 on it (UTC)."""
    today = to_local(utcnow()).date()
    return today, local_to_utc(datetime.combine(today, datetime.min.time()) + timedelta(hours=10))


def test_every_path_of_one_day_balances(app, day):
    today, at = day
    staff = make_user(role="admin")
    full, part, over, split_a, split_b = (_order(at) for _ in range(5))
    _in(150000, "FT-FULL", full.reference, at)                    # applied 150,000
    _in(100000, "FT-PART", part.reference, at)                    # waiting 100,000
    _in(200000, "FT-OVER", over.reference, at)                    # applied 150,000, refunded 50,000
    _in(42000, "FT-NONE", "chuyen tien", at)                      # unmatched 42,000
    back = _in(30000, "FT-BACK", "nham tai khoan", at)            # refunded 30,000
    payments.refund_unmatched(back, staff, "not ours", at)
    credit = _in(300000, "FT-SPLIT", "hai don", at)               # applied 150,000, waiting 100,000, refunded 50,000
    split_transfer(credit, [(split_a, 150000), (split_b, 100000)], refund_rest=True, note="", staff=staff, now=at)
    settled = _in(10000, "FT-SETTLED", "tien le", at)             # resolved 10,000
    payments.resolve_transfer(settled, staff, "cash given back at the office")
    db.session.commit()
    late = _order(at - timedelta(hours=2))
    checkout.expire_orders(at)
    _in(60000, "FT-LATE", late.reference, at)                     # refunded 60,000
    [entry] = daily_balance(today, today)
    assert (entry.credits, entry.received) == (8, 892000)
    assert entry.amounts == {"applied": 450000, "waiting": 200000, "refunded": 190000, "unmatched": 42000,
                             "resolved": 10000}
    assert entry.balanced and entry.difference == 0


def test_days_are_local_days(app, day):
    today, at = day
    late_evening = local_to_utc(datetime.combine(today, datetime.min.time()) + timedelta(hours=23, minutes=30))
    early_next = late_evening + timedelta(hours=1)
    _in(1000, "FT-EVENING", "x", late_evening)
    _in(2000, "FT-MORNING", "y", early_next)
    days = daily_balance(today, today + timedelta(days=1))
    assert [(d.day, d.received, d.unmatched) for d in days] == [
        (today + timedelta(days=1), 2000, 2000), (today, 1000, 1000)]


def test_a_day_whose_rows_disagree_is_shown_in_red(app, client, day):
    today, at = day
    credit = _in(100000, "FT-ODD", "x", at)
    # A part beyond its credit that no payment took: what a bug (or a hand edit) would leave.
    db.session.add(BankTransfer(transaction_id="FT-ODD/1", amount_vnd=150000, content="x", received_at=at,
                                source="split", status="matched", parent_id=credit.id))
    db.session.commit()
    [entry] = daily_balance(today, today)
    assert not entry.balanced and entry.difference == 100000
    login_as(client, make_user(role="admin"))
    for url in ("/admin/balance?lang=en", "/admin/transfers?lang=en", "/admin/statements?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert "Does not balance" in page and "A day does not balance" in page, url


def test_balanced_days_show_no_red_mark(app, client, day):
    today, at = day
    _in(5000, "FT-OK", "x", at)
    login_as(client, make_user(role="admin"))
    page = client.get("/admin/transfers?lang=en").get_data(as_text=True)
    assert "Every day of the last two weeks balances." in page and "Does not balance" not in page
    assert "A day does not balance" not in client.get("/admin/refunds?lang=en").get_data(as_text=True)
