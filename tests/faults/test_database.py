"""The database goes away in the middle of requests.

What must hold: the user gets the friendly 503 page (or a 503 JSON answer on the webhooks, so the sender
retries), nothing is half-written (no order without its lines, no stock taken for nothing, the guest's
cart kept), and the next request works as soon as the database is back.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json

import pytest

from core.extensions import db
from shop.order_models import Order
from tests.faults.conftest import snapshot
from tests.helpers import login_as, requires_postgres
from tests.shop.test_cart_views import add, page
from tests.shop.test_checkout_views import open_checkout, placed_order, submit

UNAVAILABLE_EN = ("The market is briefly unavailable", "Please try again in a minute.")
UNAVAILABLE_VI = "Chợ tạm thời gián đoạn"


def fill_cart(client, market) -> None:
    pineapples, jam = market.products
    assert add(client, pineapples, "4").status_code == 302
    assert add(client, jam, "2").status_code == 302
    response = client.post(f"/tours/{market.slot.tour.slug}/book",
                           data={"slot": market.slot.id, "adults": "2", "children": "1"})
    assert response.status_code == 302


def assert_unavailable_page(response, english: bool = True) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    text = page(response)
    if english:
        assert all(part in text for part in UNAVAILABLE_EN), text[:2000]
    else:
        assert UNAVAILABLE_VI in text, text[:2000]


def assert_placed_once(response, market, before: dict) -> Order:
    order = placed_order()
    assert response.status_code == 302 and f"/orders/{order.public_id}" in response.headers["Location"]
    pineapples, jam = market.products
    after = snapshot()
    assert after["stock"] == {pineapples.id: before["stock"][pineapples.id] - 4, jam.id: before["stock"][jam.id] - 2}
    assert after["seats"] == {market.slot.id: 3}
    assert len(order.farm_orders) == 2 and sum(len(fo.lines) for fo in order.farm_orders) == 3
    return order


@pytest.mark.parametrize("who", ["guest", "buyer"])
def test_the_database_dropping_at_any_statement_of_a_checkout_leaves_nothing_half_written(
        client, market, faults, make_user, who):
    """Every statement of the checkout request in turn: the connection dies just as it runs."""
    user = None
    if who == "buyer":
        user = make_user()
        login_as(client, user)
    client.get("/?lang=en")
    fill_cart(client, market)
    values = open_checkout(client)
    before = snapshot(client, user)
    assert before["cart"]
    failed_at = []
    for n in itertools.count(1):
        assert n < 200, "the checkout never got through"
        with faults.fail_statement(n) as fired:
            response = submit(client, values)
        if not fired:
            break
        assert_unavailable_page(response)
        assert snapshot(client, user) == before, f"statement {n} left something behind: {fired[0][:200]}"
        failed_at.append(fired[0].split()[0])
    # Once nothing fails, the same page places the order, once.
    assert_placed_once(response, market, before)
    assert snapshot(client, user)["cart"] in ({}, 0)
    # Every kind of statement of a checkout was hit: reads, the guarded stock/seat UPDATEs, the INSERTs.
    assert {"SELECT", "UPDATE", "INSERT"} <= set(failed_at) and len(failed_at) >= 10, failed_at


def test_a_commit_that_fails_before_the_server_saves_leaves_nothing(client, market, faults):
    fill_cart(client, market)
    client.get("/?lang=en")
    values = open_checkout(client)
    before = snapshot(client)
    with faults.fail_commit() as fired:
        response = submit(client, values)
    assert fired and snapshot(client) == before
    assert_unavailable_page(response)
    assert_placed_once(submit(client, values), market, before)


def test_a_commit_whose_answer_is_lost_is_found_again_not_placed_twice(client, market, faults):
    """The server committed, but the connection died before saying so: the buyer saw the 503 page.
    Sending the same checkout page again leads to that order (its checkout token), not to a second one."""
    fill_cart(client, market)
    client.get("/?lang=en")
    values = open_checkout(client)
    before = snapshot(client)
    with faults.fail_commit(after_commit=True) as fired:
        response = submit(client, values)
    assert fired
    assert_unavailable_page(response)
    again = submit(client, values)
    order = assert_placed_once(again, market, before)
    assert f"key={order.secret}" in again.headers["Location"]
    assert snapshot(client)["cart"] == {}, "the guest's cart still holds what was ordered"


def test_while_the_database_is_down_every_page_says_so_and_it_recovers(client, market, faults, make_user):
    buyer = make_user()
    login_as(client, buyer)
    fill_cart(client, market)
    values = open_checkout(client)
    before = snapshot(client, buyer)
    pineapples = market.products[0]
    product_page, product_id = f"/products/{pineapples.slug}", str(pineapples.id)
    with faults.down():
        for url in ("/", "/products?q=dua", product_page, "/tours", "/cart", "/checkout", "/orders", "/account"):
            assert_unavailable_page(client.get(url), english=False)
        assert_unavailable_page(client.get("/products?lang=en"))
        assert_unavailable_page(submit(client, values), english=False)
        assert_unavailable_page(client.post("/cart/add", data={"product_id": product_id, "quantity": "1"}),
                                english=False)
    assert snapshot(client, buyer) == before
    # The database is back: the next requests work, and the buyer is still logged in with the same cart.
    assert client.get("/").status_code == 200
    assert client.get("/account").status_code == 200
    assert_placed_once(submit(client, values), market, before)


def _signed(app, body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    signature = hmac.new(app.config["BANK_WEBHOOK_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Signature": signature, "Content-Type": "application/json"}


def test_a_bank_notification_during_an_outage_is_refused_and_taken_when_the_bank_retries(
        app, client, market, faults):
    app.config["BANK_WEBHOOK_SECRET"] = "bank-secret-for-the-fault-tests"
    fill_cart(client, market)
    submit(client, open_checkout(client))
    order = placed_order()
    raw, headers = _signed(app, {"transaction_id": "FT26152000001", "amount": order.total_vnd,
                                 "content": f"{order.reference} thanh toan"})
    with faults.down():
        response = client.post("/payments/bank/notify", data=raw, headers=headers)
        assert response.status_code == 503 and response.is_json and response.headers["Retry-After"] == "30"
    db.session.expire_all()
    assert order.status == "pending_payment"
    # Mid-request this time: the connection dies while the transfer is being recorded.
    with faults.fail_statement(3) as fired:
        response = client.post("/payments/bank/notify", data=raw, headers=headers)
    assert fired and response.status_code == 503 and response.is_json
    db.session.expire_all()
    assert order.status == "pending_payment"
    response = client.post("/payments/bank/notify", data=raw, headers=headers)
    assert response.json == {"status": "matched", "order": order.reference}
    assert client.post("/payments/bank/notify", data=raw, headers=headers).json == {"status": "duplicate"}
    db.session.expire_all()
    assert order.status == "paid"


@requires_postgres
def test_after_postgresql_drops_every_connection_the_next_request_just_works(client, market, faults):
    """pool_pre_ping: a pooled connection that died while idle is replaced before it is used."""
    fill_cart(client, market)
    values = open_checkout(client)
    before = snapshot(client)
    assert client.get("/").status_code == 200
    assert faults.kill_idle_connections() >= 1
    assert client.get("/").status_code == 200
    assert faults.kill_idle_connections() >= 1
    assert_placed_once(submit(client, values), market, before)


@requires_postgres
class TestWithoutPrePing:
    @pytest.fixture
    def app_config(self):
        return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}}

    def test_a_dead_pooled_connection_costs_one_friendly_page_then_it_works(self, client, market, faults):
        fill_cart(client, market)
        client.get("/?lang=en")
        values = open_checkout(client)
        before = snapshot(client)
        assert faults.kill_idle_connections() >= 1
        assert_unavailable_page(submit(client, values))
        assert snapshot(client) == before
        assert_placed_once(submit(client, values), market, before)
