"""Open redirects: a ``next`` that points off the site is refused everywhere one is taken (log in, register,
add to cart: after success and after a refusal); a path on the site is kept."""
from __future__ import annotations

import itertools
from urllib.parse import urljoin, urlsplit

import pytest

from tests.helpers import PASSWORD

EVIL = [
    "//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "javascript:alert(1)", "%2F%2Fevil.com",
    "http:evil.com",
    # and a few more ways browsers read as another site
    "///evil.com", "/\t/evil.com", " //evil.com", "\\/evil.com", "https:/evil.com", "//evil.com/%2F..",
    "data:text/html,<script>alert(1)</script>", "//google.com@evil.com",
]
_emails = itertools.count(1)


def stays_here(location: str) -> bool:
    """The browser stays on this site: a plain path, no scheme, no host, nothing a browser would turn into one."""
    parts = urlsplit(urljoin("http://localhost/login", location))
    return (parts.scheme, parts.netloc) == ("http", "localhost") and location.startswith("/") \
        and not location.startswith("//") and "\\" not in location and not any(ord(ch) < 33 for ch in location)


def test_a_path_on_the_site_is_kept(fresh_world):
    client = fresh_world.client("anonymous", fresh=True)
    response = client.post("/login", query_string={"next": "/orders?page=2"},
                           data={"email": fresh_world.world.users["buyer_a"].email, "password": PASSWORD})
    assert response.headers["Location"] == "/orders?page=2"


@pytest.mark.parametrize("target", EVIL)
def test_next_off_the_site_is_refused(fresh_world, target):
    shared = fresh_world
    product = shared.world.params["product_a_slug"]
    checks = []

    client = shared.client("anonymous", fresh=True)
    checks.append(("login", client.post("/login", query_string={"next": target},
                                        data={"email": shared.world.users["buyer_a"].email, "password": PASSWORD})))
    # Already logged in: the login page sends home, whatever the next.
    checks.append(("login again", client.get("/login", query_string={"next": target})))

    client = shared.client("anonymous", fresh=True)
    checks.append(("register", client.post("/register", query_string={"next": target}, data={
        "email": f"new{next(_emails)}@example.vn", "full_name": "Khách Mới", "phone": "0912345678",
        "password": "dua-ngot-2026", "confirm": "dua-ngot-2026"})))

    client = shared.client("anonymous", fresh=True)
    product_id = shared.world.params["product_a"]
    checks.append(("cart add", client.post("/cart/add", data={"product_id": product_id, "quantity": "1",
                                                                "next": target})))
    checks.append(("cart add refused", client.post("/cart/add", data={"product_id": product_id, "quantity": "-3",
                                                                        "next": target})))
    # Flask-Login's own redirect to the login page carries a next of this site only.
    checks.append(("login required", client.get("/account", query_string={"next": target})))

    for what, response in checks:
        assert response.status_code == 302, (what, response.status_code)
        location = response.headers["Location"]
        assert stays_here(location), (what, target, location)
        assert "evil" not in urlsplit(location).netloc and not location.startswith(("/\\", "//")), (what, location)
    assert checks[0][1].headers["Location"] == "/"
    assert checks[3][1].headers["Location"] == f"/products/{product}"
