"""Sessions at login: a session cookie planted before login (session fixation) is not the one that ends up
logged in, and its planted keys are dropped; the cookies are HttpOnly and SameSite; a session cookie taken to
another browser (another User-Agent) is not logged in there ("strong" session protection)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from tests.helpers import PASSWORD, count_queries, csrf_token_from


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session", domain="localhost")
    return cookie.value if cookie else None


def _set_session_cookie(client, value: str) -> None:
    client.set_cookie("session", value, domain="localhost")


def test_a_planted_session_cookie_is_not_the_one_that_logs_in(app, make_user):
    user = make_user()
    attacker = app.test_client()
    attacker.get("/?lang=en")  # a session of the attacker's own, with something in it
    with attacker.session_transaction() as session:
        session["planted"] = "attacker value"
    planted = _session_cookie(attacker)
    assert planted

    victim = app.test_client()
    _set_session_cookie(victim, planted)  # e.g. through a shared computer or a cookie-setting subdomain
    response = victim.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    after = _session_cookie(victim)
    assert after and after != planted
    with victim.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en", "the language choice is kept"

    # The attacker, still holding the planted cookie, is not logged in.
    assert attacker.get("/account").status_code == 302
    html = attacker.get("/").get_data(as_text=True)
    assert user.email not in html


def test_session_cookies_are_httponly_and_samesite(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    for name in ("session", "visitor"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
    assert "remember_token" not in cookies, "no remember-me cookie that would outlive a logout"


def test_a_stolen_session_cookie_does_not_work_in_another_browser(app, make_user):
    user = make_user()
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": PASSWORD},
               headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Phone"})
    assert phone.get("/account", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Phone"}).status_code == 200
    thief = app.test_client()
    _set_session_cookie(thief, _session_cookie(phone))
    assert thief.get("/account", headers={"User-Agent": "curl/8.0"}).status_code == 302


def test_a_phone_whose_network_address_changes_stays_logged_in(app, make_user):
    """Carrier NAT gives a phone a new address now and then; the login is bound to the browser, not to it."""
    user = make_user()
    phone = app.test_client()
    agent = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Phone"}
    phone.post("/login", data={"email": user.email, "password": PASSWORD}, headers=agent,
               environ_base={"REMOTE_ADDR": "113.22.5.10"})
    for address in ("113.22.5.10", "27.72.98.4", "14.161.3.77"):
        assert phone.get("/account", headers=agent, environ_base={"REMOTE_ADDR": address}).status_code == 200


def test_logging_out_empties_the_session_but_keeps_the_language(client, make_user):
    user = make_user()
    client.get("/?lang=en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session and session.get("lang") == "en"
    assert client.get("/account").status_code == 302


# -- server-side sessions: expiry, last use, queries, CSRF without a session -----------------------------------

def _row(client):
    from accounts.session_store import StoredSession, key_of
    from core.extensions import db

    db.session.commit()  # a fresh snapshot: what the requests wrote
    return db.session.scalar(select(StoredSession).where(StoredSession.key == key_of(_session_cookie(client))))


def _sessions_count() -> int:
    from accounts.session_store import StoredSession
    from core.extensions import db

    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(StoredSession))


@pytest.mark.parametrize("remember,lifetime", [(False, timedelta(minutes=360)), (True, timedelta(days=30))])
def test_a_session_lasts_its_idle_time_after_the_last_use(client, make_user, remember, lifetime):
    from core.time import utcnow

    user = make_user()
    data = {"email": user.email, "password": PASSWORD} | ({"remember": "y"} if remember else {})
    client.post("/login", data=data)
    assert abs(_row(client).expires_at - (utcnow() + lifetime)) < timedelta(minutes=1)


def test_a_guests_cart_lasts_a_week_in_a_browser_session_cookie(client, make_product):
    from core.time import utcnow

    product = make_product()
    response = client.post("/cart/add", data={"product_id": product.id, "quantity": "1"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires" not in cookie
    assert abs(_row(client).expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)


def test_expired_sessions_are_deleted_when_met_and_by_purge_sessions_twice(app, client, make_user):
    from core.extensions import db

    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    from accounts.session_store import StoredSession

    db.session.execute(update(StoredSession).values(expires_at=datetime(2020, 1, 1)))
    db.session.commit()
    assert client.get("/account").status_code == 302, "an expired session logs no one in"
    assert _sessions_count() == 1, "and its row is deleted when its cookie comes back"
    runner = app.test_cli_runner()
    assert "Expired sessions deleted: 1" in runner.invoke(args=["purge-sessions"]).output
    assert "Expired sessions deleted: 0" in runner.invoke(args=["purge-sessions"]).output
    assert _sessions_count() == 0


def test_last_use_is_written_at_most_every_few_minutes(client, make_user):
    from core.extensions import db
    from core.time import utcnow

    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.get("/account")
    with count_queries() as statements:
        assert client.get("/account").status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE SESSIONS")], statements
    row = _row(client)
    row.last_seen_at = row.last_seen_at - timedelta(minutes=6)
    db.session.commit()
    with count_queries() as statements:
        client.get("/account")
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE SESSIONS")]) == 1
    assert abs(_row(client).last_seen_at - utcnow()) < timedelta(minutes=1)


def test_a_logged_in_page_reads_the_user_with_its_session_in_one_query(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.get("/")
    with count_queries() as statements:
        assert client.get("/orders").status_code == 200  # for logged-in buyers only
    reads = [s for s in statements if "FROM sessions" in s or "FROM users" in s]
    assert len(reads) == 1 and "JOIN users" in reads[0], reads


def test_a_browsing_visitor_costs_no_session_query(client, make_product):
    product = make_product()
    client.get(f"/products/{product.slug}")  # a form: the CSRF secret goes into the visitor cookie
    assert client.get_cookie("visitor", domain="localhost") is not None
    with count_queries() as statements:
        client.get(f"/products/{product.slug}")
    assert not [s for s in statements if "sessions" in s], statements


class TestCsrfWithoutASession:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_visitors_token_works_in_their_browser_only(self, app, make_product):
        product = make_product()
        visitor, other = app.test_client(), app.test_client()
        token = csrf_token_from(visitor.get(f"/products/{product.slug}").get_data(as_text=True))
        csrf_token_from(other.get(f"/products/{product.slug}").get_data(as_text=True))
        assert _sessions_count() == 0
        data = {"product_id": product.id, "quantity": "1", "csrf_token": token}
        assert other.post("/cart/add", data=data).status_code == 400, "another browser's token is refused"
        assert app.test_client().post("/cart/add", data=data).status_code == 400, "so is one without the cookie"
        assert _sessions_count() == 0
        assert visitor.post("/cart/add", data=data).status_code == 302
        assert _sessions_count() == 1
        # The same secret is now in the session row: a form opened before still works.
        assert visitor.post("/cart/add", data=data).status_code == 302


def test_a_session_ended_while_a_request_runs_is_not_written_back(app, make_user):
    from accounts.session_store import ServerSession, StoredSession, persist
    from core.extensions import db
    from core.time import utcnow

    user = make_user()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    row = _row(client)
    with app.test_request_context("/"):
        opened = ServerSession({"_user_id": user.get_id(), "lang": "en"}, key=row.key, user=user,
                               last_seen_at=row.last_seen_at, stored=row.data)
        db.session.execute(delete(StoredSession))  # "log out of all devices" on another device
        db.session.commit()
        opened["cart"] = {"p:1": {"q": 1, "price": 1000}}
        with db.engine.begin() as conn:
            persist(conn, opened, utcnow())
    assert opened.key is None and opened.new_id is None, "no new row, no new cookie"
    assert _sessions_count() == 0
    assert client.get("/account").status_code == 302
