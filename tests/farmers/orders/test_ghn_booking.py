"""Sending a paid parcel with GHN: the farmer's "Send with GHN" button books the pickup (create order as GHN
documents it), a refusal or a timeout books nothing and says why, only the farm's own farmer (or staff) may book;
GHN's status webhook moves the parcel on, refuses a wrong token, and the buyer is told once when it leaves."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from shop.carriers import ghn, ghn_places
from shop.shipment_models import Shipment
from tests.factories import HANOI_ADDRESS
from tests.farmers.orders.helpers import follow, html, paid_farm_order
from tests.helpers import count, login_as
from tests.shop.ghn_fake import WEBHOOK_TOKEN, _ghn_http, ghn_config, ghn_server, sample  # noqa: F401

CREATE = "/v2/shipping-order/create"


@pytest.fixture
def app_config(_ghn_http):  # noqa: F811
    return ghn_config(_ghn_http[1])


@pytest.fixture
def parcel(farm, pineapples, ghn_server):  # noqa: F811
    farm.ships_parcels = True
    db.session.commit()
    ghn.forget_quotes()
    ghn_places.refresh()
    farm_order = paid_farm_order((pineapples, 2), fulfilment="delivery", destination=HANOI_ADDRESS)
    ghn_server.requests.clear()
    assert (farm_order.delivery_method, farm_order.delivery_fee_vnd) == ("parcel", 27000), "GHN's fee"
    return farm_order


def book(client, farm_order):
    return client.post(f"/farmer/orders/{farm_order.id}/ship")


def test_the_farmer_books_the_pickup_and_both_pages_show_the_tracking_code(client, farmer, parcel, ghn_server):  # noqa: F811
    page = html(client.get(f"/farmer/orders/{parcel.id}?lang=en"))
    assert f"/farmer/orders/{parcel.id}/ship" in page and "Send with GHN" in page
    page = follow(client, book(client, parcel))
    shipment = db.session.query(Shipment).one()
    assert (shipment.farm_order_id, shipment.carrier, shipment.code, shipment.status) == (
        parcel.id, "ghn", "GHN00001", "ready_to_pick")
    assert shipment.expected_delivery_at == datetime(2026, 12, 5, 16, 59, 59)
    assert "GHN00001" in page and f"/farmer/orders/{parcel.id}/ship" not in page
    [body] = ghn_server.calls(CREATE)
    order = parcel.order
    assert (body["to_name"], body["to_phone"], body["to_ward_code"], body["to_district_id"]) == (
        "Lê Văn Tuấn", "0912345678", "1A0199", 1489)
    assert body["to_address"] == order.ship_address and "Hàng Bạc" in body["to_address"]
    assert body["payment_type_id"] == 1 and body["cod_amount"] == 0 and body["service_type_id"] == 2
    assert body["client_order_code"] == f"{order.reference}-{parcel.id}" and body["weight"] == 2000
    assert (body["from_ward_name"], body["from_district_name"], body["from_province_name"]) == (
        "Xã Kép", "Huyện Lạng Giang", "Bắc Giang")
    assert body["items"] == [{"name": "Dứa Queen loại 1", "code": str(parcel.lines[0].product_id), "quantity": 2,
                              "price": 25000, "weight": 1000}]
    assert count(AuditEntry, AuditEntry.action == "shipment.booked") == 1
    buyer_page = html(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    assert "GHN00001" in buyer_page and "Waiting for GHN to pick it up" in buyer_page
    assert "https://donhang.ghn.vn/?order_code=GHN00001" in buyer_page
    # A second click (or a stale page) books nothing more.
    follow(client, book(client, parcel))
    assert len(ghn_server.calls(CREATE)) == 1 and count(Shipment) == 1


@pytest.mark.parametrize("status", [400, 200])
def test_a_refusal_books_nothing_and_tells_the_farmer_why(client, farmer, parcel, ghn_server, status):  # noqa: F811
    ghn_server.fail_next(sample("create_error.json"), status)
    page = follow(client, book(client, parcel))
    assert "Số điện thoại người nhận không hợp lệ" in page and "GHN" in page
    assert count(Shipment) == 0 and count(AuditEntry, AuditEntry.action == "shipment.booked") == 0
    assert f"/farmer/orders/{parcel.id}/ship" in page, "the farmer may try again"


def test_a_timeout_books_nothing(client, farmer, parcel, ghn_server):  # noqa: F811
    ghn_server.slow_next(1.5)
    page = follow(client, book(client, parcel))
    assert count(Shipment) == 0 and "GHN" in page


def test_an_address_ghn_does_not_know_cannot_be_booked(client, farmer, parcel, ghn_server):  # noqa: F811
    parcel.order.ship_commune_code = 20242  # Đà Nẵng: not in GHN's master data here
    db.session.commit()
    follow(client, book(client, parcel))
    assert count(Shipment) == 0 and ghn_server.calls(CREATE) == []


def test_only_parcels_are_booked(client, farmer, farm, pineapples, ghn_server):  # noqa: F811
    pickup = paid_farm_order((pineapples, 1), fulfilment="farm_pickup")
    assert f"/farmer/orders/{pickup.id}/ship" not in html(client.get(f"/farmer/orders/{pickup.id}"))
    follow(client, book(client, pickup))
    assert count(Shipment) == 0 and ghn_server.calls(CREATE) == []


def test_another_farmer_or_a_buyer_cannot_book(client, parcel, make_farm, make_user, ghn_server):  # noqa: F811
    other = make_farm(owner=make_user(role="farmer"), name="Vườn khác")
    login_as(client, other.owner)
    assert book(client, parcel).status_code == 404
    login_as(client, make_user(role="buyer"))
    assert book(client, parcel).status_code in (302, 403, 404)
    assert count(Shipment) == 0 and ghn_server.calls(CREATE) == []


# --- the status webhook ----------------------------------------------------------------------------------------

def webhook(client, code: str, status: str, token: str | None = WEBHOOK_TOKEN, **changes):
    body = {**sample("webhook_status.json"), "OrderCode": code, "Status": status, **changes}
    url = "/shipping/ghn/webhook" + (f"?token={token}" if token is not None else "")
    return client.post(url, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def test_the_webhook_moves_the_parcel_on_and_the_buyer_is_told_once(client, farmer, parcel, ghn_server):  # noqa: F811
    follow(client, book(client, parcel))
    assert webhook(client, "GHN00001", "picking").get_json() == {"success": True}
    assert count(Notification, Notification.kind == "order_shipped") == 0, "not left the farm yet"
    assert webhook(client, "GHN00001", "picked").status_code == 200
    shipment = db.session.query(Shipment).one()
    assert shipment.status == "picked" and shipment.shipped_notified_at is not None
    [note] = db.session.query(Notification).filter(Notification.kind == "order_shipped",
                                                   Notification.channel == "email")
    assert "GHN00001" in note.body and parcel.order.reference in note.subject
    webhook(client, "GHN00001", "delivered")
    db.session.refresh(shipment)
    assert shipment.status == "delivered"
    assert count(Notification, Notification.kind == "order_shipped", Notification.channel == "email") == 1
    assert ghn.status_label("delivered") and "GHN00001" in html(client.get(f"/farmer/orders/{parcel.id}"))


def test_the_webhook_refuses_a_wrong_or_missing_token_and_changes_nothing(client, farmer, parcel, ghn_server, app):  # noqa: F811
    follow(client, book(client, parcel))
    assert webhook(client, "GHN00001", "delivered", token="guess").status_code == 403
    assert webhook(client, "GHN00001", "delivered", token=None).status_code == 403
    assert webhook(client, "GHN00001", "delivered", ShopID=999).status_code == 403, "another shop's order"
    assert db.session.query(Shipment).one().status == "ready_to_pick"
    assert count(Notification, Notification.kind == "order_shipped") == 0
    app.config["GHN_WEBHOOK_TOKEN"] = ""
    assert webhook(client, "GHN00001", "delivered", token="").status_code == 503


def test_the_webhook_refuses_bodies_that_are_not_ghns(client, parcel):
    url = f"/shipping/ghn/webhook?token={WEBHOOK_TOKEN}"
    assert client.post(url, data="not json", content_type="application/json").status_code == 400
    assert client.post(url, json=[1, 2]).status_code == 400
    assert client.post(url, json={"OrderCode": "GHN00001"}).status_code == 400
    assert client.post(url, json={"OrderCode": "GHN00001", "Status": "<script>"}).status_code == 400
    # An order code we never booked: answered (GHN would retry forever otherwise), nothing changes.
    assert webhook(client, "NOTOURS", "delivered").status_code == 200 and count(Shipment) == 0


def test_track_asks_ghn_for_the_status(app, parcel, ghn_server, client, farmer):  # noqa: F811
    follow(client, book(client, parcel))
    assert ghn.Ghn().track("GHN00001") == "ready_to_pick"
    assert ghn_server.calls("/v2/shipping-order/detail") == [{"order_code": "GHN00001"}]
