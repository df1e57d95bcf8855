"""The farmer's orders: tabs, one order and its steps (ready, completed, cancelled with a refund), packing lists,
who may see them, and a constant number of queries per page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from shop import checkout, payments
from shop.ledger import LedgerEntry
from shop.order_models import FarmOrder
from shop.payment_models import Refund
from tests.factories import NOW, buyer_details, make_order, pay
from tests.helpers import PASSWORD, count, count_queries, csrf_token_from, login_as

# --- making orders with the services -------------------------------------------------------------------------

def place_order(*items, buyer: str = "Trịnh Thị Mai", phone: str = "0987 654 321", note: str = "", **order_args):
    """An order placed through checkout at NOW (tests/factories.make_order) by ``buyer``. ``items``:
    (product, quantity) or (slot, adults, children)."""
    return make_order(*items, buyer=buyer_details(buyer, phone, note=note), **order_args)


def paid_farm_order(*items, **kwargs) -> FarmOrder:
    return pay(place_order(*items, **kwargs)).farm_orders[0]


def move(farm_order, *states):
    for state in states:
        payments.move_farm_order(farm_order, state, None, NOW)
    db.session.commit()
    return farm_order


@pytest.fixture
def farm(make_farm, make_user):
    return make_farm(owner=make_user(role="farmer", full_name="Nguyễn Văn An"), name="Vườn dứa Anh An")


@pytest.fixture
def pineapples(farm, make_product):
    return make_product(farm=farm, name="Dứa Queen loại 1", price_vnd=25000, stock=100, unit="kg")


@pytest.fixture
def jam(farm, make_product):
    return make_product(farm=farm, name="Mứt dứa", price_vnd=55000, stock=100, unit="jar")


@pytest.fixture
def slot(farm, make_slot):
    return make_slot(farm=farm, starts_at=NOW + timedelta(days=3), title="Tham quan đồi dứa",
                     slug="tham-quan-doi-dua")


@pytest.fixture
def farmer(client, farm):
    login_as(client, farm.owner)
    return farm.owner


def _html(response) -> str:
    return response.get_data(as_text=True)


def _follow(client, response):
    assert response.status_code == 302, _html(response)[:300]
    return _html(client.get(response.headers["Location"]))


# --- the list ------------------------------------------------------------------------------------------------

def test_tabs_list_paid_orders_by_status_and_leave_unpaid_ones_out(client, farm, farmer, pineapples, jam):
    to_prepare = paid_farm_order((pineapples, 3), (jam, 2), buyer="Lê Thị Hoa", fulfilment="commune_pickup")
    ready = move(paid_farm_order((pineapples, 1), buyer="Phạm Văn Bình"), "ready")
    completed = move(paid_farm_order((jam, 1), buyer="Đỗ Thu Trang"), "ready", "completed")
    cancelled = paid_farm_order((pineapples, 2), buyer="Vũ Minh Khôi")
    payments.cancel_paid_farm_order(cancelled, None, NOW)
    unpaid = place_order((pineapples, 5), buyer="Chưa Trả Tiền")
    cancelled_unpaid = place_order((jam, 1), buyer="Huỷ Trước Khi Trả")
    checkout.cancel_unpaid(cancelled_unpaid, None, NOW)
    db.session.commit()

    page = _html(client.get("/farmer/orders?lang=en"))
    assert to_prepare.order.reference in page and "Lê Thị Hoa" in page
    assert "Pick up at the commune centre" in page and "2 items" in page and "185,000" in page
    for other in (ready, completed, cancelled):
        assert other.order.reference not in page
    assert unpaid.reference not in page and "Chưa Trả Tiền" not in page
    for tab, expected, absent in (("ready", ready, to_prepare), ("completed", completed, ready),
                                  ("cancelled", cancelled, completed)):
        page = _html(client.get(f"/farmer/orders?status={tab}"))
        assert expected.order.reference in page and absent.order.reference not in page
    cancelled_page = _html(client.get("/farmer/orders?status=cancelled"))
    assert cancelled_unpaid.reference not in cancelled_page and "Huỷ Trước Khi Trả" not in cancelled_page
    # A made-up tab shows the orders to prepare; a page far out of range shows the last page.
    assert to_prepare.order.reference in _html(client.get("/farmer/orders?status=nonsense&page=999"))
    # Orders not paid are not shown one by one either.
    assert client.get(f"/farmer/orders/{unpaid.farm_orders[0].id}").status_code == 404


def test_an_empty_tab_says_so_in_vietnamese(client, farmer):
    page = _html(client.get("/farmer/orders"))
    assert "Chưa có đơn nào cần chuẩn bị" in page


# --- one order -----------------------------------------------------------------------------------------------

def test_detail_shows_lines_totals_buyer_and_the_next_step(client, farmer, farm, pineapples, slot):
    farm.offers_delivery, farm.delivery_fee_vnd = True, 30000
    db.session.commit()
    farm_order = paid_farm_order((pineapples, 4), (slot, 2, 1), note="Giao buổi sáng, số 12 thôn Kép",
                                 fulfilment="delivery")
    page = _html(client.get(f"/farmer/orders/{farm_order.id}?lang=en"))
    assert farm_order.order.reference in page
    assert "Dứa Queen loại 1" in page and "4 kg" in page and "25,000" in page and "100,000" in page
    assert "Tham quan đồi dứa" in page and "2 adults, 1 children" in page and "350,000" in page
    assert "30,000" in page and "480,000" in page  # delivery fee and total
    assert 'href="tel:0987654321"' in page and "mailto:mai@example.vn" in page and "Trịnh Thị Mai" in page
    assert "Giao buổi sáng, số 12 thôn Kép" in page and "Delivery" in page
    assert f"/farmer/orders/{farm_order.id}/ready" in page and f"/farmer/orders/{farm_order.id}/cancel" in page
    assert f"/farmer/orders/{farm_order.id}/complete" not in page


def test_ready_then_completed_is_audit_logged_and_tells_the_buyer(client, farmer, pineapples):
    farm_order = paid_farm_order((pineapples, 2))
    page = _follow(client, client.post(f"/farmer/orders/{farm_order.id}/ready"))
    assert "Đã đánh dấu sẵn sàng" in page
    assert f"/farmer/orders/{farm_order.id}/complete" in page and f"/farmer/orders/{farm_order.id}/ready" not in page
    assert count(Notification, Notification.kind == "farm_order_ready") == 1
    _follow(client, client.post(f"/farmer/orders/{farm_order.id}/complete"))
    db.session.refresh(farm_order)
    assert farm_order.status == "completed"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "farm_order")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.from_state, e.to_state, e.actor_id, e.on_behalf_of_id) for e in entries] == [
        ("paid", "ready", farmer.id, None), ("ready", "completed", farmer.id, None)]


def test_cancel_asks_for_a_reason_then_refunds_reverses_the_ledger_and_gives_stock_back(client, farmer, pineapples):
    farm_order = paid_farm_order((pineapples, 6))
    assert pineapples.stock == 94
    page = _html(client.get(f"/farmer/orders/{farm_order.id}/cancel?lang=en"))
    assert "150,000 in full" in page and "bank account" in page
    page = _html(client.post(f"/farmer/orders/{farm_order.id}/cancel", data={}))
    assert "Please choose why you are cancelling." in page
    assert farm_order.status == "paid" and count(Refund) == 0
    page = _follow(client, client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "sold_out"}))
    assert "The order is cancelled. Commune staff will transfer" in page and "150,000" in page
    db.session.refresh(farm_order)
    refund = db.session.scalar(select(Refund))
    assert (farm_order.status, farm_order.refunded_vnd) == ("cancelled", 150000)
    assert (refund.amount_vnd, refund.method, refund.status, refund.reason) == (150000, "vietqr", "pending",
                                                                                "farm_sold_out")
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_vnd))
                             .where(LedgerEntry.farm_id == farm_order.farm_id)) == 0
    assert pineapples.stock == 100
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farm_order.cancelled"))
    assert (entry.actor_id, entry.from_state, entry.to_state) == (farmer.id, "paid", "cancelled")
    assert count(Notification, Notification.kind == "farm_order_cancelled") == 1
    assert "I do not have enough of the product" in _html(client.get(f"/farmer/orders/{farm_order.id}"))


def test_cancelling_a_card_order_sends_the_refund_to_stripe_after_the_commit(app, client, farmer, pineapples,
                                                                             monkeypatch):
    farm_order = paid_farm_order((pineapples, 2), method="card")
    seen = []

    def fake_refund(intent_id, amount_vnd, key):
        with db.engine.connect() as other:  # what another connection sees: the cancellation is committed
            seen.append(other.execute(text("SELECT status FROM farm_orders WHERE id = :id"),
                                      {"id": farm_order.id}).scalar())
        return "re_test_1"

    monkeypatch.setattr("shop.stripe.refund", fake_refund)
    page = _follow(client, client.post(f"/farmer/orders/{farm_order.id}/cancel?lang=en",
                                       data={"reason": "cannot_prepare"}))
    assert "goes back to the buyer&#39;s card" in page  # the page escapes the apostrophe
    assert seen == [], "Stripe is not called while the farmer waits"
    assert app.test_cli_runner().invoke(args=["send-refunds"]).exit_code == 0
    assert seen == ["cancelled"]
    refund = db.session.scalar(select(Refund))
    assert (refund.status, refund.stripe_refund_id, refund.method) == ("done", "re_test_1", "card")


def test_steps_that_do_not_follow_are_refused_and_change_nothing(client, farmer, pineapples):
    completed = move(paid_farm_order((pineapples, 1)), "ready", "completed")
    ready = move(paid_farm_order((pineapples, 1)), "ready")
    audit_before, stock_before = count(AuditEntry), pineapples.stock
    page = _follow(client, client.post(f"/farmer/orders/{completed.id}/ready?lang=en"))
    assert "This order is now “Completed”, so that step is not possible. Nothing was changed." in page
    page = _follow(client, client.post(f"/farmer/orders/{ready.id}/cancel?lang=en", data={"reason": "other"}))
    assert "This order is now “Ready”" in page
    assert client.get(f"/farmer/orders/{ready.id}/cancel").status_code == 302
    db.session.refresh(completed)
    db.session.refresh(ready)
    assert (completed.status, ready.status) == ("completed", "ready")
    assert count(AuditEntry) == audit_before and count(Refund) == 0 and pineapples.stock == stock_before


def test_a_second_click_changes_nothing_more(client, farmer, pineapples):
    farm_order = paid_farm_order((pineapples, 1))
    client.post(f"/farmer/orders/{farm_order.id}/ready")
    page = _follow(client, client.post(f"/farmer/orders/{farm_order.id}/ready?lang=en"))
    assert "This order is now “Ready”" in page
    assert count(AuditEntry, AuditEntry.action == "farm_order.ready") == 1
    assert count(Notification, Notification.kind == "farm_order_ready") == 1
    client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "other"})
    assert count(Refund) == 0


def test_a_step_lost_to_a_concurrent_change_is_reported(client, farmer, pineapples, monkeypatch):
    """Between reading the order and the guarded UPDATE, another request moved it: the service refuses."""
    farm_order = paid_farm_order((pineapples, 1))
    real_move = payments.move_farm_order

    def move_after_someone_else(fo, to_state, actor, now, **kwargs):
        db.session.execute(text("UPDATE farm_orders SET status = 'ready' WHERE id = :id"), {"id": fo.id})
        return real_move(fo, to_state, actor, now, **kwargs)

    monkeypatch.setattr(payments, "move_farm_order", move_after_someone_else)
    page = _follow(client, client.post(f"/farmer/orders/{farm_order.id}/ready?lang=en"))
    assert "This order was changed meanwhile" in page
    assert count(AuditEntry, AuditEntry.action == "farm_order.ready") == 0
    db.session.refresh(farm_order)
    assert farm_order.status == "paid", "the failed attempt was rolled back"


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_steps_need_the_page_token(self, client, farm, pineapples):
        farm_order = paid_farm_order((pineapples, 1))
        token = csrf_token_from(_html(client.get("/login")))
        client.post("/login", data={"email": farm.owner.email, "password": PASSWORD, "csrf_token": token})
        assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 400
        assert client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "other"}).status_code == 400
        db.session.refresh(farm_order)
        assert farm_order.status == "paid"
        token = csrf_token_from(_html(client.get(f"/farmer/orders/{farm_order.id}")))
        client.post(f"/farmer/orders/{farm_order.id}/ready", data={"csrf_token": token})
        db.session.refresh(farm_order)
        assert farm_order.status == "ready"


# --- packing lists ------------------------------------------------------------------------------------------

def test_packing_list_of_one_order(client, farmer, farm, pineapples, jam):
    farm_order = paid_farm_order((pineapples, 3), (jam, 2), note="Gói cẩn thận", buyer="Lê Thị Hoa")
    page = _html(client.get(f"/farmer/orders/{farm_order.id}/packing-list?lang=en"))
    assert farm.name in page and farm_order.order.reference in page and "Lê Thị Hoa" in page
    assert "Pick up at the farm" in page and "Gói cẩn thận" in page
    assert "3 kg" in page and "2 jar" in page and page.count('type="checkbox"') == 2


def test_todays_packing_list_adds_up_the_orders_to_prepare(client, farmer, pineapples, jam, slot):
    first = paid_farm_order((pineapples, 3), (jam, 1), (slot, 2, 1), buyer="Lê Thị Hoa")
    second = paid_farm_order((pineapples, 2), buyer="Phạm Văn Bình")
    ready = move(paid_farm_order((jam, 7), buyer="Đã Sẵn Sàng"), "ready")
    visit_only = paid_farm_order((slot, 4, 0), buyer="Chỉ Đi Tham Quan")
    page = _html(client.get("/farmer/orders/packing-list?lang=en"))
    totals = page.split("All together")[1].split(first.order.reference)[0]
    assert "5 kg" in totals and "1 jar" in totals and "7 jar" not in totals and "Tham quan" not in totals
    assert first.order.reference in page and second.order.reference in page
    assert "Visit, not packed: Tham quan đồi dứa, 2 adults, 1 children" in page and page.count('type="checkbox"') == 5
    for absent in (ready, visit_only):
        assert absent.order.reference not in page
    assert "/farmer/orders/packing-list" in _html(client.get("/farmer/orders"))


# --- who may see what ----------------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in(client, pineapples):
    farm_order = paid_farm_order((pineapples, 1))
    for url in ("/farmer/orders", f"/farmer/orders/{farm_order.id}", "/farmer/orders/packing-list",
                f"/farmer/orders/{farm_order.id}/packing-list"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 302
    assert farm_order.status == "paid"


def test_buyers_are_refused(client, make_user, pineapples):
    farm_order = paid_farm_order((pineapples, 1))
    login_as(client, make_user(role="buyer"))
    for url in ("/farmer/orders", f"/farmer/orders/{farm_order.id}", "/farmer/orders/packing-list"):
        assert client.get(url).status_code == 403
    assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 403
    assert farm_order.status == "paid"


def test_another_farmer_does_not_see_the_order(client, make_farm, pineapples):
    farm_order = paid_farm_order((pineapples, 1))
    other = make_farm()
    login_as(client, other.owner)
    assert farm_order.order.reference not in _html(client.get("/farmer/orders"))
    for url in (f"/farmer/orders/{farm_order.id}", f"/farmer/orders/{farm_order.id}/packing-list",
                f"/farmer/orders/{farm_order.id}/cancel"):
        assert client.get(url).status_code == 404
    assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 404
    assert client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "other"}).status_code == 404
    assert farm_order.status == "paid" and count(Refund) == 0
    assert farm_order.order.reference not in _html(client.get("/farmer/orders/packing-list"))


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_a_farmer_whose_farm_is_not_approved_sees_why(client, make_farm, make_user, status):
    farm = make_farm(owner=make_user(role="farmer"), status=status)
    login_as(client, farm.owner)
    response = client.get("/farmer/orders")
    assert response.status_code == 403
    assert ("đang chờ cán bộ xã" if status == "pending" else "bị tạm dừng") in _html(response)


def test_staff_act_for_a_farm_and_are_audit_logged_on_its_behalf(client, make_user, make_farm, farm, pineapples,
                                                                 grant_consent):
    farm_order = paid_farm_order((pineapples, 1), buyer="Lê Thị Hoa")
    other_farm = make_farm(name="Vườn dứa Khác")
    pending_farm = make_farm(status="pending", name="Vườn Chờ Duyệt")
    staff = make_user(role="admin")
    login_as(client, staff)
    assert client.get(f"/farmer/orders?farm={farm.id}").status_code == 403, "no consent yet"
    grant_consent(farm, staff)
    grant_consent(other_farm, staff)
    choose = _html(client.get("/farmer/orders"))
    assert farm.name in choose and other_farm.name in choose and pending_farm.name not in choose
    page = _html(client.get(f"/farmer/orders?farm={farm.id}"))
    assert "Lê Thị Hoa" in page and f"/farmer/orders/{farm_order.id}?farm={farm.id}" in page
    # A notice link without ?farm= leads to the order's farm.
    response = client.get(f"/farmer/orders/{farm_order.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?farm={farm.id}")
    assert client.get(f"/farmer/orders/{farm_order.id}?farm={other_farm.id}").status_code == 404
    assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 404
    assert client.get(f"/farmer/orders?farm={pending_farm.id}").status_code == 403
    assert client.get("/farmer/orders?farm=999999").status_code == 404

    client.post(f"/farmer/orders/{farm_order.id}/ready?farm={farm.id}")
    db.session.refresh(farm_order)
    assert farm_order.status == "ready"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farm_order.ready"))
    assert (entry.actor_id, entry.on_behalf_of_id) == (staff.id, farm.owner_id)


def test_staff_can_cancel_and_refund_for_a_suspended_farm(client, make_user, farm, pineapples, grant_consent):
    farm_order = paid_farm_order((pineapples, 2))
    farm.status = "suspended"
    db.session.commit()
    staff = make_user(role="admin")
    grant_consent(farm, staff)
    login_as(client, staff)
    assert farm_order.order.reference in _html(client.get(f"/farmer/orders?farm={farm.id}"))
    client.post(f"/farmer/orders/{farm_order.id}/cancel?farm={farm.id}", data={"reason": "other"})
    db.session.refresh(farm_order)
    assert farm_order.status == "cancelled" and count(Refund) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farm_order.cancelled"))
    assert (entry.actor_id, entry.on_behalf_of_id) == (staff.id, farm.owner_id)


# --- queries -------------------------------------------------------------------------------------------------

def _queries(client, url: str) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_pages_make_the_same_number_of_queries_for_2_and_30_orders(client, farmer, pineapples, jam):
    farm_orders = [paid_farm_order((pineapples, 1), (jam, 1)) for _ in range(2)]
    urls = ["/farmer/orders", "/farmer/orders/packing-list", "/farmer/orders?status=ready"]
    move(farm_orders[1], "ready")
    with_two = {url: _queries(client, url) for url in urls}
    detail_small = _queries(client, f"/farmer/orders/{farm_orders[0].id}")

    more = [paid_farm_order((pineapples, 1), (jam, 1)) for _ in range(29)]
    for farm_order in more[:15]:
        move(farm_order, "ready")
    big = paid_farm_order(*[(pineapples, 1), (jam, 1)])
    with_thirty = {url: _queries(client, url) for url in urls}
    assert with_thirty == with_two
    assert max(with_two.values()) <= 8
    assert _queries(client, f"/farmer/orders/{big.id}") == detail_small

    # 16 ready orders fit on one page; 16 to prepare too. 31 to prepare make two pages.
    for _ in range(15):
        paid_farm_order((pineapples, 1))
    first_page = _html(client.get("/farmer/orders?lang=en"))
    assert "Page 1 of 2" in first_page and first_page.count("<h3>") == 30
    assert _html(client.get("/farmer/orders?page=2")).count("<h3>") == 1
