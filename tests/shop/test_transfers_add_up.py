"""Transfers as people make them: parts that add up, money an expired or cancelled order can no longer take,
and the bank's own time of a transfer that the market heard of late."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from shop import checkout, payments
from shop.ledger import LedgerEntry
from shop.payment_models import BankTransfer, Payment, Refund
from tests.factories import NOW, make_order, make_product
from tests.helpers import count


@pytest.fixture
def order(app):
    return make_order((make_product(price_vnd=28000, stock=10), 2))  # 56,000 ₫


def transfer(order, amount, *, txn, now=NOW, transferred_at=None):
    recorded = payments.record_bank_transfer(transaction_id=txn, amount_vnd=amount, content=f"{order.reference} ck",
                                             transferred_at=transferred_at or now, source="webhook", now=now)
    db.session.commit()
    db.session.refresh(order)
    return recorded


def test_fifty_thousand_then_six_thousand_pay_a_56000_order_as_one_payment(order):
    assert order.total_vnd == 56000
    first = transfer(order, 50000, txn="FT-A")
    assert (first.status, order.status) == ("underpaid", "pending_payment")
    second = transfer(order, 6000, txn="FT-B")
    assert order.status == "paid"
    payment = db.session.scalar(select(Payment))
    assert (payment.amount_vnd, payment.provider_ref, count(Payment)) == (56000, "FT-B", 1)
    db.session.refresh(first)
    assert {(t.transaction_id, t.status, t.payment_id) for t in (first, second)} == {
        ("FT-A", "matched", payment.id), ("FT-B", "matched", payment.id)}, "staff see both parts of the payment"
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 1 and count(Refund) == 0


def test_parts_that_add_up_to_more_book_the_difference_back(order):
    transfer(order, 50000, txn="FT-A")
    last = transfer(order, 10000, txn="FT-B")
    assert order.status == "paid" and last.status == "overpaid"
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.reason, refund.payment.amount_vnd) == (4000, "overpaid", 60000)


def test_an_order_that_expires_with_a_part_received_books_it_back_and_says_so(order):
    transfer(order, 50000, txn="FT-A")
    assert checkout.expire_orders(NOW + timedelta(hours=1)) == 1
    db.session.refresh(order)
    assert order.status == "expired"
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.reason, refund.status, refund.payment_id) == (50000, "unpaid_in_time",
                                                                                   "pending", None)
    assert db.session.scalar(select(BankTransfer.status)) == "late"
    message = db.session.scalar(select(Notification).where(Notification.kind == "received_money_refunded"))
    body = message.body.replace("\xa0", " ")
    assert "chưa được thanh toán đủ trước khi hết hạn" in body, "it says why"
    assert "  - 50.000 ₫," in body, "it lists the money received"
    assert "Toàn bộ 50.000 ₫ sẽ được gửi trả lại" in body, "and that it goes back"


def test_cancelling_an_order_with_a_part_received_books_it_back(order):
    transfer(order, 20000, txn="FT-A")
    checkout.cancel_unpaid(order, None, NOW)
    db.session.commit()
    assert db.session.scalar(select(Refund.reason)) == "cancelled_unpaid"
    assert db.session.scalar(select(Refund.amount_vnd)) == 20000


def test_a_part_that_comes_after_expiry_is_booked_back_at_once(order):
    checkout.expire_orders(NOW + timedelta(hours=1))
    late = transfer(order, 6000, txn="FT-LATE", now=NOW + timedelta(hours=2))
    assert late.status == "late" and order.status == "expired"
    assert (db.session.scalar(select(Refund.amount_vnd)), count(Payment)) == (6000, 0)


def test_a_transfer_the_bank_timed_inside_the_hold_pays_even_when_heard_of_after_expiry(order):
    checkout.expire_orders(NOW + timedelta(hours=1))
    heard_at = NOW + timedelta(hours=2)
    transfer(order, 56000, txn="FT-SLOW", now=heard_at, transferred_at=NOW + timedelta(minutes=10))
    assert order.status == "paid", "the goods were still there: they are taken again"


def test_when_the_goods_are_gone_the_buyer_is_told_the_delay_was_the_markets(order):
    product = order.farm_orders[0].lines[0].product
    checkout.expire_orders(NOW + timedelta(hours=1))
    product.stock = 0
    db.session.commit()
    transfer(order, 56000, txn="FT-SLOW", now=NOW + timedelta(hours=2), transferred_at=NOW + timedelta(minutes=10))
    assert order.status == "expired"
    assert db.session.scalar(select(Refund.reason)) == "late_payment"
    message = db.session.scalar(select(Notification).where(Notification.kind == "late_payment_refunded"))
    assert "do chợ, không phải do bạn" in message.body, message.body
