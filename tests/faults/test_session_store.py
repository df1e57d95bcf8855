"""The session store's database goes away: reading the session row fails before the view runs.

The request is answered by the error handlers (the friendly 503 page, in the language the visitor chose),
the visitor is shown as logged out for that page, the browser keeps its cookie, and once the database is
back the same cookie is logged in again."""
from __future__ import annotations

from tests.faults.test_database import assert_unavailable_page
from tests.helpers import login_as


def test_a_session_that_cannot_be_read_gives_the_503_page_and_keeps_the_cookie(client, make_user, faults):
    user = make_user()
    client.get("/?lang=en")
    login_as(client, user)
    cookie = client.get_cookie("session", domain="localhost").value
    with faults.fail_statement(1) as fired:  # the first statement of the request: the session row
        response = client.get("/account")
    assert fired and "FROM sessions" in fired[0]
    assert_unavailable_page(response)  # in English: the language choice travels in the visitor cookie too
    assert user.email not in response.get_data(as_text=True)
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("session", domain="localhost").value == cookie
    assert client.get("/account").status_code == 200


def test_while_the_database_is_down_a_post_is_answered_503_not_as_an_expired_form(app, client, make_user,
                                                                                   faults):
    """The session is checked before the CSRF token: a form sent during the outage is not called expired."""
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    login_page = client.get("/login").get_data(as_text=True)
    from tests.helpers import csrf_token_from

    client.post("/login", data={"email": user.email, "password": "pineapple-123",
                                "csrf_token": csrf_token_from(login_page)})
    with faults.down():
        response = client.post("/account/sessions/end-all", data={"csrf_token": "whatever"})
    assert_unavailable_page(response, english=False)
    assert client.get("/account").status_code == 200
