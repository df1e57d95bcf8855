"""Staff reconcile in one place (an unmatched credit gets its order, or goes back) and refund after delivery;
the buyer gives the account a bank refund goes to through a secret link."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import payments
from shop.ledger import LedgerEntry
from shop.payment_models import BankTransfer, Payment, Refund
from tests.factories import make_order, make_product, make_user, pay
from tests.helpers import count, login_as


@pytest.fixture
def staff(client):
    user = make_user(role="admin")
    login_as(client, user)
    return user


def _order(**place_args):
    return make_order((make_product(price_vnd=50000, stock=30), 3), now=utcnow(), **place_args)  # 150,000 ₫


def _unmatched(amount, txn="FT-TYPO-1"):
    transfer = payments.record_bank_transfer(transaction_id=txn, amount_vnd=amount, content="thanh toan don dua",
                                             transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    return transfer


def test_an_unmatched_credit_gets_its_order_in_one_action(client, staff):
    order = _order()
    transfer = _unmatched(150000)
    response = client.post(f"/admin/transfers/{transfer.id}/assign?lang=en",
                           data={f"a{transfer.id}-reference": order.reference}, follow_redirects=True)
    assert "is paid" in response.get_data(as_text=True)
    db.session.refresh(order)
    assert order.status == "paid"
    assert count(BankTransfer) == 1, "the same bank credit, no second row"
    payment = db.session.scalar(select(Payment))
    assert (payment.provider_ref, payment.amount_vnd, db.session.get(BankTransfer, transfer.id).payment_id) == (
        "FT-TYPO-1", 150000, payment.id)
    again = client.post(f"/admin/transfers/{transfer.id}/assign", data={f"a{transfer.id}-reference": order.reference})
    assert again.status_code in (302, 303) and count(Payment) == 1, "a second click changes nothing"


def test_assigning_a_part_makes_it_wait_for_the_rest(client, staff):
    order = _order()
    transfer = _unmatched(100000)
    client.post(f"/admin/transfers/{transfer.id}/assign", data={f"a{transfer.id}-reference": order.reference})
    assert db.session.get(BankTransfer, transfer.id).status == "underpaid"
    payments.record_bank_transfer(transaction_id="FT-REST", amount_vnd=50000, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    db.session.refresh(order)
    assert order.status == "paid" and db.session.scalar(select(Payment.amount_vnd)) == 150000


def test_an_unmatched_credit_no_order_is_goes_back_as_a_refund_task(client, staff):
    transfer = _unmatched(42000)
    response = client.post(f"/admin/transfers/{transfer.id}/refund", data={f"r{transfer.id}-note": "not ours"})
    assert response.status_code in (302, 303)
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.order_id, refund.bank_transfer_id, refund.reason) == (
        42000, None, transfer.id, "unmatched")
    assert db.session.get(BankTransfer, transfer.id).status == "resolved"
    page = client.get("/admin/refunds?lang=en").get_data(as_text=True)
    assert "FT-TYPO-1" in page and "a transfer that matched no order" in page
    done = client.post(f"/admin/refunds/{refund.id}/done", data={f"r{refund.id}-bank_reference": "FT-BACK-1"})
    assert done.status_code in (302, 303), "a refund that belongs to no order is marked done too"
    db.session.refresh(refund)
    assert (refund.status, refund.bank_reference) == ("done", "FT-BACK-1")


def test_staff_refund_part_of_a_completed_farm_order_and_the_ledger_follows(client, staff):
    order = pay(_order(), now=utcnow())
    farm_order = order.farm_orders[0]
    payments.move_farm_order(farm_order, "ready", None, utcnow())
    payments.move_farm_order(farm_order, "completed", None, utcnow())
    db.session.commit()
    url = f"/admin/orders/{order.public_id}/refund/{farm_order.id}"
    too_much = client.post(url, data={f"f{farm_order.id}-amount_vnd": "200.000", f"f{farm_order.id}-note": "x"})
    assert too_much.status_code == 400 and count(Refund) == 0
    response = client.post(url, data={f"f{farm_order.id}-amount_vnd": "50.000",
                                      f"f{farm_order.id}-note": "2 kg arrived damaged"})
    assert response.status_code in (302, 303)
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.reason, refund.note, refund.status) == (50000, "after_delivery",
                                                                             "2 kg arrived damaged", "pending")
    db.session.refresh(farm_order)
    assert (farm_order.status, farm_order.refunded_vnd) == ("completed", 50000)
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.farm_order_id == farm_order.id)).all()
    assert sum(e.amount_vnd for e in entries if e.kind == "refund") == -50000
    net = sum(e.amount_vnd for e in entries)
    sales = sum(e.amount_vnd for e in entries if e.kind == "sale")
    assert net == sum(e.amount_vnd for e in entries if e.kind in ("sale", "fee", "refund", "fee_refund"))
    assert sales == 150000
    message = db.session.scalar(select(Notification).where(Notification.kind == "refund_after_delivery"))
    assert f"/refunds/{refund.details_token}" in message.body, "the buyer is asked for an account"


def test_the_buyer_gives_the_account_through_the_secret_link_and_staff_see_it(client, staff):
    order = pay(_order(), now=utcnow())
    farm_order = order.farm_orders[0]
    refund = payments.refund_farm_order(farm_order, 30000, staff, utcnow(), note="missed visit")
    db.session.commit()
    link = f"/refunds/{refund.details_token}?lang=en"
    assert client.get("/refunds/not-a-token").status_code == 404
    bad = client.post(link, data={"bank_bin": "970436", "account_number": "12ab", "account_name": "Mai"})
    assert bad.status_code == 400 and "6 to 19 digits" in bad.get_data(as_text=True)
    good = client.post(link, data={"bank_bin": "970436", "account_number": "0123 456 789",
                                   "account_name": "TRINH THI MAI"})
    assert good.status_code in (302, 303)
    db.session.refresh(refund)
    assert (refund.buyer_account_number, refund.buyer_account_name) == ("0123456789", "TRINH THI MAI")
    page = client.get("/admin/refunds?lang=en").get_data(as_text=True)
    assert "0123456789" in page and "TRINH THI MAI" in page
    payments.mark_refund_done(refund, staff, "FT-BACK-9", utcnow())
    db.session.commit()
    assert client.get(link).status_code == 404, "once sent, the link is closed"


def test_a_card_refund_after_delivery_goes_to_stripe_and_asks_no_account(client, staff):
    order = pay(_order(method="card"), now=utcnow())
    refund = payments.refund_farm_order(order.farm_orders[0], 20000, staff, utcnow(), note="damaged")
    db.session.commit()
    assert (refund.provider, refund.details_token) == ("card", None)
    assert refund.id in db.session.scalars(payments.refunds.pending_sent_by_providers().with_only_columns(
        Refund.id)).all(), "flask send-refunds sends it to Stripe"
