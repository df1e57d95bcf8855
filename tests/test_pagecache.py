"""The public-page cache: fast for anonymous visitors, never personal, never stale past its seconds."""
from __future__ import annotations

import re

import pytest

from core.extensions import db
from tests.helpers import PASSWORD, csrf_token_from


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_SECONDS": 60, "WTF_CSRF_ENABLED": True}


def _queries(app, client, url):
    from sqlalchemy import event
    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return response, len(seen)


def test_anonymous_pages_are_served_from_the_cache(app, client, make_product):
    product = make_product(name="Dứa Queen Kép")
    first, queries = _queries(app, client, f"/products/{product.slug}")
    assert first.status_code == 200 and queries > 0
    product.name = "Renamed"
    db.session.commit()
    second, queries = _queries(app, client, f"/products/{product.slug}")
    assert queries == 0 and "Dứa Queen Kép" in second.get_data(as_text=True)
    app.extensions["page_cache"].clear()
    assert "Renamed" in client.get(f"/products/{product.slug}").get_data(as_text=True)


def test_each_visitor_gets_their_own_csrf_token(app, make_product):
    product = make_product(stock=10)
    one, two = app.test_client(), app.test_client()
    token_one = csrf_token_from(one.get(f"/products/{product.slug}").get_data(as_text=True))
    html_two = two.get(f"/products/{product.slug}").get_data(as_text=True)
    token_two = csrf_token_from(html_two)
    assert token_one != token_two and "csrf-token" not in html_two
    # The token works: the cached page's form adds to the cart.
    response = two.post("/cart/add", data={"product_id": product.id, "quantity": "1", "csrf_token": token_two})
    assert response.status_code == 302
    assert "(1)" in two.get("/cart").get_data(as_text=True)


def test_personal_pages_are_never_cached(app, client, make_product, make_user):
    product = make_product(stock=10)
    client.get("/")  # an anonymous copy of the home page is now cached
    user = make_user(full_name="Trịnh Thị Mai")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "Đăng xuất" in html, "a logged-in visitor sees their own page, not the anonymous copy"
    guest = app.test_client()
    token = csrf_token_from(guest.get(f"/products/{product.slug}").get_data(as_text=True))
    guest.post("/cart/add", data={"product_id": product.id, "quantity": "2", "csrf_token": token})
    page = guest.get("/").get_data(as_text=True)
    assert re.search(r"\(1\)", page), "a visitor with a cart sees their cart count"


def test_languages_are_cached_apart(client, make_product):
    make_product()
    assert '<html lang="vi">' in client.get("/products").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/products?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/products").get_data(as_text=True)


def test_off_by_default_outside_production(app):
    from app import create_app
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert fresh.config["PAGE_CACHE_SECONDS"] == 0
