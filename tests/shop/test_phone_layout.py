"""Pages on a 360 px phone: a one-row header (menu behind one button, cart icon with its count), the farmer's
bottom bar on the farmer's own screens only, a sticky add-to-cart bar, stacked tables, printed chart values,
photo uploads that work with and without the page's script. The markup is checked here (the browser journey
in tests/browser/test_phone_screen.py measures the real header height)."""
from __future__ import annotations

import re

import pytest

from tests.helpers import login_as


def _get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _header(html: str) -> str:
    match = re.search(r'<header class="site-header">(.*?)</header>', html, re.S)
    assert match, "no site header"
    return match.group(1)


def _header_row(html: str) -> str:
    """The one visible row of the header: everything before the menu's hidden panel."""
    header = _header(html)
    return header[:header.index('<div class="menu-panel">')]


def test_header_is_one_row_with_a_menu_button_and_the_cart_count(client, make_product):
    product = make_product(stock=20)
    client.get("/?lang=en")
    client.post("/cart/add", data={"product_id": product.id, "quantity": "2"})
    html = _get(client, "/")
    row = _header_row(html)
    # One menu button, a <details> so that it opens without JavaScript; no nav link list in the row itself
    # but the two main links (shown from tablets up).
    assert row.count("<details") == 1 and '<summary class="menu-button">' in row and "Menu" in row
    cart = r'<a class="cart-link" href="/cart">.*?Cart \(1\).*?<span class="cart-count"[^>]*>1</span>'
    assert re.search(cart, row, re.S)
    assert row.count("<a ") == 4  # logo, products, hill visits, cart
    menu = _header(html)[len(row):]
    for link in ("/login", "/register", "/sell", "/products", "/tours"):
        assert f'href="{link}"' in menu
    assert 'hreflang="vi"' in menu and 'lang="vi"' in menu


def test_empty_cart_count_is_hidden_but_still_said(client):
    row = _header_row(_get(client, "/?lang=en"))
    assert "Cart (0)" in row and 'class="cart-count empty-cart" aria-hidden="true">0<' in row


def test_logged_in_menu_has_account_and_log_out(client, make_user):
    login_as(client, make_user())
    menu = _header(_get(client, "/?lang=en"))
    assert 'action="/logout"' in menu and 'href="/account"' in menu and 'href="/orders"' in menu


@pytest.fixture
def farmer_client(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    client.get("/?lang=en")
    return client


@pytest.mark.parametrize("path", ["/farmer/dashboard", "/farmer/orders", "/farmer/products", "/farmer/tours",
                                  "/farmer/checkin"])
def test_farmer_screens_have_the_bottom_bar(farmer_client, path):
    html = _get(farmer_client, path)
    bar = re.search(r'<nav class="farm-bar" aria-label="My farm">(.*?)</nav>', html, re.S)
    assert bar, path
    item = r'<a href="([^"]+)"( aria-current="page")?><svg aria-hidden="true"[^>]*>.*?</svg><span>([^<]+)</span>'
    links = re.findall(item, bar.group(1), re.S)
    assert 4 <= len(links) <= 5
    assert [label for _, _, label in links] == ["Income", "Orders", "Products", "Visits", "Check in"]
    current = [href for href, mark, _ in links if mark]
    assert current == [path]


@pytest.mark.parametrize("path", ["/", "/products", "/tours", "/cart", "/account"])
def test_bottom_bar_only_on_the_farmer_screens(farmer_client, path):
    assert 'class="farm-bar"' not in _get(farmer_client, path)


def test_buyers_never_get_the_bottom_bar(client, make_user):
    login_as(client, make_user())
    assert 'class="farm-bar"' not in _get(client, "/")
