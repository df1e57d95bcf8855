"""Server-side sessions: logging out ends the session wherever its cookie is (a copied cookie, a "remember me"
cookie), "log out of all devices", a password change (keeps this device) or reset (ends all), staff suspending
an account; the account page lists the devices; a visitor who only browses gets no row and no session cookie."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from accounts.session_store import StoredSession, key_of
from core.audit import AuditEntry
from core.extensions import db
from core.time import utcnow
from tests.helpers import PASSWORD, login

ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/124.0.0.0 Mobile Safari/537.36")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.4 Mobile/15E148 Safari/604.1")


def device(app, user_agent: str = ANDROID_CHROME, ip: str = "203.113.45.6"):
    """A test client that is one browser: the same User-Agent and address on every request."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    return client


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session", domain="localhost")
    return cookie.value if cookie else None


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie (same User-Agent and address, as a thief
    who copied the cookie would send)."""
    thief = device(app, client.environ_base["HTTP_USER_AGENT"], client.environ_base["REMOTE_ADDR"])
    thief.set_cookie("session", session_cookie(client), domain="localhost")
    return thief


def rows(user=None) -> list[StoredSession]:
    db.session.commit()  # a fresh snapshot: what the requests wrote
    query = select(StoredSession)
    if user is not None:
        query = query.where(StoredSession.user_id == user.id)
    return list(db.session.scalars(query))


def logged_in(client) -> bool:
    return client.get("/account").status_code == 200


# -- logging out ends the session, wherever its cookie is -------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_logout(app, make_user):
    user = make_user()
    phone = device(app)
    login(phone, user)
    thief = copy_of(app, phone)
    assert logged_in(thief), "before logout the copy works (that is what a stolen cookie is)"
    phone.post("/logout")
    assert not logged_in(thief)
    assert not logged_in(phone)
    assert rows(user) == []


def test_remember_me_after_logout_logs_no_one_in(app, make_user):
    user = make_user()
    phone = device(app)
    response = phone.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    [row] = rows(user)
    assert abs(row.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    assert "Expires=" + row.expires_at.strftime("%a, %d %b %Y %H:%M") in cookie, "cookie and row end together"
    kept = copy_of(app, phone)  # e.g. the cookie file of a browser backed up before logging out
    phone.post("/logout")
    assert not logged_in(kept)


def test_an_old_flask_login_remember_cookie_logs_no_one_in_and_is_removed(app, make_user):
    user = make_user()
    old = device(app)
    old.set_cookie("remember_token", encode_cookie(user.get_id()), domain="localhost")
    response = old.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))


def test_log_out_of_all_devices_ends_every_session_this_one_too(app, make_user):
    user, other = make_user(), make_user()
    phone, laptop, someone_else = device(app), device(app, IPHONE_SAFARI, "14.160.1.2"), device(app)
    for client in (phone, laptop):
        login(client, user)
    login(someone_else, other)
    response = laptop.post("/account/sessions/end-all")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not logged_in(phone) and not logged_in(laptop)
    assert rows(user) == [] and logged_in(someone_else)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.sessions_ended"))
    assert entry.entity_id == user.id and '"ended": 2' in entry.details


def test_a_password_change_keeps_this_device_and_ends_the_others(app, make_user):
    user = make_user()
    phone, laptop = device(app), device(app, IPHONE_SAFARI, "14.160.1.2")
    login(phone, user)
    login(laptop, user)
    before = session_cookie(phone)
    response = phone.post("/account", data={"current": PASSWORD, "password": "new-password-1",
                                            "confirm": "new-password-1"})
    assert response.status_code == 302
    assert logged_in(phone) and session_cookie(phone) != before, "this device stays, on a new session id"
    assert not logged_in(laptop)
    assert len(rows(user)) == 1


def test_a_password_reset_ends_every_session(app, make_user):
    from accounts import reset

    user = make_user()
    phone, laptop = device(app), device(app, IPHONE_SAFARI, "14.160.1.2")
    login(phone, user)
    login(laptop, user)
    token = reset.make_token(user, now=utcnow())
    response = laptop.post(f"/password/reset/{token}", data={"password": "new-password-1",
                                                            "confirm": "new-password-1"})
    assert response.status_code == 302
    assert not logged_in(phone) and not logged_in(laptop)
    assert rows(user) == []


# -- staff suspend an account -------------------------------------------------------------------------------------

def test_staff_suspending_an_account_ends_its_sessions_and_it_cannot_log_in(app, make_user):
    staff, user = make_user(role="admin"), make_user(role="farmer")
    phone, office = device(app), device(app, IPHONE_SAFARI, "14.160.1.2")
    login(phone, user)
    login(office, staff)
    response = office.post(f"/admin/users/{user.id}/suspend", data={"reason": "Bán dứa giả VietGAP."})
    assert response.status_code == 302
    assert not logged_in(phone) and rows(user) == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.suspended"))
    assert (entry.actor_id, entry.entity_id, entry.to_state) == (staff.id, user.id, "suspended")
    assert "Bán dứa giả VietGAP." in entry.details
    # The login page says what it says for a wrong password.
    refused = phone.post("/login?lang=en", data={"email": user.email, "password": PASSWORD})
    wrong = phone.post("/login?lang=en", data={"email": user.email, "password": "not-the-password"})
    assert refused.status_code == wrong.status_code == 200
    assert "The email or the password is not right." in refused.get_data(as_text=True)
    # Reinstated, the account logs in again.
    assert office.post(f"/admin/users/{user.id}/reinstate").status_code == 302
    login(phone, user)
    assert logged_in(phone)


def test_staff_cannot_suspend_themselves_and_a_reason_is_needed(app, make_user):
    staff, user = make_user(role="admin"), make_user()
    office = device(app)
    login(office, staff)
    office.post(f"/admin/users/{staff.id}/suspend?lang=en", data={"reason": "Thử."})
    assert "You cannot suspend your own account." in office.get("/admin/users").get_data(as_text=True)
    office.post(f"/admin/users/{user.id}/suspend", data={"reason": ""})
    assert "Give the reason for suspending this account." in office.get("/admin/users").get_data(as_text=True)
    db.session.expire_all()
    assert staff.active and user.active
    assert logged_in(office)


# -- the account page lists the devices ---------------------------------------------------------------------------

def test_the_account_page_lists_two_devices_and_ends_one(app, make_user):
    user = make_user()
    phone, laptop = device(app), device(app, IPHONE_SAFARI, "14.160.1.2")
    login(phone, user)
    login(laptop, user)
    text = phone.get("/account").get_data(as_text=True)
    assert "Chrome trên Android" in text and "Safari trên iOS" in text
    assert "203.113.•.•" in text and "14.160.•.•" in text and "45.6" not in text
    assert text.count("thiết bị này") == 1
    local = (utcnow() + timedelta(hours=7)).strftime("%H:%M")  # Asia/Ho_Chi_Minh, UTC+7
    assert local in text or ((utcnow() + timedelta(hours=7, minutes=-1)).strftime("%H:%M")) in text
    other = next(row for row in rows(user) if row.user_agent == IPHONE_SAFARI)
    assert phone.post(f"/account/sessions/{other.id}/end").status_code == 302
    assert not logged_in(laptop) and logged_in(phone)


def test_no_one_ends_another_users_session(app, make_user):
    user, other = make_user(), make_user()
    mine, theirs = device(app), device(app)
    login(mine, user)
    login(theirs, other)
    [their_row] = rows(other)
    mine.post(f"/account/sessions/{their_row.id}/end")
    assert logged_in(theirs)


# -- no row for browsing; a row once something must be remembered ---------------------------------------------------

@pytest.fixture
def public_pages(make_product, make_tour):
    product = make_product()
    make_tour(product.farm, title="Hái dứa", slug="hai-dua", price_adult_vnd=80000)
    return product, ["/", "/products", "/products?q=dua", f"/products/{product.slug}", f"/farms/{product.farm.slug}",
                     "/tours", "/tours/hai-dua", "/login", "/register"]


def test_a_visitor_who_only_browses_gets_no_row_and_no_session_cookie(app, public_pages):
    _product, pages = public_pages
    visitor = device(app)
    for path in pages:
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie")), path
    assert session_cookie(visitor) is None
    assert rows() == []


@pytest.mark.parametrize("action", ["cart", "language", "login"])
def test_a_cart_a_language_choice_or_a_login_makes_a_row(app, make_user, public_pages, action):
    product, _pages = public_pages
    visitor = device(app)
    visitor.get(f"/products/{product.slug}")
    if action == "cart":
        visitor.post("/cart/add", data={"product_id": product.id, "quantity": "2"})
    elif action == "language":
        visitor.get("/?lang=en")
    else:
        login(visitor, make_user())
    [row] = rows()
    assert session_cookie(visitor) and row.key == key_of(session_cookie(visitor))
    assert row.user_agent == ANDROID_CHROME and row.ip_address == "203.113.45.6"
    assert session_cookie(visitor) not in row.data


def test_the_cookie_is_a_random_id_and_the_table_holds_only_its_hash(app, make_user):
    user = make_user()
    phone = device(app)
    login(phone, user)
    raw = session_cookie(phone)
    assert len(raw) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    [row] = rows(user)
    assert row.key == key_of(raw) and raw not in row.key
    assert db.session.scalar(select(func.count()).select_from(StoredSession)
                             .where(StoredSession.key == raw)) == 0


def test_the_session_id_changes_at_login_and_the_old_row_is_deleted(app, make_user):
    visitor = device(app)
    visitor.get("/?lang=en")
    before = session_cookie(visitor)
    login(visitor, make_user())
    after = session_cookie(visitor)
    assert before and after and after != before
    assert [row.key for row in rows()] == [key_of(after)]
