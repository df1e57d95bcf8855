"""Staff overview, farm suspension, settings, audit log."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from core import settings_store
from core.audit import AuditEntry
from core.extensions import db
from tests.helpers import PASSWORD, login_as


@pytest.fixture
def staff(client, make_user):
    admin = make_user(role="admin")
    login_as(client, admin)
    return admin


def test_overview_shows_the_market(client, staff, make_farm, make_product):
    make_farm(status="pending")
    make_product(stock=5)
    html = client.get("/admin/").get_data(as_text=True)
    assert "đơn đang chờ" in html and "sản phẩm đang bán" in html
    assert "Đơn đã thanh toán theo ngày" in html


def test_suspend_hides_the_farm_and_reinstate_brings_it_back(client, staff, make_product):
    product = make_product()
    farm = product.farm
    response = client.post(f"/admin/farms/{farm.id}/suspend", data={"reason": ""})
    assert response.status_code == 302 and farm.status == "approved"
    client.post(f"/admin/farms/{farm.id}/suspend", data={"reason": "Bán dứa không đúng mô tả"})
    assert farm.status == "suspended" and farm.rejection_reason == "Bán dứa không đúng mô tả"
    assert client.get(f"/products/{product.slug}").status_code == 404
    html = client.post(f"/admin/farms/{farm.id}/suspend", data={"reason": "again"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Chỉ trang trại đã duyệt mới tạm ngừng được." in html
    client.post(f"/admin/farms/{farm.id}/reinstate")
    assert farm.status == "approved" and farm.rejection_reason is None
    assert client.get(f"/products/{product.slug}").status_code == 200
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "farm")))
    assert actions == ["farm.suspended", "farm.reinstated"]


def test_refused_staff_actions_go_back_where_they_came_from_and_keep_nothing(client, staff, make_farm, make_user):
    farm, buyer = make_farm(), make_user()
    audited = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for path, to, message in [
        (f"/admin/farms/{farm.id}/reinstate", "/admin/farms", "Trang trại này không bị tạm ngừng."),
        (f"/admin/applications/{farm.id}/approve", f"/admin/applications/{farm.id}", "Đơn này đã được xử lý rồi."),
        (f"/admin/applications/{farm.id}/reject", f"/admin/applications/{farm.id}", "Đơn này đã được xử lý rồi."),
    ]:
        response = client.post(path, data={"reason": "Ảnh không đúng"})
        assert (response.status_code, response.headers["Location"]) == (302, to), path
        assert message in client.get(to).get_data(as_text=True), path
    for user, action, message in [(staff, "suspend", "Bạn không thể tạm khóa tài khoản của chính mình."),
                                  (buyer, "reinstate", "Tài khoản này không bị tạm khóa.")]:
        response = client.post(f"/admin/users/{user.id}/{action}", data={"reason": "Thử"})
        location = urlsplit(response.headers["Location"])
        assert (response.status_code, location.path, parse_qs(location.query)) == (302, "/admin/users",
                                                                                  {"q": [user.email]})
        assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audited
    db.session.expire_all()
    assert (farm.status, staff.active, buyer.active) == ("approved", True, True)
    assert client.get("/admin/").status_code == 200, "still logged in: the suspension was refused"


@pytest.mark.parametrize("raw,expected", [("2", "200"), ("2,5", "250"), ("0", "0"), ("30", "3000"), ("1.25%", "125")])
def test_platform_fee(client, staff, raw, expected):
    response = client.post("/admin/settings/fee", data={"percent": raw})
    assert response.status_code == 302
    assert settings_store.get("platform_fee_bp") == expected


@pytest.mark.parametrize("raw", ["-1", "31", "abc", "2.555", "", "nan", "inf"])
def test_bad_platform_fee_changes_nothing(client, staff, raw):
    response = client.post("/admin/settings/fee", data={"percent": raw})
    assert response.status_code == 400
    assert settings_store.get("platform_fee_bp") is None


def test_receiving_bank_account(client, staff):
    response = client.post("/admin/settings/bank", data={"bank_bin": "970436", "account_number": "1012345678",
                                                           "account_name": "htx dua kep", "password": PASSWORD})
    assert response.status_code == 302
    assert settings_store.get("bank_account_name") == "HTX DUA KEP"
    assert settings_store.get("bank_name") == "Vietcombank"
    html = client.get("/admin/settings").get_data(as_text=True)
    assert "1012345678" in html
    bad = client.post("/admin/settings/bank", data={"bank_bin": "999999", "account_number": "12",
                                                      "account_name": ""})
    assert bad.status_code == 400 and settings_store.get("bank_bin") == "970436"


def test_audit_log_filters(client, staff, make_farm):
    client.post("/admin/settings/fee", data={"percent": "2"})
    farm = make_farm()
    client.post(f"/admin/farms/{farm.id}/suspend", data={"reason": "kiểm tra"})
    html = client.get("/admin/audit?action=farm.").get_data(as_text=True)
    assert "farm.suspended" in html and "settings.platform_fee" not in html
    html = client.get(f"/admin/audit?actor={staff.email}&entity=settings").get_data(as_text=True)
    assert "settings.platform_fee" in html and "farm.suspended" not in html
    html = client.get("/admin/audit?date_from=2026-12-01&date_to=2026-11-01").get_data(as_text=True)
    assert "Ngày kết thúc trước ngày bắt đầu." in html
    assert client.get("/admin/audit?page=abc&action=%25_").status_code == 200


@pytest.mark.parametrize("path,method", [("/admin/farms", "get"), ("/admin/settings", "get"),
                                         ("/admin/audit", "get"), ("/admin/settings/fee", "post"),
                                         ("/admin/settings/bank", "post"), ("/admin/farms/1/suspend", "post"),
                                         ("/admin/farms/1/reinstate", "post")])
def test_staff_pages_are_for_staff_only(client, make_user, make_farm, path, method):
    make_farm()
    assert getattr(client, method)(path).status_code == 302  # anonymous: to the login page
    for role in ("buyer", "farmer"):
        login_as(client, make_user(role=role))
        assert getattr(client, method)(path, data={"percent": "5", "reason": "x"}).status_code == 403
        client.post("/logout")
    assert settings_store.get("platform_fee_bp") is None
