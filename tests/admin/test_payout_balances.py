"""The screens that show a balance agree: pending, available and a debt to the market said plainly on the farmer's
dashboard and statement and on the staff payout pages; a payout above what is available is refused with the
available amount suggested; the VietQR code pays what is available; the fee rate of the sales is shown."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import settings_store
from core.extensions import db
from core.time import to_local, utcnow
from shop import payments, payouts
from shop.order_models import FarmOrder
from tests.factories import NOW, make_order, pay
from tests.helpers import count, login_as

ALL_YEAR = "from=2026-06-01&to=2026-06-30"


@pytest.fixture
def staff(make_user):
    return make_user(role="admin", full_name="Cán bộ Lan")


@pytest.fixture
def farm(make_farm, make_product):
    """A farm with a delivered order (95.000 net, 5 % fee) and one still to deliver (47.500 net)."""
    settings_store.put("platform_fee_bp", "500")
    db.session.commit()
    farm = make_farm(name="Vườn dứa Anh An", bank_bin="970405", bank_account_number="2500205110001")
    product = make_product(farm=farm, price_vnd=25000, stock=500, unit="kg")
    delivered = pay(make_order((product, 4))).farm_orders[0]
    pay(make_order((product, 2)))
    payments.move_farm_order(delivered, "ready", farm.owner, NOW)
    payments.move_farm_order(delivered, "completed", farm.owner, NOW)
    db.session.commit()
    return farm


def _post(client, farm, token="tok-1", **fields):
    data = {"amount_vnd": "400.000", "paid_on": to_local(utcnow()).date().isoformat(),
            "bank_reference": "FT26177000001", "form_token": token, **fields}
    return client.post(f"/admin/payouts/{farm.id}?lang=en", data=data)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("\xa0", " ")


def test_the_farmer_sees_pending_and_available(client, farm):
    login_as(client, farm.owner)
    page = _text(client.get(f"/farmer/dashboard?{ALL_YEAR}&lang=en"))
    assert "Pending: orders not delivered yet</dt><dd>₫47,500" in page
    assert "Available: to be paid to you</dt><dd><strong>₫95,000" in page
    assert "You owe the market" not in page
    statement = _text(client.get(f"/farmer/statement?{ALL_YEAR}&lang=en"))
    assert "₫47,500" in statement and "₫95,000" in statement


def test_staff_see_pending_and_available_and_the_code_pays_what_is_available(client, farm, staff):
    login_as(client, staff)
    listing = _text(client.get("/admin/payouts?lang=en"))
    assert '<td data-label="Pending">₫47,500</td> <td data-label="Available"><strong>₫95,000</strong>' in listing
    page = _text(client.get(f"/admin/payouts/{farm.id}?lang=en"))
    assert "Available to pay out</dt><dd><strong>₫95,000" in page
    assert "Pending (orders not delivered yet)</dt><dd>₫47,500" in page
    assert 'id="qr-amount" name="amount" inputmode="numeric" value="95000"' in page
    assert "and the transfer content." in page and "₫95,000 and the transfer content" in page
    # A code for more than is available is not made: it pays what is available.
    more = _text(client.get(f"/admin/payouts/{farm.id}?amount=142.500&lang=en"))
    assert 'value="95000"' in more and 'value="142500"' not in more


def test_a_payout_above_what_is_available_is_refused_and_the_available_amount_suggested(client, farm, staff):
    login_as(client, staff)
    response = _post(client, farm, amount_vnd="142.500")
    assert response.status_code == 400
    page = _text(response)
    assert "is available to pay out now" in page and "Pay at most" in page
    assert re.search(r'name="amount_vnd"[^>]*value="95000"', page)
    assert count(payouts.Payout) == 0 and payouts.owed(farm.id) == 142500


def test_a_debt_is_said_plainly_on_every_screen(client, farm, staff):
    now = utcnow()
    payouts.record_payout(farm, amount_vnd=95000, paid_on=to_local(now).date(), bank_reference="FT1",
                          form_token="t1", staff=staff, now=now)
    delivered = db.session.scalar(db.select(FarmOrder).where(FarmOrder.status == "completed"))
    payments.refund_farm_order(delivered, 40000, staff, now + timedelta(seconds=1), note="Dứa dập")
    db.session.commit()
    # 40.000 back to the buyer, 2.000 of fee back: the farm owes 38.000; 47.500 is still pending.
    login_as(client, staff)
    listing = _text(client.get("/admin/payouts?lang=en"))
    assert "Owes the market ₫38,000, taken from its next sales" in listing
    page = _text(client.get(f"/admin/payouts/{farm.id}?lang=en"))
    assert "This farm owes the market ₫38,000" in page and "it is taken from its next sales" in page
    assert "Available to pay out</dt><dd><strong>₫0" in page and "-38,000" not in page
    assert "Record the payout" not in page
    refused = _text(_post(client, farm, amount_vnd="1.000", token="t2"))
    assert "owes the market ₫38,000" in refused
    client.post("/logout")

    login_as(client, farm.owner)
    for url in (f"/farmer/dashboard?{ALL_YEAR}&lang=en", f"/farmer/statement?{ALL_YEAR}&lang=en"):
        body = _text(client.get(url))
        assert "You owe the market ₫38,000; it is taken from your next sales." in body, url
        assert "Available: to be paid to you</dt><dd><strong>₫0" in body and "-38,000" not in body
    vietnamese = _text(client.get(f"/farmer/dashboard?{ALL_YEAR}&lang=vi"))
    assert "Bạn đang nợ chợ 38.000 ₫" in vietnamese


def test_the_fee_rate_of_the_sales_is_shown(client, farm):
    login_as(client, farm.owner)
    page = _text(client.get(f"/farmer/dashboard?{ALL_YEAR}&lang=en"))
    assert "5 % of the price</th><td>₫150,000</td><td>₫7,500" in page
    statement = _text(client.get(f"/farmer/statement?{ALL_YEAR}&lang=en"))
    assert "5 % of the price" in statement
    csv_text = client.get(f"/farmer/dashboard.csv?{ALL_YEAR}&lang=en").get_data(as_text=True)
    lines = [line.split(",") for line in csv_text.splitlines()]
    assert lines[0][-1] == "Platform fee rate"
    assert {line[1]: line[-1] for line in lines[1:]} == {"Sale": "5 %", "Platform fee": "5 %"}
