"""Applying to sell, and the staff decision."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts import farm_applications
from accounts.farms import Farm
from core.audit import AuditEntry
from core.extensions import db
from tests.factories import NOW
from tests.helpers import login_as

APPLICATION = {"name": "Vườn dứa Hương Sơn", "village": "Kép 11", "village_other": "",
               "description": "Hai hecta dứa Queen.", "vietgap_certified": "y",
               "vietgap_certificate_no": "VG-BG-2024-0001", "bank_bin": "970405",
               "bank_account_number": "2500205123456", "bank_account_name": "Nguyen Van An"}


def _farms() -> int:
    return db.session.scalar(select(func.count()).select_from(Farm))


def test_sell_needs_login(client):
    response = client.get("/sell")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_apply_then_admin_approves(client, app, make_user):
    buyer = make_user()
    admin = make_user(role="admin")
    login_as(client, buyer)
    response = client.post("/sell", data=APPLICATION)
    assert response.status_code == 302
    farm = db.session.scalar(select(Farm))
    assert farm.status == "pending" and farm.slug == "vuon-dua-huong-son"
    assert farm.bank_account_name == "NGUYEN VAN AN"
    assert "đang chờ cán bộ xã duyệt" in client.get("/sell").get_data(as_text=True)

    staff = app.test_client()
    login_as(staff, admin)
    assert "Vườn dứa Hương Sơn" in staff.get("/admin/applications").get_data(as_text=True)
    assert staff.post(f"/admin/applications/{farm.id}/approve").status_code == 302
    assert farm.status == "approved" and farm.decided_by_id == admin.id
    assert buyer.role == "farmer"
    assert "Trang trại của bạn đã được duyệt" in client.get("/sell").get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"farm.applied", "farm.approved", "user.role_changed"} <= actions


def test_admin_rejects_with_reason_and_applicant_can_apply_again(client, app, make_user):
    buyer = make_user()
    admin = make_user(role="admin")
    login_as(client, buyer)
    client.post("/sell", data=APPLICATION)
    farm = db.session.scalar(select(Farm))
    staff = app.test_client()
    login_as(staff, admin)
    response = staff.post(f"/admin/applications/{farm.id}/reject", data={"reason": ""})
    assert response.status_code == 400 and farm.status == "pending"
    staff.post(f"/admin/applications/{farm.id}/reject", data={"reason": "Thiếu số giấy chứng nhận đúng."})
    assert farm.status == "rejected" and buyer.role == "buyer"
    html = client.get("/sell").get_data(as_text=True)
    assert "Thiếu số giấy chứng nhận đúng." in html and "Đơn đăng ký trước của bạn chưa được duyệt." in html
    client.post("/sell", data=dict(APPLICATION, vietgap_certificate_no="VG-BG-2024-0002"))
    assert farm.status == "pending" and farm.rejection_reason is None
    assert _farms() == 1


def test_deciding_twice_changes_nothing(client, make_user, make_farm):
    admin = make_user(role="admin")
    farm = make_farm(status="pending")
    login_as(client, admin)
    client.post(f"/admin/applications/{farm.id}/approve")
    response = client.post(f"/admin/applications/{farm.id}/reject", data={"reason": "late"}, follow_redirects=True)
    assert "Đơn này đã được xử lý rồi." in response.get_data(as_text=True)
    assert farm.status == "approved" and farm.rejection_reason is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action.in_(["farm.approved", "farm.rejected"]))) == 1


def test_applying_and_deciding_are_dated_with_the_time_they_are_given(make_user):
    buyer, admin = make_user(), make_user(role="admin")
    fields = dict(name="Vườn dứa Hương Sơn", village="Kép 11", description="Hai hecta dứa Queen.",
                  vietgap_certified=False, vietgap_certificate_no=None, bank_bin="970405",
                  bank_account_number="2500205123456", bank_account_name="NGUYEN VAN AN")
    farm = farm_applications.apply(buyer, now=NOW, **fields)
    assert (farm.status, farm.applied_at, farm.decided_at) == ("pending", NOW, None)
    farm_applications.reject(farm, admin, " Thiếu ảnh. ", now=NOW + timedelta(hours=1))
    assert (farm.status, farm.decided_at, farm.rejection_reason) == ("rejected", NOW + timedelta(hours=1),
                                                                     "Thiếu ảnh.")
    farm_applications.apply(buyer, now=NOW + timedelta(days=1), **fields)
    assert (farm.status, farm.applied_at, farm.decided_at) == ("pending", NOW + timedelta(days=1), None)
    farm_applications.approve(farm, admin, now=NOW + timedelta(days=2))
    assert (farm.status, farm.decided_at, farm.decided_by_id) == ("approved", NOW + timedelta(days=2), admin.id)


def test_an_account_number_is_taken_as_people_copy_it(client, make_user):
    login_as(client, make_user())
    client.post("/sell", data=dict(APPLICATION, bank_account_number=" 2500 2051.2345-6 "))
    assert db.session.scalar(select(Farm.bank_account_number)) == "2500205123456"


@pytest.mark.parametrize("change,message", [
    ({"name": ""}, "Hãy nhập tên trang trại của bạn."),
    ({"village": ""}, "Hãy chọn thôn của bạn."),
    ({"village": "Hà Nội"}, "Lựa chọn không hợp lệ."),
    ({"village": "other", "village_other": ""}, "Hãy nhập tên thôn của bạn."),
    ({"vietgap_certificate_no": ""}, "Hãy nhập số giấy chứng nhận VietGAP"),
    ({"bank_bin": "123456"}, "Lựa chọn không hợp lệ."),
    ({"bank_account_number": "12 34"}, "Số tài khoản gồm 6 đến 19 chữ số"),
    ({"description": ""}, "Hãy giới thiệu đôi chút"),
])
def test_bad_application_is_refused_with_a_message(client, make_user, change, message):
    login_as(client, make_user())
    response = client.post("/sell", data=dict(APPLICATION, **change))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _farms() == 0


def test_other_village_is_stored_by_name(client, make_user):
    login_as(client, make_user())
    client.post("/sell", data=dict(APPLICATION, village="other", village_other="Thôn Đồng Lầm"))
    assert db.session.scalar(select(Farm.village)) == "Thôn Đồng Lầm"


def test_applying_twice_keeps_one_application(client, make_user):
    login_as(client, make_user())
    client.post("/sell", data=APPLICATION)
    response = client.post("/sell", data=dict(APPLICATION, name="Another"))
    assert response.status_code == 200  # the status page, not a new application
    assert _farms() == 1 and db.session.scalar(select(Farm.name)) == "Vườn dứa Hương Sơn"


ADMIN_PAGES = [("get", "/admin/"), ("get", "/admin/applications"), ("get", "/admin/applications/{id}"),
               ("post", "/admin/applications/{id}/approve"), ("post", "/admin/applications/{id}/reject"),
               ("get", "/admin/farms"), ("post", "/admin/farms/{id}/suspend"), ("post", "/admin/farms/{id}/reinstate"),
               ("get", "/admin/users"), ("post", "/admin/users/{uid}/suspend"), ("post", "/admin/users/{uid}/reinstate")]


@pytest.mark.parametrize("method,path", ADMIN_PAGES)
def test_admin_pages_refuse_buyers_and_farmers(client, make_user, make_farm, method, path):
    farm = make_farm(status="pending")
    for role in ("buyer", "farmer"):
        login_as(client, make_user(role=role))
        response = getattr(client, method)(path.format(id=farm.id, uid=farm.owner_id), data={"reason": "x"})
        assert response.status_code == 403, (role, path)
        client.post("/logout")
    assert farm.status == "pending"


@pytest.mark.parametrize("method,path", ADMIN_PAGES)
def test_admin_pages_send_anonymous_to_login(client, make_farm, method, path):
    farm = make_farm(status="pending")
    response = getattr(client, method)(path.format(id=farm.id, uid=farm.owner_id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_admin_route_is_covered_by_the_role_tests(app):
    """The pages of the ``admin`` blueprint (its other staff blueprints have their own role tests)."""
    admin_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")}
    covered = {path.replace("{id}", "<int:farm_id>").replace("{uid}", "<int:user_id>") for _, path in ADMIN_PAGES}
    assert admin_rules == covered


def test_unknown_application_is_404(client, make_user):
    login_as(client, make_user(role="admin"))
    assert client.get("/admin/applications/999").status_code == 404


def test_staff_cannot_apply_to_sell(client, make_user):
    login_as(client, make_user(role="admin"))
    response = client.post("/sell", data=APPLICATION)
    assert response.status_code == 302 and _farms() == 0
