"""Phone-first accounts through their pages: register with a phone and the code from the text message, log in
with the number however it is written, reset a password by a code; staff still need an e-mail; a guest
checks out without e-mail and gets the order's messages on the phone."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts import services
from accounts.models import OneTimeCode, User
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop.order_models import Order
from tests.accounts.test_otp import sent_code
from tests.helpers import PASSWORD, login_as
from tests.shop.test_cart_views import add
from tests.shop.test_checkout_views import CONTACT, open_checkout, placed_order

PHONE = "0987654321"
NEW = {"full_name": "Nguyễn Văn Bình", "phone": "0987 654 321", "email": "", "password": "dua-ngot-2026",
       "confirm": "dua-ngot-2026"}


@pytest.fixture
def app_config():
    return {"MESSAGE_CHANNELS": ["email", "phone"]}


def phone_user(phone: str = PHONE, **fields) -> User:
    """A buyer with a confirmed number and no e-mail, whose password is PASSWORD."""
    user = User(email=None, full_name="Nguyễn Văn Bình", phone=phone, role="buyer", phone_verified_at=utcnow(),
                session_token=f"t-{phone}", **fields)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def html(response) -> str:
    return response.get_data(as_text=True)


def logged_in(client) -> bool:
    return "Đăng xuất" in html(client.get("/"))


def register_by_phone(client, **changes):
    response = client.post("/register", data={**NEW, **changes})
    assert response.status_code == 302 and response.headers["Location"] == "/register/phone", html(response)[:300]
    return response


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_register_by_phone_and_confirm_with_the_code_from_the_outbox(client):
    register_by_phone(client)
    user = db.session.scalar(select(User))
    assert (user.email, user.phone, user.phone_verified_at, user.full_name) == (None, PHONE, None, NEW["full_name"])
    page = html(client.get("/register/phone"))
    assert "Nhập mã chúng tôi đã gửi đến số 0987 654 321" in page and "Gửi lại mã" in page
    code = sent_code()
    assert not logged_in(client)
    refused = client.post("/register/phone", data={"code": wrong(code)})
    assert refused.status_code == 200 and "Mã không đúng. Bạn còn 4 lần thử." in html(refused)
    assert db.session.scalar(select(OneTimeCode.tries)) == 1, "the wrong try stays counted"
    response = client.post("/register/phone", data={"code": code[:3] + " " + code[3:]})
    assert response.status_code == 302
    assert db.session.get(User, user.id).phone_verified_at is not None
    assert logged_in(client)
    assert client.post("/logout").status_code == 302
    assert client.get("/register/phone").headers["Location"] == "/register", "nothing waits any more"


def test_the_code_waits_on_the_staff_outbox_page(app, client, make_user):
    register_by_phone(client)
    code = sent_code()
    staff = app.test_client()
    login_as(staff, make_user(role="admin"))
    page = html(staff.get("/admin/outbox"))
    assert PHONE in page and code in page


@pytest.mark.parametrize("typed", ["0987 654 321", "+84987654321", "84987654321"])
def test_log_in_by_phone_in_its_spellings(client, make_user, typed):
    """Finding 4 of issue 13: a phone number was refused at login (the field wanted an e-mail)."""
    phone_user()
    response = client.post("/login", data={"email": typed, "password": PASSWORD})
    assert response.status_code == 302, html(response)[:500]
    assert logged_in(client)


def test_log_in_by_email_still_works_and_the_page_asks_for_either(client, make_user):
    user = make_user(email="lan@example.vn")
    assert "Số điện thoại hoặc email" in html(client.get("/login"))
    assert client.post("/login", data={"email": "Lan@Example.vn ", "password": PASSWORD}).status_code == 302
    assert logged_in(client) and user.email == "lan@example.vn"


def test_an_unconfirmed_number_does_not_log_in_and_a_wrong_password_says_the_same(client, make_user):
    make_user(phone=PHONE)  # an e-mail account with this number as its contact, never confirmed
    refused = client.post("/login", data={"email": PHONE, "password": PASSWORD})
    assert refused.status_code == 200 and "Số điện thoại hoặc mật khẩu không đúng." in html(refused)
    phone_user()
    wrong_password = client.post("/login", data={"email": PHONE, "password": "not-the-password"})
    assert "Số điện thoại hoặc mật khẩu không đúng." in html(wrong_password) and not logged_in(client)


def test_an_unconfirmed_registration_logging_in_gets_a_new_code(client, monkeypatch):
    register_by_phone(client)
    first = sent_code()
    monkeypatch.setattr("accounts.phone_views.utcnow", lambda: utcnow() + timedelta(minutes=2))
    other = client.application.test_client()
    response = other.post("/login", data={"email": PHONE, "password": NEW["password"]})
    assert response.status_code == 302 and response.headers["Location"] == "/register/phone"
    assert db.session.query(OneTimeCode).count() == 2 and not logged_in(other)
    code = sent_code()
    if code != first:
        assert other.post("/register/phone", data={"code": first}).status_code == 200
    assert other.post("/register/phone", data={"code": code}).status_code == 302 and logged_in(other)


def test_a_code_sent_for_another_registration_of_the_number_confirms_nothing_here(app, client, monkeypatch):
    """Someone registers the number first (and never gets the codes); the owner registers it too; the
    other one then asks for a new code, which comes to the owner's phone: it must not confirm the
    other's account (nor log the owner into it)."""
    intruder = app.test_client()
    register_by_phone(intruder, full_name="Kẻ lạ", password="khong-phai-toi-9", confirm="khong-phai-toi-9")
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr("accounts.views.utcnow", lambda: later)
    register_by_phone(client)
    mine = sent_code()
    monkeypatch.setattr("accounts.phone_views.utcnow", lambda: later + timedelta(minutes=2))
    assert intruder.post("/register/phone/again").status_code == 302
    theirs = sent_code()
    if theirs != mine:
        refused = client.post("/register/phone", data={"code": theirs})
        assert refused.status_code == 200 and not logged_in(client)
    assert client.post("/register/phone", data={"code": mine}).status_code == 302 and logged_in(client)
    confirmed = db.session.scalars(select(User.full_name).where(User.phone_verified_at.is_not(None))).all()
    assert confirmed == [NEW["full_name"]]


def test_an_email_account_confirms_its_number_from_the_account_page(client, make_user):
    user = make_user(email="lan@example.vn", phone=PHONE)
    login_as(client, user)
    assert "Xác nhận số điện thoại" in html(client.get("/account"))
    response = client.post("/account/phone")
    assert response.headers["Location"] == "/register/phone"
    assert client.post("/register/phone", data={"code": sent_code()}).headers["Location"] == "/account"
    assert db.session.get(User, user.id).phone_verified_at is not None
    page = html(client.get("/account"))
    assert "Số điện thoại đã được xác nhận: bạn có thể đăng nhập bằng số này." in page
    assert "đã xác nhận: bạn có thể đăng nhập bằng số này" in page
    other = client.application.test_client()
    assert other.post("/login", data={"email": "+84 987 654 321", "password": PASSWORD}).status_code == 302


def test_send_the_code_again_has_a_cool_down(client, monkeypatch):
    register_by_phone(client)
    too_soon = client.post("/register/phone/again", follow_redirects=True)
    assert "Mã vừa được gửi. Bạn có thể xin mã mới sau" in html(too_soon)
    assert db.session.query(OneTimeCode).count() == 1
    monkeypatch.setattr("accounts.phone_views.utcnow", lambda: utcnow() + timedelta(seconds=61))
    again = client.post("/register/phone/again", follow_redirects=True)
    assert "Chúng tôi đã gửi mã mới đến số 0987 654 321." in html(again)
    assert db.session.query(OneTimeCode).count() == 2


def test_registering_the_same_number_again_at_once_is_limited_and_makes_nothing(app, client):
    register_by_phone(client)
    again = app.test_client().post("/register", data=NEW)
    assert again.status_code == 200 and "Mã vừa được gửi" in html(again)
    assert db.session.query(User).count() == 1


def test_a_number_an_account_confirmed_makes_no_new_account_and_its_owner_is_told(client, make_user):
    owner = phone_user()
    register_by_phone(client)  # the same answer as for a new number
    assert db.session.scalars(select(User.id)).all() == [owner.id]
    assert db.session.scalars(select(Notification.kind).where(Notification.to_address == PHONE)).all() == [
        "register_existing"]
    assert "Nhập mã chúng tôi đã gửi đến số 0987 654 321" in html(client.get("/register/phone"))
    assert client.post("/register/phone", data={"code": "123456"}).status_code == 200 and not logged_in(client)


def test_register_with_an_email_still_sends_the_link(client):
    response = client.post("/register", data={**NEW, "email": "binh@example.vn"})
    assert response.headers["Location"] == "/register/sent"
    assert db.session.scalars(select(Notification.kind)).all() == ["register_confirm"]
    assert db.session.query(User).count() == 0


def test_reset_the_password_by_phone(client, make_user):
    user = phone_user()
    page = html(client.get("/password/forgot"))
    assert "Số điện thoại hoặc email" in page
    asked = client.post("/password/forgot", data={"email": "+84 987 654 321"})
    assert asked.headers["Location"] == "/password/reset/phone"
    code = sent_code(kind="code_reset")
    new = "dua-chin-vang-77"
    refused = client.post("/password/reset/phone", data={"code": wrong(code), "password": new, "confirm": new})
    assert refused.status_code == 200 and "Mã không đúng" in html(refused)
    done = client.post("/password/reset/phone", data={"code": code, "password": new, "confirm": new})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert db.session.get(User, user.id).check_password(new)
    assert client.post("/login", data={"email": "84987654321", "password": new}).status_code == 302


def test_a_number_that_is_not_one_is_refused_on_the_forgot_page(client):
    refused = client.post("/password/forgot", data={"email": "0123 456"})
    assert refused.status_code == 200 and "Nhập số di động Việt Nam (ví dụ 0912 345 678) hoặc email." in html(refused)
    assert db.session.query(OneTimeCode).count() == 0


def test_reset_by_phone_never_tells_whether_the_number_has_an_account(app, make_user):
    phone_user("0912000111")

    def answer(phone):
        client = app.test_client()
        asked = client.post("/password/forgot", data={"email": phone})
        page = client.get(asked.headers["Location"])
        return asked.status_code, asked.headers["Location"], html(page).replace(phone[:4] + " " + phone[4:7]
                                                                                + " " + phone[7:], "X")

    assert answer("0912000111") == answer("0912000222")
    assert db.session.scalars(select(Notification.to_address)).all() == ["0912000111"]
    assert db.session.query(OneTimeCode).count() == 2


def test_staff_still_need_an_email(app, make_user):
    with pytest.raises(services.AccountError, match="email"):
        services.register(email="", full_name="Cán bộ", phone="0900000001", password="x" * 12, role="admin")
    db.session.add(User(email=None, full_name="Cán bộ", phone="0900000001", role="admin",
                        password_hash="x", session_token="t"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert phone_user().email is None  # a buyer may have none


def test_two_accounts_cannot_both_confirm_one_number(app, make_user):
    make_user(phone=PHONE, phone_verified_at=utcnow())
    db.session.add(User(email=None, full_name="B", phone=PHONE, phone_verified_at=utcnow(), role="buyer",
                        password_hash="x", session_token="t2"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_guest_checks_out_without_email_and_the_order_message_goes_to_the_phone(client, make_product):
    product = make_product(price_vnd=25000, stock=10)
    add(client, product, "2")
    page = client.get("/checkout").get_data(as_text=True)
    assert "Email (không bắt buộc)" in page
    response = client.post("/checkout", data={**open_checkout(client), **CONTACT, "email": "", "place": "1"})
    assert response.status_code == 302
    order = placed_order()
    assert (order.buyer_email, order.buyer_phone) == ("", PHONE)
    rows = db.session.execute(select(Notification.kind, Notification.channel, Notification.to_address)
                              .where(Notification.order_id == order.id)).all()
    assert ("order_placed", "phone", PHONE) in rows
    assert all(channel == "phone" for _kind, channel, _to in rows if _kind == "order_placed")
    assert db.session.query(Order).count() == 1


def test_without_a_channel_that_reaches_phones_email_is_needed(app, client, make_user):
    app.config["MESSAGE_CHANNELS"] = ["email"]
    assert "Cần có email: hiện chưa gửi được mã đến điện thoại." in html(client.get("/register"))
    refused = client.post("/register", data=NEW)
    assert refused.status_code == 200 and "chưa gửi được mã đến điện thoại" in html(refused)
    phone_user()
    asked = client.post("/password/forgot", data={"email": PHONE})
    assert asked.status_code == 200 and "chưa gửi được mã đến điện thoại" in html(asked)
    assert db.session.query(OneTimeCode).count() == 0 and db.session.query(User).count() == 1
