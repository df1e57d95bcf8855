"""Changing the receiving bank account: the staff member's password again, every staff member told, audit-logged."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from admin import bank_account
from core import settings_store
from core.audit import AuditEntry
from core.extensions import db
from core.formatting import datetime_local
from core.outbox import Notification
from tests.helpers import PASSWORD, login_as

NEW = {"bank_bin": "970436", "account_number": "0011001234567", "account_name": "htx nong nghiep kep"}
OLD_NUMBER = "2500205123456"  # BANK_ACCOUNT_NUMBER of the test settings


@pytest.fixture
def app_config(request):
    return {"STAFF_EMAIL": "HTX@duakep.vn", "BANK_ACCOUNT_NUMBER": OLD_NUMBER, **getattr(request, "param", {})}


@pytest.fixture
def staff(client, make_user):
    admin = make_user(role="admin", full_name="Lê Văn Cán Bộ", email="canbo.le@duakep.vn")
    login_as(client, admin)
    return admin


def notes() -> list[Notification]:
    return list(db.session.scalars(select(Notification).order_by(Notification.to_address)))


def bank_entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.bank_account")))


def test_mask_keeps_only_the_last_four_digits():
    assert bank_account.mask("2500205123456") == "•••••••••3456"
    assert bank_account.mask("1234") == "1234" and bank_account.mask("") == ""


@pytest.mark.parametrize("password, message", [
    ("wrong-password", "Đây không phải mật khẩu của bạn nên tài khoản chưa được đổi."),
    ("", "Hãy nhập mật khẩu của bạn để đổi tài khoản."),
])
def test_without_the_right_password_nothing_changes(client, staff, password, message):
    response = client.post("/admin/settings/bank", data={**NEW, "password": password})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert settings_store.get("bank_account_number") is None and settings_store.get("bank_bin") is None
    assert notes() == [] and bank_entries() == []


def test_the_password_is_asked_for_on_the_settings_page(client, staff):
    html = client.get("/admin/settings").get_data(as_text=True)
    assert 'type="password"' in html and 'autocomplete="current-password"' in html
    assert "Mọi cán bộ đều được báo về thay đổi này." in html


def test_every_staff_member_is_told_who_changed_it_from_what_to_what(client, staff, make_user):
    colleague = make_user(role="admin", email="ba.tran@duakep.vn")
    english = make_user(role="admin", email="volunteer@example.com", locale="en")
    make_user(role="admin", email="htx@DUAKEP.vn")  # the same address as STAFF_EMAIL: told once
    make_user(role="admin", email="left@duakep.vn", active=False)
    make_user(role="farmer", email="farmer@duakep.vn")
    make_user(role="buyer", email="buyer@example.vn")

    response = client.post("/admin/settings/bank", data={**NEW, "password": PASSWORD})
    assert response.status_code == 302
    assert settings_store.get("bank_account_number") == "0011001234567"

    sent = notes()
    assert sorted(n.to_address.lower() for n in sent) == sorted(
        [staff.email, colleague.email, english.email, "htx@duakep.vn"])
    assert {n.kind for n in sent} == {"staff_bank_account_changed"} and {n.status for n in sent} == {"pending"}
    for note in sent:
        text = note.subject + note.body
        assert "Lê Văn Cán Bộ" in note.body and staff.email in note.body
        assert "•••••••••3456" in note.body and "•••••••••4567" in note.body
        assert OLD_NUMBER not in text and "0011001234567" not in text
        assert "Vietcombank" in note.body and "HTX NONG NGHIEP KEP" in note.body
    by_address = {n.to_address: n for n in sent}
    assert by_address[english.email].subject == "[Chợ Dứa Kép] The account that receives bank transfers was changed"
    assert "Before:" in by_address[english.email].body
    assert by_address[colleague.email].subject == "[Chợ Dứa Kép] Tài khoản nhận chuyển khoản đã được đổi"
    assert "Trước đây:" in by_address[colleague.email].body


def test_the_message_says_when_in_local_time(app, make_user):
    staff = make_user(role="admin")
    now = datetime(2026, 3, 1, 2, 30)  # 09:30 in Vietnam
    assert bank_account.change_receiving_account(staff, PASSWORD, NEW["bank_bin"], NEW["account_number"],
                                                 NEW["account_name"], now=now)
    db.session.commit()
    with force_locale("vi"):
        when = datetime_local(now, "medium")
    assert "09:30" in when
    assert all(when in note.body for note in notes())


def test_the_change_is_audit_logged(client, staff):
    client.post("/admin/settings/bank", data={**NEW, "password": PASSWORD})
    entry, = bank_entries()
    assert entry.actor_id == staff.id
    assert (entry.from_state, entry.to_state) == ("•••••••••3456", "•••••••••4567")
    details = json.loads(entry.details)
    assert details["from"]["account_number"] == OLD_NUMBER
    assert details["to"] == {"bank_bin": "970436", "bank_name": "Vietcombank", "account_number": "0011001234567",
                             "account_name": "HTX NONG NGHIEP KEP"}


def test_saving_the_same_account_again_tells_nobody(client, staff):
    client.post("/admin/settings/bank", data={**NEW, "password": PASSWORD})
    db.session.execute(Notification.__table__.delete())
    response = client.post("/admin/settings/bank", data={**NEW, "password": PASSWORD}, follow_redirects=True)
    assert "không có gì thay đổi" in response.get_data(as_text=True)
    assert notes() == [] and len(bank_entries()) == 1


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                         "BANK_CHANGE_PASSWORD_LIMIT": "2 per minute"}], indirect=True)
def test_the_password_cannot_be_guessed_from_an_open_session(client, staff, make_user):
    for _ in range(2):
        assert client.post("/admin/settings/bank", data={**NEW, "password": "guess"}).status_code == 400
    response = client.post("/admin/settings/bank", data={**NEW, "password": PASSWORD})
    assert response.status_code == 429 and "Thử quá nhiều lần" in response.get_data(as_text=True)
    assert settings_store.get("bank_account_number") is None and notes() == []
    other = make_user(role="admin")  # another staff member is not held up
    client.post("/logout")
    login_as(client, other)
    assert client.post("/admin/settings/bank", data={**NEW, "password": PASSWORD}).status_code == 302
