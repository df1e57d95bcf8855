"""Confirming payments: idempotent, late payments, bank transfers, refunds, the ledger."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import settings_store
from core.extensions import db
from core.outbox import Notification
from shop import cart as carts
from shop import checkout, payments
from shop.ledger import LedgerEntry
from shop.payment_models import BankTransfer, Payment, Refund
from tests.factories import NOW
from tests.helpers import count


@pytest.fixture
def order(store, place, make_product, make_farm):
    farm_a, farm_b = make_farm(), make_farm()
    carts.add_product(store, make_product(farm=farm_a, price_vnd=25000, stock=50).id, "4")
    carts.add_product(store, make_product(farm=farm_b, price_vnd=55000, stock=10).id, "2")
    placed = place(store)
    db.session.commit()
    return placed


def _transfer(order, txn="FT2606010001", amount=None, content=None, now=NOW):
    transfer = payments.record_bank_transfer(
        transaction_id=txn, amount_vnd=order.total_vnd if amount is None else amount,
        content=content if content is not None else f"MBVCB.{order.reference}.thanh toan", transferred_at=now,
        source="webhook", now=now)
    db.session.commit()
    return transfer


def test_bank_transfer_pays_the_order_and_writes_the_ledger(order):
    settings_store.put("platform_fee_bp", "500")  # 5 %
    db.session.commit()
    transfer = _transfer(order)
    assert transfer.status == "matched" and order.status == "paid" and order.paid_at == NOW
    assert {fo.status for fo in order.farm_orders} == {"paid"}
    for farm_order in order.farm_orders:
        entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.farm_order_id == farm_order.id)).all()
        sales = sum(e.amount_vnd for e in entries if e.kind == "sale")
        fees = sum(e.amount_vnd for e in entries if e.kind == "fee")
        assert sales == farm_order.total_vnd
        assert fees == -round(farm_order.total_vnd * 0.05)
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"order_paid", "farm_new_order"} <= kinds


def test_the_same_notification_five_times_pays_once(order):
    _transfer(order)
    for _ in range(4):
        with pytest.raises(payments.DuplicateTransfer):
            _transfer(order)
        db.session.rollback()
    assert count(Payment) == 1 and count(BankTransfer) == 1
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2


def test_confirming_a_payment_twice_is_a_no_op(order):
    _transfer(order)
    payment = db.session.scalar(select(Payment))
    assert payments.confirm_payment(payment, actor_label="test", now=NOW) == "already"
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2


def test_a_part_waits_for_the_rest_without_troubling_staff(order):
    transfer = _transfer(order, amount=order.total_vnd - 1000)
    assert transfer.status == "underpaid" and order.status == "pending_payment"
    assert count(Payment) == 0 and count(LedgerEntry) == 0
    assert count(Notification, Notification.kind.like("staff_%")) == 0, "paying in parts is normal"


def test_overpaid_is_confirmed_and_the_difference_booked_for_refund(order):
    transfer = _transfer(order, amount=order.total_vnd + 20000)
    assert transfer.status == "overpaid" and order.status == "paid"
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.provider, refund.reason, refund.status) == (20000, "vietqr", "overpaid",
                                                                                  "pending")


def test_unknown_reference_is_kept_for_staff(order):
    transfer = _transfer(order, content="chuyen tien mua dua")
    assert transfer.status == "unmatched" and transfer.order_id is None
    assert order.status == "pending_payment"


def test_late_payment_is_confirmed_when_stock_can_be_taken_again(order):
    checkout.expire_orders(NOW + timedelta(minutes=31))
    db.session.commit()
    assert order.status == "expired"
    transfer = _transfer(order, now=NOW + timedelta(minutes=40))
    assert order.status == "paid" and transfer.status == "matched"
    assert {fo.status for fo in order.farm_orders} == {"paid"}
    stock = [line.product.stock for fo in order.farm_orders for line in fo.lines]
    assert stock == [46, 8], "the stock was taken again"


def test_late_payment_is_refunded_when_the_goods_are_gone(order):
    checkout.expire_orders(NOW + timedelta(minutes=31))
    line = order.farm_orders[1].lines[0]
    line.product.stock = 1  # sold to someone else meanwhile
    db.session.commit()
    transfer = _transfer(order, now=NOW + timedelta(minutes=40))
    assert order.status == "expired" and transfer.status == "late"
    refund = db.session.scalar(select(Refund))
    assert refund.amount_vnd == order.total_vnd and refund.reason == "late_payment"
    assert line.product.stock == 1 and order.farm_orders[0].lines[0].product.stock == 50, "nothing half-taken"
    assert count(LedgerEntry) == 0
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"late_payment_refunded", "staff_late_payment_refunded"} <= kinds


def test_a_second_payment_of_a_paid_order_is_refunded(order):
    _transfer(order)
    _transfer(order, txn="FT2606010002")
    refund = db.session.scalar(select(Refund))
    assert refund.reason == "duplicate_payment" and refund.amount_vnd == order.total_vnd


def test_cancelling_a_paid_farm_order_refunds_its_share_and_reverses_the_ledger(order):
    _transfer(order)
    farm_order = order.farm_orders[0]
    stock_before = farm_order.lines[0].product.stock
    refund = payments.cancel_paid_farm_order(farm_order, None, NOW)
    db.session.commit()
    assert farm_order.status == "cancelled" and farm_order.refunded_vnd == farm_order.total_vnd
    assert refund.amount_vnd == farm_order.total_vnd and refund.provider == "vietqr"
    net = db.session.scalar(select(func.sum(LedgerEntry.amount_vnd)).where(LedgerEntry.farm_id == farm_order.farm_id))
    assert net == 0
    assert farm_order.lines[0].product.stock == stock_before + farm_order.lines[0].quantity
    with pytest.raises(payments.PaymentError):
        payments.cancel_paid_farm_order(farm_order, None, NOW)


def test_refunds_never_exceed_what_was_paid(order):
    _transfer(order)
    payment = db.session.scalar(select(Payment))
    payments.create_refund(payment, order.total_vnd - 1, reason="test")
    with pytest.raises(payments.PaymentError):
        payments.create_refund(payment, 2, reason="test")
    with pytest.raises(payments.PaymentError):
        payments.create_refund(payment, 0, reason="test")
    assert payment.refunded_vnd == order.total_vnd - 1


def test_farm_order_moves_only_along_its_table(order):
    _transfer(order)
    farm_order = order.farm_orders[0]
    for wrong in ("pending_payment", "completed", "cancelled"):
        with pytest.raises(payments.PaymentError):
            payments.move_farm_order(farm_order, wrong, None, NOW)
    payments.move_farm_order(farm_order, "ready", None, NOW)
    payments.move_farm_order(farm_order, "completed", None, NOW)
    assert farm_order.status == "completed"
    with pytest.raises(payments.PaymentError):
        payments.move_farm_order(farm_order, "ready", None, NOW)


def test_staff_vietqr_refund_is_marked_done_once(order, make_user):
    _transfer(order, amount=order.total_vnd + 5000)
    staff = make_user(role="admin")
    refund = db.session.scalar(select(Refund))
    payments.mark_refund_done(refund, staff, "FT-REFUND-1", NOW)
    db.session.commit()
    assert refund.status == "done" and refund.bank_reference == "FT-REFUND-1"
    with pytest.raises(payments.PaymentError):
        payments.mark_refund_done(refund, staff, "FT-REFUND-2", NOW)


def test_ledger_rows_cannot_be_changed(order):
    _transfer(order)
    entry = db.session.scalar(select(LedgerEntry))
    entry.amount_vnd = 1
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
