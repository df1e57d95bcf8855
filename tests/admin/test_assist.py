"""Assisted mode: staff act for a farmer only with the farmer's consent, and the farmer sees it all."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts import assist
from core.audit import AuditEntry
from core.extensions import db
from core.time import utcnow
from tests.helpers import login_as


@pytest.fixture
def setting(client, make_user, make_farm):
    farm = make_farm(name="Vườn dứa Bà Tư")
    staff = make_user(role="admin", full_name="Cán bộ Hạnh")
    return farm, staff


def test_staff_need_consent_then_act_and_the_farmer_sees_it(app, client, setting):
    farm, staff = setting
    login_as(client, staff)
    page = client.get(f"/farmer/products?farm={farm.id}")
    assert page.status_code == 403 and "Cần sự đồng ý của nông dân" in page.get_data(as_text=True)
    response = client.post(f"/admin/farms/{farm.id}/assist", data={"way": "phone", "days": "7",
                                                                    "note": "Bà Tư nhờ đăng dứa sấy"})
    assert response.status_code == 302
    assert client.get(f"/farmer/products?farm={farm.id}").status_code == 200
    created = client.post(f"/farmer/products/new?farm={farm.id}", data={
        "name": "Dứa sấy Bà Tư", "description": "Túi 200 g", "category": "processed", "unit": "bag",
        "price_vnd": "65000", "stock": "20", "min_order_qty": "1", "season_start": "", "season_end": ""})
    assert created.status_code == 302

    farmer = app.test_client()
    login_as(farmer, farm.owner)
    html = farmer.get("/farmer/assistance").get_data(as_text=True)
    assert "Cán bộ Hạnh" in html and "product.created" in html and "Bà Tư nhờ đăng dứa sấy" in html
    consent = db.session.scalar(select(assist.AssistConsent))
    assert farmer.post(f"/farmer/assistance/{consent.id}/end").status_code == 302
    assert client.get(f"/farmer/products?farm={farm.id}").status_code == 403, "ended by the farmer"
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"assist.consent_recorded", "assist.consent_ended", "product.created"} <= actions


def test_consent_expires(client, setting):
    farm, staff = setting
    consent = assist.record_consent(farm, staff, way="in_person", note="x", days=1, now=utcnow() - timedelta(days=2))
    db.session.commit()
    assert not consent.is_active(utcnow())
    login_as(client, staff)
    assert client.get(f"/farmer/orders?farm={farm.id}").status_code == 403


@pytest.mark.parametrize("data,message", [
    ({"way": "phone", "days": "7", "note": ""}, "Hãy ghi điều nông dân nhờ"),
    ({"way": "telepathy", "days": "7", "note": "x"}, "Lựa chọn không hợp lệ."),
    ({"way": "phone", "days": "365", "note": "x"}, "Lựa chọn không hợp lệ."),
])
def test_bad_consent_is_refused(client, setting, data, message):
    farm, staff = setting
    login_as(client, staff)
    html = client.post(f"/admin/farms/{farm.id}/assist", data=data).get_data(as_text=True)
    assert message in html
    assert db.session.scalar(select(assist.AssistConsent)) is None


def test_only_staff_record_consent_and_farmers_end_only_their_own(client, setting, make_user, make_farm):
    farm, staff = setting
    consent = assist.record_consent(farm, staff, way="phone", note="x", days=7, now=utcnow())
    db.session.commit()
    other = make_farm()
    login_as(client, other.owner)
    assert client.post(f"/admin/farms/{farm.id}/assist", data={"way": "phone", "days": "7",
                                                               "note": "x"}).status_code == 403
    assert client.post(f"/farmer/assistance/{consent.id}/end").status_code == 404
    assert consent.is_active(utcnow())


def test_pending_farms_cannot_be_assisted(setting, make_farm):
    _, staff = setting
    with pytest.raises(assist.AssistError):
        assist.record_consent(make_farm(status="pending"), staff, way="phone", note="x", days=7, now=utcnow())


def test_refused_consents_say_why_and_keep_nothing(client, setting, make_farm):
    farm, staff = setting
    consent = assist.record_consent(farm, staff, way="phone", note="x", days=7, now=utcnow())
    assist.end_consent(consent, staff, utcnow())
    db.session.commit()
    audited = len(db.session.scalars(select(AuditEntry)).all())
    login_as(client, staff)
    response = client.post(f"/admin/farms/{farm.id}/assist/{consent.id}/end")
    assert (response.status_code, response.headers["Location"]) == (302, f"/admin/farms/{farm.id}/assist")
    assert "Sự đồng ý này đã kết thúc rồi." in client.get(response.headers["Location"]).get_data(as_text=True)
    pending = make_farm(status="pending")
    page = client.post(f"/admin/farms/{pending.id}/assist", data={"way": "phone", "days": "7", "note": "x"})
    assert page.status_code == 200
    assert "Chỉ trang trại đã duyệt mới được hỗ trợ ở chế độ hỗ trợ." in page.get_data(as_text=True)
    assert db.session.scalar(select(assist.AssistConsent).where(assist.AssistConsent.farm_id == pending.id)) is None
    assert len(db.session.scalars(select(AuditEntry)).all()) == audited
