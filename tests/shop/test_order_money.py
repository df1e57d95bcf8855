"""The buyer sees where their money is: what was received, what goes back, and a pay page that turns to
"paid" by itself (its status address) or by its "check again" button."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.time import utcnow
from shop import payments
from shop.payment_models import Refund
from tests.factories import make_order, make_product, make_user, pay


def _order(**place_args):
    return make_order((make_product(price_vnd=28000, stock=10), 2), now=utcnow(), **place_args)  # 56,000 ₫


def _transfer(order, amount, txn):
    payments.record_bank_transfer(transaction_id=txn, amount_vnd=amount, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()


def _page(client, order, path="") -> str:
    return client.get(f"/orders/{order.public_id}{path}?key={order.secret}&lang=en").get_data(as_text=True)


def test_the_status_address_says_what_has_landed(client):
    order = _order()
    status = f"/orders/{order.public_id}/pay/status?key={order.secret}"
    assert client.get(status).json == {"state": "pending_payment", "received_vnd": 0}
    _transfer(order, 50000, "FT-PART-1")
    assert client.get(status).json == {"state": "pending_payment", "received_vnd": 50000}
    _transfer(order, 6000, "FT-PART-2")
    response = client.get(status)
    assert response.json == {"state": "paid", "received_vnd": 0}
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/orders/{order.public_id}/pay/status").status_code == 404, "only with the order's key"


def test_the_pay_page_watches_its_status_and_checking_by_hand_says_nothing_came_yet(client):
    order = _order()
    page = _page(client, order, "/pay")
    assert f'data-pay-status="/orders/{order.public_id}/pay/status?key={order.secret}"' in page
    assert "paystatus" in page and "checked=1" in page
    assert "No payment has reached us yet" not in page
    checked = client.get(f"/orders/{order.public_id}/pay?key={order.secret}&checked=1&lang=en")
    assert "No payment has reached us yet" in checked.get_data(as_text=True)


def test_the_order_page_lists_each_part_received(client):
    order = _order()
    _transfer(order, 50000, "FT-PART-1")
    _transfer(order, 6000, "FT-PART-2")
    page = _page(client, order)
    assert "Your money" in page and "FT-PART-1" in page and "FT-PART-2" in page
    assert "₫50,000" in page and "₫6,000" in page and "Payment reference" in page


def test_an_overpayment_waits_to_go_back_and_a_refunded_order_does_not_say_paid(client):
    order = _order()
    _transfer(order, 60000, "FT-OVER")
    page = _page(client, order)
    assert "₫4,000 is waiting to be sent back to you." in page and "paid too much" in page
    farm_order = order.farm_orders[0]
    payments.cancel_paid_farm_order(farm_order, farm_order.farm.owner, utcnow(), "farm_sold_out")
    staff = make_user(role="admin")
    for refund in db.session.scalars(select(Refund)):
        payments.mark_refund_done(refund, staff, f"FT-BACK-{refund.id}", utcnow())
    db.session.commit()
    page = _page(client, order)
    assert 'class="badge status-refunded">Refunded<' in page and "status-paid" not in page.split("<h2")[0]
    assert "FT-BACK-" in page and "order cancelled by the farm" in page and "sent on" in page


def test_a_card_order_shows_no_transfer_content(client):
    order = pay(_order(method="card"), now=utcnow())
    page = _page(client, order)
    assert "Payment reference" not in page and order.reference not in page.split("<h1>")[1].split("</h1>")[1]
    assert "Received" in page and "Card" in page
