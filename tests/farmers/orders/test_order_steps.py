"""The farmer's orders: tabs, one order and its steps (ready, completed, cancelled with a refund), packing
lists."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from shop import checkout, payments
from shop.ledger import LedgerEntry
from shop.payment_models import Refund
from tests.factories import KEP_ADDRESS, NOW
from tests.farmers.orders.helpers import follow, html, move, paid_farm_order, place_order
from tests.helpers import PASSWORD, count, csrf_token_from

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

    page = html(client.get("/farmer/orders?lang=en"))
    assert to_prepare.order.reference in page and "Lê Thị Hoa" in page
    assert "Pick up at the commune centre" in page and "2 items" in page and "185,000" in page
    for other in (ready, completed, cancelled):
        assert other.order.reference not in page
    assert unpaid.reference not in page and "Chưa Trả Tiền" not in page
    for tab, expected, absent in (("ready", ready, to_prepare), ("completed", completed, ready),
                                  ("cancelled", cancelled, completed)):
        page = html(client.get(f"/farmer/orders?status={tab}"))
        assert expected.order.reference in page and absent.order.reference not in page
    cancelled_page = html(client.get("/farmer/orders?status=cancelled"))
    assert cancelled_unpaid.reference not in cancelled_page and "Huỷ Trước Khi Trả" not in cancelled_page
    # A made-up tab shows the orders to prepare; a page far out of range shows the last page.
    assert to_prepare.order.reference in html(client.get("/farmer/orders?status=nonsense&page=999"))
    # Orders not paid are not shown one by one either.
    assert client.get(f"/farmer/orders/{unpaid.farm_orders[0].id}").status_code == 404


def test_an_empty_tab_says_so_in_vietnamese(client, farmer):
    page = html(client.get("/farmer/orders"))
    assert "Chưa có đơn nào cần chuẩn bị" in page


# --- one order -----------------------------------------------------------------------------------------------

def test_detail_shows_lines_totals_buyer_and_the_next_step(client, farmer, farm, pineapples, slot):
    farm.offers_delivery, farm.delivery_fee_vnd = True, 30000
    db.session.commit()
    farm_order = paid_farm_order((pineapples, 4), (slot, 2, 1), note="Giao buổi sáng, số 12 thôn Kép",
                                 fulfilment="delivery", destination=KEP_ADDRESS)
    page = html(client.get(f"/farmer/orders/{farm_order.id}?lang=en"))
    assert farm_order.order.reference in page
    assert "Dứa Queen loại 1" in page and "4 kg" in page and "25,000" in page and "100,000" in page
    assert "Tham quan đồi dứa" in page and "2 adults, 1 child" in page and "350,000" in page
    assert "30,000" in page and "480,000" in page  # delivery fee and total
    assert 'href="tel:0987654321"' in page and "mailto:mai@example.vn" in page and "Trịnh Thị Mai" in page
    assert "Giao buổi sáng, số 12 thôn Kép" in page and "Delivery" in page
    assert "Số 12, thôn Kép 2, Xã Kép, Bắc Ninh" in page  # where to deliver (a delivery now needs an address)
    assert f"/farmer/orders/{farm_order.id}/ready" in page and f"/farmer/orders/{farm_order.id}/cancel" in page
    assert f"/farmer/orders/{farm_order.id}/complete" not in page


def test_ready_then_completed_is_audit_logged_and_tells_the_buyer(client, farmer, pineapples):
    farm_order = paid_farm_order((pineapples, 2))
    page = follow(client, client.post(f"/farmer/orders/{farm_order.id}/ready"))
    assert "Đã đánh dấu sẵn sàng" in page
    assert f"/farmer/orders/{farm_order.id}/complete" in page and f"/farmer/orders/{farm_order.id}/ready" not in page
    assert count(Notification, Notification.kind == "farm_order_ready") == 1
    follow(client, client.post(f"/farmer/orders/{farm_order.id}/complete"))
    db.session.refresh(farm_order)
    assert farm_order.status == "completed"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "farm_order")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.from_state, e.to_state, e.actor_id, e.on_behalf_of_id) for e in entries] == [
        ("paid", "ready", farmer.id, None), ("ready", "completed", farmer.id, None)]


def test_cancel_asks_for_a_reason_then_refunds_reverses_the_ledger_and_gives_stock_back(client, farmer, pineapples):
    farm_order = paid_farm_order((pineapples, 6))
    assert pineapples.stock == 94
    page = html(client.get(f"/farmer/orders/{farm_order.id}/cancel?lang=en"))
    assert "150,000 in full" in page and "bank account" in page
    page = html(client.post(f"/farmer/orders/{farm_order.id}/cancel", data={}))
    assert "Please choose why you are cancelling." in page
    assert farm_order.status == "paid" and count(Refund) == 0
    page = follow(client, client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "sold_out"}))
    assert "The order is cancelled. Commune staff will transfer" in page and "150,000" in page
    db.session.refresh(farm_order)
    refund = db.session.scalar(select(Refund))
    assert (farm_order.status, farm_order.refunded_vnd) == ("cancelled", 150000)
    assert (refund.amount_vnd, refund.provider, refund.status, refund.reason) == (150000, "vietqr", "pending",
                                                                                "farm_sold_out")
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_vnd))
                             .where(LedgerEntry.farm_id == farm_order.farm_id)) == 0
    assert pineapples.stock == 100
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "farm_order.cancelled"))
    assert (entry.actor_id, entry.from_state, entry.to_state) == (farmer.id, "paid", "cancelled")
    assert count(Notification, Notification.kind == "farm_order_cancelled") == 1
    assert "I do not have enough of the product" in html(client.get(f"/farmer/orders/{farm_order.id}"))


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
    page = follow(client, client.post(f"/farmer/orders/{farm_order.id}/cancel?lang=en",
                                       data={"reason": "cannot_prepare"}))
    assert "goes back to the buyer&#39;s card" in page  # the page escapes the apostrophe
    assert seen == [], "Stripe is not called while the farmer waits"
    assert app.test_cli_runner().invoke(args=["send-refunds"]).exit_code == 0
    assert seen == ["cancelled"]
    refund = db.session.scalar(select(Refund))
    assert (refund.status, refund.provider_ref, refund.provider) == ("done", "re_test_1", "card")


def test_steps_that_do_not_follow_are_refused_and_change_nothing(client, farmer, pineapples):
    completed = move(paid_farm_order((pineapples, 1)), "ready", "completed")
    ready = move(paid_farm_order((pineapples, 1)), "ready")
    audit_before, stock_before = count(AuditEntry), pineapples.stock
    page = follow(client, client.post(f"/farmer/orders/{completed.id}/ready?lang=en"))
    assert "This order is now “Completed”, so that step is not possible. Nothing was changed." in page
    page = follow(client, client.post(f"/farmer/orders/{ready.id}/cancel?lang=en", data={"reason": "other"}))
    assert "This order is now “Ready”" in page
    assert client.get(f"/farmer/orders/{ready.id}/cancel").status_code == 302
    db.session.refresh(completed)
    db.session.refresh(ready)
    assert (completed.status, ready.status) == ("completed", "ready")
    assert count(AuditEntry) == audit_before and count(Refund) == 0 and pineapples.stock == stock_before


def test_a_second_click_changes_nothing_more(client, farmer, pineapples):
    farm_order = paid_farm_order((pineapples, 1))
    client.post(f"/farmer/orders/{farm_order.id}/ready")
    page = follow(client, client.post(f"/farmer/orders/{farm_order.id}/ready?lang=en"))
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
    page = follow(client, client.post(f"/farmer/orders/{farm_order.id}/ready?lang=en"))
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
        token = csrf_token_from(html(client.get("/login")))
        client.post("/login", data={"email": farm.owner.email, "password": PASSWORD, "csrf_token": token})
        assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 400
        assert client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "other"}).status_code == 400
        db.session.refresh(farm_order)
        assert farm_order.status == "paid"
        token = csrf_token_from(html(client.get(f"/farmer/orders/{farm_order.id}")))
        client.post(f"/farmer/orders/{farm_order.id}/ready", data={"csrf_token": token})
        db.session.refresh(farm_order)
        assert farm_order.status == "ready"


# --- packing lists ------------------------------------------------------------------------------------------

def test_packing_list_of_one_order(client, farmer, farm, pineapples, jam):
    farm_order = paid_farm_order((pineapples, 3), (jam, 2), note="Gói cẩn thận", buyer="Lê Thị Hoa")
    page = html(client.get(f"/farmer/orders/{farm_order.id}/packing-list?lang=en"))
    assert farm.name in page and farm_order.order.reference in page and "Lê Thị Hoa" in page
    assert "Pick up at the farm" in page and "Gói cẩn thận" in page
    assert "3 kg" in page and "2 jar" in page and page.count('type="checkbox"') == 2


def test_todays_packing_list_adds_up_the_orders_to_prepare(client, farmer, pineapples, jam, slot):
    first = paid_farm_order((pineapples, 3), (jam, 1), (slot, 2, 1), buyer="Lê Thị Hoa")
    second = paid_farm_order((pineapples, 2), buyer="Phạm Văn Bình")
    ready = move(paid_farm_order((jam, 7), buyer="Đã Sẵn Sàng"), "ready")
    visit_only = paid_farm_order((slot, 4, 0), buyer="Chỉ Đi Tham Quan")
    page = html(client.get("/farmer/orders/packing-list?lang=en"))
    totals = page.split("All together")[1].split(first.order.reference)[0]
    assert "5 kg" in totals and "1 jar" in totals and "7 jar" not in totals and "Tham quan" not in totals
    assert first.order.reference in page and second.order.reference in page
    assert "Visit, not packed: Tham quan đồi dứa, 2 adults, 1 child" in page and page.count('type="checkbox"') == 5
    for absent in (ready, visit_only):
        assert absent.order.reference not in page
    assert "/farmer/orders/packing-list" in html(client.get("/farmer/orders"))
