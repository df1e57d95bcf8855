"""The farmer's orders: who may see them, and a constant number of queries per page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from shop.payment_models import Refund
from tests.farmers.orders.helpers import html, move, paid_farm_order
from tests.helpers import count, count_queries, login_as

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
    assert farm_order.order.reference not in html(client.get("/farmer/orders"))
    for url in (f"/farmer/orders/{farm_order.id}", f"/farmer/orders/{farm_order.id}/packing-list",
                f"/farmer/orders/{farm_order.id}/cancel"):
        assert client.get(url).status_code == 404
    assert client.post(f"/farmer/orders/{farm_order.id}/ready").status_code == 404
    assert client.post(f"/farmer/orders/{farm_order.id}/cancel", data={"reason": "other"}).status_code == 404
    assert farm_order.status == "paid" and count(Refund) == 0
    assert farm_order.order.reference not in html(client.get("/farmer/orders/packing-list"))


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_a_farmer_whose_farm_is_not_approved_sees_why(client, make_farm, make_user, status):
    farm = make_farm(owner=make_user(role="farmer"), status=status)
    login_as(client, farm.owner)
    response = client.get("/farmer/orders")
    assert response.status_code == 403
    assert ("đang chờ cán bộ xã" if status == "pending" else "bị tạm dừng") in html(response)


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
    choose = html(client.get("/farmer/orders"))
    assert farm.name in choose and other_farm.name in choose and pending_farm.name not in choose
    page = html(client.get(f"/farmer/orders?farm={farm.id}"))
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
    assert farm_order.order.reference in html(client.get(f"/farmer/orders?farm={farm.id}"))
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
    first_page = html(client.get("/farmer/orders?lang=en"))
    assert "Page 1 of 2" in first_page and first_page.count("<h3>") == 30
    assert html(client.get("/farmer/orders?page=2")).count("<h3>") == 1
