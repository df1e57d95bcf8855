"""Selling through social networks, in Chromium on a phone-sized screen (issue 14): a farmer opens the share kit
of a product, downloads the poster (an image of the right size whose QR code opens the product with the farmer's
code), a buyer arrives through that link, orders and pays by bank transfer, and the farmer's income page counts
the visit and the order under "from your shares"."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.buying import money, send_bank_notification
from tests.browser.selling import PINEAPPLES_A, expect_flash, farm_a, open_screen, register, submit
from tests.browser.world import World

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FRIEND = ("ban.zalo@example.vn", "Phạm Minh Tuấn", "0912 333 444")
KG = 2


def _farm_code(world: World, farm_name: str) -> str:
    def read():
        from sqlalchemy import select

        from accounts.farms import Farm
        from core.extensions import db

        return db.session.scalar(select(Farm.referral_code).where(Farm.name == farm_name))
    return world.query(read)


def test_a_farmers_poster_brings_a_buyer_whose_order_is_counted_for_the_farmer(world, tmp_path):
    farm = farm_a(world)
    farmer = farm.person
    page = farmer.page
    page.goto("/")
    open_screen(farmer, "/farmer/products")
    card = page.locator("main .card", has_text=farm.listing.name)
    with page.expect_navigation():
        card.locator("a[href^='/farmer/share/product/']").click()
    expect(page.locator("main h1")).to_contain_text(farm.listing.name)
    world.seen(farmer, "share kit")
    code = _farm_code(world, farm.farmer.farm)
    link = page.locator("main [data-share-link]").get_attribute("href")
    assert link == world.live.url(f"{farm.product_url}?ref={code}"), link
    zalo = page.locator("main a[href^='https://sp.zalo.me/share_inline?url=']")
    facebook = page.locator("main a[href^='https://www.facebook.com/sharer/sharer.php?u=']")
    expect(zalo).to_have_count(1)
    expect(facebook).to_have_count(1)
    caption = page.locator("#caption").input_value()
    assert farm.listing.name in caption and link in caption
    expect(page.locator("main [data-copy]")).to_be_visible()  # the script showed the copy button

    with page.expect_download() as download:
        page.click("main a[href$='poster-1080x1080.jpg']")
    path = tmp_path / "poster.jpg"
    download.value.save_as(path)
    poster = Image.open(io.BytesIO(path.read_bytes()))
    assert poster.size == (1080, 1080)
    found = zxingcpp.read_barcodes(poster, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [result.text for result in found] == [link]

    # A friend scans the poster (opens its link) on another phone, buys and pays.
    buyer = world.person("friend from Zalo")
    register(world, buyer, *FRIEND)
    shop = buyer.page
    shop.goto(found[0].text)
    expect(shop.locator("main h1")).to_have_text(farm.listing.name)
    world.seen(buyer, "product through the shared link")  # also reloads it in English: still one visit
    shop.fill("main form.buy input[name=quantity]", str(KG))
    submit(buyer, "main form.buy button[type=submit]")
    expect_flash(buyer)
    shop.goto("/cart")
    with shop.expect_navigation():
        shop.click("main a[href='/checkout']")
    submit(buyer, "main button[name=place]")
    expect_flash(buyer)
    amount = money(shop.inner_text("main .pay-facts .amount"))
    reference = shop.inner_text("main .pay-facts .reference").strip()
    assert amount == KG * PINEAPPLES_A.price_vnd
    assert send_bank_notification(world, amount, reference)["status"] == "matched"

    page.goto("/farmer/dashboard?period=week")
    shares = page.locator("main [data-shares]")
    expect(shares).to_contain_text("Từ chia sẻ của bạn")
    figures = shares.locator("strong").inner_text()
    assert figures.startswith("1 lượt xem, 1 đơn, ") and money(figures.split("đơn,")[1]) == amount, figures
    world.seen(farmer, "income with the shared sale")
    assert urlsplit(page.url).path == "/farmer/dashboard"
    problems = world.problems()
    assert not problems, "\n".join(problems)
