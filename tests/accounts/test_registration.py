"""Registration by e-mail link: the same answer whether or not the address has an account; the link makes the
account and logs in; common and personal passwords are refused wherever a password is chosen."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts import reset, services, signup
from accounts.models import User
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.helpers import PASSWORD, login, register, registration_link

NEW = {"email": "lan@example.vn", "full_name": "Nguyễn Thị Lan", "phone": "0912345678",
       "password": "dua-ngot-2026", "confirm": "dua-ngot-2026"}


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _messages_to(address: str) -> list[str]:
    return db.session.scalars(select(Notification.kind).where(Notification.to_address == address)
                              .order_by(Notification.id)).all()


def _answer(app, email: str):
    """What a stranger sees: the answer to the form, and the page it leads to."""
    client = app.test_client()
    posted = client.post("/register", data=dict(NEW, email=email))
    shown = client.get(posted.headers["Location"])
    home = client.get("/").get_data(as_text=True)
    return (posted.status_code, posted.headers["Location"], posted.get_data(), shown.status_code,
            shown.get_data(as_text=True), "Đăng xuất" in home)


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(app, make_user):
    owner = make_user(email="mai@example.vn")
    suspended = make_user(email="kho@example.vn", active=False)
    fresh = _answer(app, "lan@example.vn")
    assert (fresh[0], fresh[1], fresh[3], fresh[5]) == (302, "/register/sent", 200, False)
    assert _answer(app, "MAI@example.vn") == fresh
    assert _answer(app, suspended.email) == fresh
    assert _users() == 2, "nothing is created before the link is opened"
    assert _messages_to("lan@example.vn") == ["register_confirm"]
    assert _messages_to(owner.email) == ["register_existing"], "the owner is told instead"
    note = db.session.scalar(select(Notification).where(Notification.to_address == owner.email))
    assert "/login" in note.body and "/password/forgot" in note.body
    assert _messages_to(suspended.email) == []


def test_both_ways_hash_the_password_once(app, make_user, monkeypatch):
    hashed = []
    real = services.generate_password_hash
    monkeypatch.setattr(services, "generate_password_hash", lambda pw, method: hashed.append(pw) or real(pw, method))
    make_user(email="mai@example.vn")
    with app.test_request_context():
        signup.start(email="mai@example.vn", full_name="Mai", phone="0912345678", password="first-one-1",
                     now=utcnow())
        signup.start(email="new@example.vn", full_name="Mới", phone="0912345678", password="second-one-2",
                     now=utcnow())
    assert hashed == ["first-one-1", "second-one-2"]


def test_the_link_makes_the_account_logs_in_and_keeps_next(client):
    response = register(client, NEW, query="?next=/cart")
    assert response.headers["Location"] == "/cart"
    user = db.session.scalar(select(User))
    assert (user.email, user.full_name, user.role, user.locale) == ("lan@example.vn", "Nguyễn Thị Lan", "buyer", "vi")
    assert user.check_password("dua-ngot-2026")
    assert client.get("/account").status_code == 200
    link = registration_link(NEW["email"])
    assert "dua-ngot-2026" not in link
    client.post("/logout")
    again = client.post(link)
    assert (again.status_code, again.headers["Location"]) == (302, "/login"), "a used link makes no second account"
    assert ('<p class="flash flash-info">Tài khoản này đã được tạo rồi.'
            in client.get("/login").get_data(as_text=True)), "said as a note, not as an error"
    assert _users() == 1
    assert client.get("/account").status_code == 302, "and does not log in"


def test_an_expired_or_broken_link_says_so(app, client):
    with app.test_request_context():
        signup.start(email=NEW["email"], full_name="Lan", phone="0912345678", password="dua-ngot-2026",
                     now=utcnow() - timedelta(hours=25))
    link = registration_link(NEW["email"])
    response = client.get(link)
    assert response.status_code == 400 and "Liên kết này đã hết hạn" in response.get_data(as_text=True)
    assert client.post(link).status_code == 400
    broken = client.get(link[:-6])
    assert broken.status_code == 400 and "Liên kết này không dùng được" in broken.get_data(as_text=True)
    with app.test_request_context():  # a password-reset link is no registration link
        user = User(email="x@example.vn", full_name="X", phone="0912345678", role="buyer")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        token = reset.make_token(user, now=utcnow())
    db.session.commit()
    assert client.get(f"/register/confirm/{token}").status_code == 400
    assert _users() == 1


@pytest.mark.parametrize("password,message", [
    ("12345678", "mật khẩu được dùng nhiều nhất"),
    ("PASSWORD", "mật khẩu được dùng nhiều nhất"),
    ("matkhau123", "mật khẩu được dùng nhiều nhất"),
    ("lan@example.vn", "không được là email"),
    ("0912345678", "không được là email"),
    ("nguyễn thị lan", "không được là email"),
])
def test_register_refuses_common_and_personal_passwords(client, password, message):
    response = client.post("/register", data=dict(NEW, password=password, confirm=password))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _messages_to(NEW["email"]) == []


def test_password_change_refuses_a_common_password(client, make_user):
    user = make_user()
    login(client, user)
    before = user.password_hash
    for bad in ("password123", user.email):
        response = client.post("/account", data={"current": PASSWORD, "password": bad, "confirm": bad})
        assert response.status_code == 200
    db.session.refresh(user)
    assert user.password_hash == before


def test_password_reset_refuses_a_common_password(app, client, make_user):
    user = make_user()
    with app.test_request_context():
        token = reset.make_token(user, now=utcnow())
    response = client.post(f"/password/reset/{token}", data={"password": "iloveyou", "confirm": "iloveyou"})
    assert response.status_code == 200 and "mật khẩu được dùng nhiều nhất" in response.get_data(as_text=True)
    response = client.post(f"/password/reset/{token}", data={"password": user.phone, "confirm": user.phone})
    assert "không được là email" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_the_list_is_shipped_and_large():
    from accounts.passwords import common_passwords
    words = common_passwords()
    assert len(words) > 9000 and {"12345678", "password", "qwertyuiop", "iloveyou"} <= words
    assert all(word == word.lower() for word in words)
