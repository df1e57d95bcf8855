"""A 360×740 phone in Chromium: the header is one row of at most 56 px, the add-to-cart button is in the first
screen of a product page, product cards stand two by two, the menu opens without JavaScript, and the farmer's
screens keep their bottom bar at the bottom of the screen."""
from __future__ import annotations

import pytest

from tests.browser.live import PHONE_VIEWPORT
from tests.browser.selling import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HEADER_MAX = 56


@pytest.fixture(scope="module")
def shop(world):
    def make():
        from tests.factories import make_farm, make_product

        farm = make_farm(name="Vườn dứa Điện Thoại", description="Dứa Queen trên đồi Kép. " * 20)
        product = make_product(farm=farm, name="Dứa Queen màn hình nhỏ", description="Ngọt thanh. " * 150)
        make_product(farm=farm, name="Mứt dứa màn hình nhỏ", unit="jar")
        return farm.owner.email, product.slug
    return world.query(make)


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box, f"{selector} is not on the screen"
    return box


def test_header_is_one_short_row_and_add_to_cart_is_in_the_first_screen(world, shop):
    _, slug = shop
    page = world.person("phone buyer").page
    page.goto(f"/products/{slug}")
    assert _box(page, "header.site-header")["height"] <= HEADER_MAX
    button = page.locator("main .buy-bar button[type=submit]")
    box = button.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE_VIEWPORT["height"], box
    assert button.is_visible()
    with page.expect_navigation():
        button.click()
    assert page.locator(".cart-count").inner_text().strip() == "1"


def test_cards_stand_two_by_two(world, shop):
    page = world.person("phone buyer").page
    page.goto("/products")
    cards = page.locator("main .product-card")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"] + first["width"] - 1
    assert first["x"] >= 0 and second["x"] + second["width"] <= PHONE_VIEWPORT["width"]


def test_the_menu_opens_without_javascript(world, shop):
    context = world.browser.new_context(viewport=PHONE_VIEWPORT, base_url=world.live.base_url,
                                        java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        login = page.locator('header .menu a[href="/login"]')
        assert not login.is_visible()
        page.click("header .menu > summary")
        assert login.is_visible()
        assert _box(page, "header .header-row")["height"] <= HEADER_MAX
    finally:
        context.close()


def test_the_farmers_bar_is_at_the_bottom_of_the_screen(world, shop):
    from tests.helpers import PASSWORD

    email, _ = shop
    farmer = world.person("phone farmer")
    log_in(world, farmer, email, PASSWORD)
    farmer.page.goto("/farmer/products")
    bar = _box(farmer.page, "nav.farm-bar")
    assert abs(bar["y"] + bar["height"] - PHONE_VIEWPORT["height"]) < 2 and bar["width"] == PHONE_VIEWPORT["width"]
    assert _box(farmer.page, "header .header-row")["height"] <= HEADER_MAX
    assert farmer.page.locator('nav.farm-bar a[aria-current="page"]').inner_text().strip() == "Sản phẩm"


def test_a_big_photo_is_shrunk_in_the_browser_and_sent_with_progress(world, shop, tmp_path):
    import io
    import random

    from PIL import Image

    from tests.browser.selling import expect_flash

    email, slug = shop
    rng = random.Random(7)
    big = Image.new("RGB", (3200, 2400))
    big.putdata([(rng.randrange(256), rng.randrange(256), 60) for _ in range(3200 * 2400)])  # camera-like noise
    path = tmp_path / "IMG_2001.JPG"
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())

    def product_id():
        from sqlalchemy import select

        from core.extensions import db
        from shop.models import Product
        return db.session.scalar(select(Product.id).where(Product.slug == slug))

    farmer = world.person("phone farmer")
    page = farmer.page
    page.goto(f"/farmer/products/{world.query(product_id)}/edit")
    sent = []
    page.on("request", lambda request: sent.append(len(request.post_data_buffer or b""))
            if request.method == "POST" and request.url.endswith("/photos") else None)
    page.set_input_files("#photos", str(path))
    with page.expect_navigation():
        page.click('main form[data-shrink-photos] button[type=submit]')
    expect_flash(farmer)
    assert sent and sent[0] < path.stat().st_size / 3, (sent, path.stat().st_size)
    assert page.locator("main img[src^='/media/']").count() >= 1


@pytest.mark.parametrize("path", ["/", "/products", "/tours", "/farmer/dashboard", "/farmer/products",
                                  "/farmer/orders", "/farmer/tours", "/sell"])
def test_no_page_is_wider_than_the_phone(world, shop, path):
    from tests.helpers import PASSWORD

    email, _ = shop
    farmer = world.person("phone farmer")
    if not farmer.page.locator('header form[action="/logout"]').count():
        log_in(world, farmer, email, PASSWORD)
    farmer.page.goto(path)
    width = farmer.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"], (path, width)
