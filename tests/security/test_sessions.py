"""Sessions at login: a session cookie planted before login (session fixation) is not the one that ends up
logged in, and its planted keys are dropped; the cookies are HttpOnly and SameSite; a session cookie taken to
another browser (another User-Agent) is not logged in there ("strong" session protection)."""
from __future__ import annotations

from tests.helpers import PASSWORD


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


def test_logging_out_empties_the_session_but_keeps_the_language(client, make_user):
    user = make_user()
    client.get("/?lang=en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session and session.get("lang") == "en"
    assert client.get("/account").status_code == 302
