"""Visits and trust (issue 15), in Chromium on a 360×740 phone: a visitor joins the waiting list of a full visit,
gets the offer when a place frees and books it; a buyer reviews a completed order and the rating and the review
appear on the product page; a farmer records a harvest batch, and the QR code of its label sheet opens the batch's
public page."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.buying import money, send_bank_notification
from tests.browser.selling import expect_flash, log_in, submit
from tests.browser.world import World
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _full_visit(world: World) -> dict:
    """A visit time of two places, both taken by one paid booking."""
    def make():
        from core.time import utcnow
        from tests.factories import book, make_slot, make_tour, make_user, pay
        from tours.services import tickets_for_order

        now = utcnow()
        tour = make_tour(title="Hái dứa buổi sáng", price_adult_vnd=100000, price_child_vnd=0)
        slot = make_slot(tour, starts_at=now + timedelta(days=6), capacity=2)
        first = make_user(full_name="Trần Văn Bình", phone="0912000111")
        order = pay(book(slot, 2, user=first, email=first.email, now=now), now=now)
        waiting = make_user(full_name="Lê Thị Mai", phone="0987654321")
        return {"tour": tour.slug, "slot": slot.id, "first": first.email, "ticket": tickets_for_order(order)[0].code,
                "waiting": waiting.email}
    return world.once("full visit", lambda w: w.query(make))


def _offer_link(world: World, slot_id: int) -> str | None:
    def read():
        from sqlalchemy import select

        from core.extensions import db
        from core.outbox import Notification

        note = db.session.scalars(select(Notification).where(Notification.kind == "waitlist_offer")
                                  .order_by(Notification.id.desc())).first()
        return note.body.split(world.live.base_url, 1)[1].split()[0] if note else None
    return world.query(read)


def _tickets_on(world: World, slot_id: int) -> dict:
    def read():
        from sqlalchemy import select

        from core.extensions import db
        from shop.order_models import OrderLine
        from tours.models import Ticket, TourSlot

        valid = db.session.scalars(select(Ticket).join(OrderLine).where(OrderLine.slot_id == slot_id,
                                                                        Ticket.status == "valid")).all()
        return {"holders": sorted(t.line.farm_order.order.user.full_name for t in valid),
                "taken": db.session.get(TourSlot, slot_id).seats_taken}
    return world.query(read)


def test_a_visitor_on_the_waiting_list_gets_the_freed_place_and_books_it(world):
    visit = _full_visit(world)
    mai = world.person("Chị Mai, waiting")
    log_in(world, mai, visit["waiting"], PASSWORD)
    page = mai.page
    page.goto(f"/tours/{visit['tour']}")
    slot = page.locator(f"#slot-{visit['slot']}")
    expect(slot.locator("input[name=slot]")).to_have_count(0)
    with page.expect_navigation():
        slot.locator("a", has_text="Đăng ký danh sách chờ").click()
    world.seen(mai, "waiting list form")
    page.fill("#name", "Lê Thị Mai")
    page.fill("#phone", "0987 654 321")
    page.fill("#adults", "1")
    page.fill("#children", "0")
    submit(mai)
    expect_flash(mai)
    assert _offer_link(world, visit["slot"]) is None, "no place is free yet"

    binh = world.person("Anh Bình, cannot come")
    log_in(world, binh, visit["first"], PASSWORD)
    binh.page.goto(f"/tickets/{visit['ticket']}")
    binh.page.click("main details.confirm summary")
    submit(binh, "main details.confirm form button[type=submit]")
    expect_flash(binh)
    world.seen(binh, "booking cancelled")

    link = _offer_link(world, visit["slot"])
    assert link and link.startswith("/waitlist/offer/"), link
    page.goto(link)
    expect(page.locator("main h1")).to_have_text("Chỗ đang giữ cho bạn")
    world.seen(mai, "places held for her")
    submit(mai, "main form button[type=submit]")
    expect_flash(mai)
    assert page.url.endswith("/cart"), page.url
    with page.expect_navigation():
        page.click("main a[href='/checkout']")
    submit(mai, "main button[name=place]")
    expect_flash(mai)
    amount = money(page.inner_text("main .pay-facts .amount"))
    reference = page.inner_text("main .pay-facts .reference").strip()
    assert amount == 100000, "one adult at 100,000 ₫"
    answer = send_bank_notification(world, amount, reference)
    assert answer == {"status": "matched", "order": reference}, answer
    page.reload()
    world.seen(mai, "visit paid")
    assert _tickets_on(world, visit["slot"]) == {"holders": ["Lê Thị Mai"], "taken": 1}
    assert world.problems() == []


def _completed_order(world: World) -> dict:
    def make():
        from core.extensions import db
        from core.time import utcnow
        from tests.factories import make_order, make_product, make_user, pay

        now = utcnow()
        product = make_product(name="Dứa Queen đồi Kép", price_vnd=25000, unit="kg", stock=100)
        buyer = make_user(full_name="Phạm Thu Hương")
        order = pay(make_order((product, 3), user=buyer, now=now), now=now)
        order.farm_orders[0].status = "completed"
        db.session.commit()
        return {"product": product.slug, "buyer": buyer.email, "order": order.public_id}
    return world.once("completed order", lambda w: w.query(make))


def test_a_buyer_reviews_a_completed_order_and_the_product_page_shows_it(world):
    done = _completed_order(world)
    huong = world.person("Chị Hương, reviewer")
    log_in(world, huong, done["buyer"], PASSWORD)
    page = huong.page
    page.goto(f"/orders/{done['order']}")
    with page.expect_navigation():
        page.click(f"main a[href$='/review'][href^='/orders/{done['order']}/farms/']")
    world.seen(huong, "review form")
    page.check("#stars-4")
    review = "Dứa ngọt, mọng nước, giao đúng hẹn."
    world.remember(review)
    page.fill("#text", review)
    submit(huong)
    expect_flash(huong)
    expect(page.locator("main .my-review")).to_contain_text(review)

    reader = world.person("a reader of the product page")
    reader.page.goto(f"/products/{done['product']}")
    main = reader.page.locator("main")
    expect(main.locator(".rating").first).to_contain_text("4,0 trên 5")
    expect(main.locator(".reviews .review")).to_have_count(1)
    expect(main.locator(".reviews .review")).to_contain_text(review)
    expect(main.locator(".reviews .review")).to_contain_text("Hương")
    world.seen(reader, "product page with the review")
    data = json.loads(reader.page.inner_text("script[type='application/ld+json']"))
    assert data["aggregateRating"]["ratingValue"] == 4.0 and data["aggregateRating"]["reviewCount"] == 1
    assert world.problems() == []


def _farm_with_a_product(world: World) -> dict:
    def make():
        from tests.factories import make_farm, make_product

        farm = make_farm(name="Vườn dứa Cô Lan", village="Kép")
        product = make_product(farm=farm, name="Dứa Queen Cô Lan", price_vnd=22000, unit="kg", stock=200)
        return {"email": farm.owner.email, "product": product.id}
    return world.once("farm with a product", lambda w: w.query(make))


def test_a_batch_label_qr_decodes_to_the_batch_page(world):
    import io
    from urllib.parse import urlsplit

    import pypdf
    import zxingcpp

    farm = _farm_with_a_product(world)
    lan = world.person("Cô Lan, batches")
    log_in(world, lan, farm["email"], PASSWORD)
    page = lan.page
    page.goto("/farmer/batches")
    world.seen(lan, "harvest batches")
    page.select_option("#product_id", str(farm["product"]))
    page.fill("#harvested_on", _today())
    page.fill("#plot", "Lô 2, sườn đồi phía đông")
    page.fill("#quantity", "350")
    submit(lan)
    expect_flash(lan)
    with page.expect_download() as download:
        page.click("main .card a.button")
    data = download.value.path().read_bytes()
    codes = {found.text for p in pypdf.PdfReader(io.BytesIO(data)).pages for picture in p.images
             for found in zxingcpp.read_barcodes(picture.image, formats=zxingcpp.BarcodeFormat.QRCode)}
    assert len(codes) == 1, codes
    path = urlsplit(codes.pop()).path
    assert path.startswith("/batch/"), path
    reader = world.person("a buyer scanning the label")
    reader.page.goto(path)
    expect(reader.page.locator("main h1")).to_contain_text(path.rsplit("/", 1)[1])
    expect(reader.page.locator("main")).to_contain_text("Lô 2, sườn đồi phía đông")
    expect(reader.page.locator("main")).to_contain_text("Vườn dứa Cô Lan")
    world.seen(reader, "batch page")
    assert world.problems() == []


def _today() -> str:
    from shop.certificates import today
    return today().isoformat()
