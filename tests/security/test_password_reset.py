"""Password reset by e-mail: the same answer whether or not the account exists, a link in the outbox only
when it does, tokens that work once and for an hour, the new password under the registration rules, and
every other session logged out."""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts import reset
from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.helpers import PASSWORD, login

NEW = "dua-chin-moi-2026"


def _notes() -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == "password_reset")
                                   .order_by(Notification.id)))


def _link(note: Notification) -> str:
    match = re.search(r"https?://[^/\s]+(/password/reset/\S+)", note.body)
    assert match, note.body
    return match.group(1)


def _ask(client, email: str):
    return client.post("/password/forgot", data={"email": email})


def _reset(client, path: str, password: str = NEW, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm})


def test_the_login_page_links_to_the_reset(client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
    html = client.get("/password/forgot").get_data(as_text=True)
    assert "Quên mật khẩu?" in html and 'autocomplete="username"' in html


def test_the_same_answer_whether_or_not_the_account_exists(app, make_user):
    user = make_user(email="lan@example.vn")
    answers = []
    for email in ("LAN@example.vn ", "nobody@example.vn"):
        client = app.test_client()
        response = _ask(client, email)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        flash = re.search(r'<div class="flashes".*?</div>', page, re.S).group(0)
        answers.append((response.status_code, response.headers["Location"], flash))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/login")
    assert "Nếu có tài khoản với email này" in answers[0][2]
    notes = _notes()
    assert [note.to_address for note in notes] == [user.email]
    assert notes[0].status == "pending" and "Đặt mật khẩu mới" in notes[0].subject


def test_no_message_for_an_inactive_account(client, make_user):
    user = make_user(active=False)
    assert _ask(client, user.email).status_code == 302
    assert _notes() == []


def test_a_malformed_email_is_told_in_vietnamese_and_nothing_is_sent(client):
    response = _ask(client, "not-an-email")
    assert response.status_code == 200
    assert "Hãy nhập email hợp lệ" in response.get_data(as_text=True)
    assert _notes() == []


def test_the_message_is_in_the_account_language(client, make_user):
    make_user(email="tom@example.com", locale="en")
    _ask(client, "tom@example.com")
    note = _notes()[0]
    assert note.subject == "Choose a new password for Chợ Dứa Kép"
    assert "The link works once, for 60 minutes." in note.body


def test_reset_sets_the_password_once_and_logs_every_session_out(app, make_user):
    user = make_user(full_name="Nguyễn Thị Lan")
    phone, laptop = app.test_client(), app.test_client()
    login(laptop, user)
    remembered = app.test_client()
    login_response = remembered.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert login_response.status_code == 302
    _ask(phone, user.email)
    path = _link(_notes()[0])

    page = phone.get(path)
    assert page.status_code == 200 and user.email in page.get_data(as_text=True)
    response = _reset(phone, path)
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    db.session.refresh(user)
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset",
                                                      AuditEntry.entity_id == user.id)) is not None

    assert laptop.get("/account").status_code == 302, "the other session is logged out"
    remembered.delete_cookie("session", domain="localhost")
    assert remembered.get("/account").status_code == 302, "a remember-me cookie of the old password is dead"

    again = phone.get(path)
    assert again.status_code == 400 and "đã được dùng" in again.get_data(as_text=True)
    assert _reset(phone, path, "another-pass-1").status_code == 400
    db.session.refresh(user)
    assert user.check_password(NEW)
    assert phone.post("/login", data={"email": user.email, "password": NEW}).status_code == 302


def test_using_one_link_kills_the_older_ones(client, make_user):
    user = make_user()
    _ask(client, user.email)
    _ask(client, user.email)
    first, second = (_link(note) for note in _notes())
    assert _reset(client, second).status_code == 302
    assert client.get(first).status_code == 400


def test_a_changed_password_kills_a_link_sent_before(client, make_user):
    user = make_user()
    token = reset.make_token(user, now=utcnow())
    user.set_password("changed-meanwhile-1")
    db.session.commit()
    assert client.get(f"/password/reset/{token}").status_code == 400


@pytest.mark.parametrize("password,confirm,message", [
    ("short", "short", "Mật khẩu phải có từ 8 đến 128 ký tự."),
    ("x" * 129, "x" * 129, "Mật khẩu phải có từ 8 đến 128 ký tự."),
    (NEW, "not-the-same-1", "Hai mật khẩu không giống nhau."),
    ("", "", "Hãy nhập mật khẩu."),
])
def test_the_new_password_follows_the_registration_rules(client, make_user, password, confirm, message):
    user = make_user()
    path = f"/password/reset/{reset.make_token(user, now=utcnow())}"
    response = _reset(client, path, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    assert client.get(path).status_code == 200, "a refused try does not use the link up"


def test_links_expire_after_an_hour(app, client, make_user):
    user = make_user()
    sent = utcnow() - timedelta(minutes=59)
    token = reset.make_token(user, now=sent)
    assert reset.user_for_token(token, now=sent + timedelta(minutes=59)) == user
    with pytest.raises(reset.ResetError) as error:
        reset.user_for_token(token, now=sent + timedelta(minutes=61))
    assert error.value.reason == "expired"
    old = reset.make_token(user, now=utcnow() - timedelta(minutes=61))
    response = client.get(f"/password/reset/{old}")
    assert response.status_code == 400 and "Liên kết này đã hết hạn" in response.get_data(as_text=True)
    assert _reset(client, f"/password/reset/{old}").status_code == 400
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_a_token_from_the_future_or_with_another_key_is_refused(app, make_user):
    from itsdangerous import URLSafeTimedSerializer

    user = make_user()
    now = utcnow()
    forged = URLSafeTimedSerializer("another-secret", salt=reset.SALT).dumps({"u": user.id,
                                                                             "f": reset.fingerprint(user)})
    with pytest.raises(reset.ResetError):
        reset.user_for_token(forged, now=now)
    with pytest.raises(reset.ResetError):
        reset.user_for_token(reset.make_token(user, now=now + timedelta(hours=2)), now=now)


@pytest.mark.parametrize("token, status", [("", 404), ("abc", 400), ("eyJ1IjoxfQ.AAAAAA.forged", 400),
                                           ("x" * 3000, 400), ("%00", 404), ("..%2F..%2Fadmin", 404)])
def test_broken_links_are_refused_kindly(client, make_user, token, status):
    """A token that reaches the reset page is refused there (400, with a message); a path that is no token
    at all is not that page (404)."""
    make_user()
    response = client.get(f"/password/reset/{token}") if token else client.get("/password/reset/")
    assert response.status_code == status
    if status == 400:
        assert "Liên kết này không còn dùng được" in response.get_data(as_text=True)


def test_a_token_for_one_account_does_not_open_another(client, make_user):
    lan, minh = make_user(), make_user()
    token = reset.make_token(lan, now=utcnow())
    _payload, _, timestamp_and_signature = token.partition(".")
    other = base64.urlsafe_b64encode(json.dumps({"u": minh.id, "f": reset.fingerprint(lan)},
                                                separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert client.get(f"/password/reset/{other}.{timestamp_and_signature}").status_code == 400
    assert client.get(f"/password/reset/{token}").status_code == 200
