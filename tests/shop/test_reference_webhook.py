"""References in real bank notifications (POST /payments/bank/notify): what banks send pays the order; a
reference with one character wrong pays nobody's order and waits for staff; the legacy form still pays."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import cart as carts
from shop.order_models import Order
from shop.payment_models import BankTransfer, Payment
from shop.payments.reference import ALPHABET, legacy_reference, reference_for
from tests.helpers import count

BANK_SECRET = "bank-secret-for-tests"


@pytest.fixture
def app_config():
    return {"BANK_WEBHOOK_SECRET": BANK_SECRET}


@pytest.fixture
def orders(store, place, make_product):
    """Three orders of 3 × 40,000 ₫, placed now, by the same buyer: one to pay, two strangers'."""
    product = make_product(price_vnd=40000, stock=50)
    placed = []
    for _ in range(3):
        carts.add_product(store, product.id, "3")
        placed.append(place(store, now=utcnow()))
    db.session.commit()
    return placed


def notify(client, txn, amount, content):
    data = json.dumps({"transaction_id": txn, "amount": amount, "content": content}).encode()
    signature = hmac.new(BANK_SECRET.encode(), data, hashlib.sha256).hexdigest()
    return client.post("/payments/bank/notify", data=data, headers={"X-Signature": signature},
                       content_type="application/json")


@pytest.mark.parametrize("content", [
    "MBVCB.3278612345.{ref}.thanh toan",
    "{spaced}",
    "NGUYEN VAN A chuyen tien {spaced} mua dua Kep",
    "Thanh toán đơn hàng {lower} – cảm ơn chị Mai",
    "Cho Dua Kép {ref}",  # the market's name before the reference
    "IBFT THANHTOAN{ref}MUADUA FT26152123456789",
])
def test_what_banks_send_pays_the_order(client, orders, content):
    order = orders[1]
    reference = order.reference
    text = content.format(ref=reference, lower=reference.lower(),
                          spaced=f"kep {reference[3:7].lower()} {reference[7:].lower()}")
    response = notify(client, "FT26001", order.total_vnd, text)
    assert response.json == {"status": "matched", "order": order.reference}
    assert order.status == "paid" and orders[0].status == orders[2].status == "pending_payment"


def _slips(reference: str) -> list[str]:
    """One character changed, in each place after KEP (twice), and each swap of two neighbours."""
    slips = []
    for place in range(3, len(reference)):
        others = [c for c in ALPHABET if c != reference[place]]
        slips += [reference[:place] + c + reference[place + 1:] for c in (others[place], others[-place])]
    slips += [reference[:place] + reference[place + 1] + reference[place] + reference[place + 2:]
              for place in range(3, len(reference) - 1) if reference[place] != reference[place + 1]]
    return slips


def test_a_reference_with_one_character_wrong_pays_nothing_and_waits_for_staff(client, orders):
    order = orders[1]
    slips = _slips(order.reference)
    assert len(slips) >= 14 + 4
    for number, slip in enumerate(slips):
        response = notify(client, f"FT-SLIP-{number}", order.total_vnd, f"MBVCB.3278612345.{slip}.thanh toan")
        assert response.status_code == 200
        assert response.json == {"status": "unmatched", "order": None}, slip
    kept = db.session.scalars(select(BankTransfer)).all()
    assert len(kept) == len(slips) and {(t.status, t.order_id) for t in kept} == {("unmatched", None)}
    assert count(Notification, Notification.kind == "staff_unmatched_transfer") == len(slips)
    assert count(Payment) == 0
    assert [o.status for o in db.session.scalars(select(Order).order_by(Order.id))] == ["pending_payment"] * 3
    # The reference itself, typed right, still pays.
    assert notify(client, "FT-RIGHT", order.total_vnd, order.reference).json["status"] == "matched"


def test_the_legacy_reference_still_pays_its_order(client, orders):
    order = orders[2]
    content = f"MBVCB.3278612345.{legacy_reference(order.id)}.thanh toan"
    response = notify(client, "FT-OLD", order.total_vnd, content)
    assert response.json == {"status": "matched", "order": order.reference}
    assert order.status == "paid" and orders[1].status == "pending_payment"


def test_two_orders_named_in_one_transfer_wait_for_staff(client, orders):
    response = notify(client, "FT-TWO", orders[0].total_vnd * 2, f"{orders[0].reference} {orders[1].reference}")
    assert response.json == {"status": "unmatched", "order": None}
    assert count(Payment) == 0


def test_the_legacy_form_counts_only_when_no_checked_reference_names_an_order(client, orders):
    first, second, third = orders
    response = notify(client, "FT-BOTH", first.total_vnd, f"{first.reference} {legacy_reference(second.id)}")
    assert response.json == {"status": "matched", "order": first.reference}
    assert second.status == "pending_payment"
    # A checked reference of no order (words that happen to read as one) leaves the legacy one to count.
    content = f"{reference_for(400_000_000)} {legacy_reference(third.id)}"
    response = notify(client, "FT-OLD-2", third.total_vnd, content)
    assert response.json == {"status": "matched", "order": third.reference}
