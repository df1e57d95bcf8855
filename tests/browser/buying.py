"""Journeys 2 and 3, through the pages.

2. A buyer searches "dua", puts pineapples from two farms and a visit for 2 adults and 1 child into one
   cart, checks out and gets the VietQR page; the bank's signed notification arrives; the order page turns
   paid; each farmer logs in and finds their farm order.
3. A tourist (in English, without an account) books a visit, pays by card through localstripe's stand-in
   for Stripe.js and gets a ticket; the farmer opens the ticket's check-in address and checks the group in.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import expect

from shop.payments.reference import parse_reference
from tests.browser.live import BANK_WEBHOOK_SECRET
from tests.browser.selling import (PINEAPPLES_A, PINEAPPLES_B, VISIT_A, expect_flash, farm_a, farm_b, log_in,
                                   open_screen, register, submit)
from tests.browser.world import Person, World

BUYER = ("thuha.le@example.vn", "Lê Thu Hà", "0903 111 222")
TOURIST = ("Emma Clarke", "+84 912 000 111", "emma.clarke@example.com")
# Journey 2's cart: 3 kg from farm A, 4 fruits from farm B, a visit of farm A for 2 adults and 1 child.
KG_A, FRUITS_B, ADULTS, CHILDREN = 3, 4, 2, 1
FARM_A_TOTAL = KG_A * PINEAPPLES_A.price_vnd + ADULTS * VISIT_A.price_adult_vnd + CHILDREN * VISIT_A.price_child_vnd
FARM_B_TOTAL = FRUITS_B * PINEAPPLES_B.price_vnd
# Journey 3: the tourist's group, 2 adults, on the visit's second time.
TOURIST_ADULTS = 2
CARD_TOTAL = TOURIST_ADULTS * VISIT_A.price_adult_vnd
THREE_D_SECURE_CARD = "4000002500003155"   # a card that asks for 3-D Secure (see the report on card.js)

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def money(text: str) -> int:
    digits = re.sub(r"\D", "", text)
    assert digits, f"no amount in {text!r}"
    return int(digits)


@dataclass
class PaidOrder:
    reference: str
    total_vnd: int
    url: str


def add_to_cart(world: World, person: Person, name: str, quantity: int) -> None:
    page = person.page
    with page.expect_navigation():
        page.click(f"main .product-card a:has(h3:text-is('{name}'))")
    expect(page.locator("main h1")).to_have_text(name)
    world.seen(person, f"product {name}")
    page.fill("main form.buy input[name=quantity]", str(quantity))
    submit(person, "main form.buy button[type=submit]")
    expect_flash(person)


def book_visit(world: World, person: Person, title: str, slot_index: int, adults: int, children: int) -> None:
    page = person.page
    with page.expect_navigation():
        page.click(f"main a:has(:is(h2, h3):text-is('{title}'))")
    expect(page.locator("main h1")).to_have_text(title)
    world.seen(person, "visit page")
    page.locator("main input[name=slot]").nth(slot_index).check()
    page.fill("#adults", str(adults))
    page.fill("#children", str(children))
    submit(person, "main form.booking button[type=submit]")
    expect_flash(person)
    assert urlsplit(page.url).path == "/cart", page.url


def send_bank_notification(world: World, amount_vnd: int, reference: str, transaction_id: str | None = None) -> dict:
    """What the bank-notification service posts when the transfer arrives, signed with the shared secret."""
    body = json.dumps({"transaction_id": transaction_id or f"FT{reference[3:]}0001", "amount": amount_vnd,
                       "content": f"MBVCB.8812.{reference}.thanh toan don dua", "time": None}).encode()
    signature = hmac.new(BANK_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(world.live.url("/payments/bank/notify"), data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Signature": signature})
    with _DIRECT.open(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def vietqr_order(world: World) -> PaidOrder:
    """Journey 2."""
    def journey(w: World) -> PaidOrder:
        a, b = farm_a(w), farm_b(w)
        buyer = w.person("buyer")
        register(w, buyer, *BUYER)
        page = buyer.page
        w.remember("dua")
        page.fill("main form[role=search] input[name=q]", "dua")
        with page.expect_navigation():
            page.press("main form[role=search] input[name=q]", "Enter")
        for listing in (a.listing, b.listing):
            expect(page.locator("main .product-card", has_text=listing.name)).to_have_count(1)
        w.seen(buyer, "search dua")
        results = page.url
        add_to_cart(w, buyer, a.listing.name, KG_A)
        page.goto(results)
        add_to_cart(w, buyer, b.listing.name, FRUITS_B)
        page.goto("/")
        book_visit(w, buyer, a.visit.title, 0, ADULTS, CHILDREN)

        expect(page.locator("main .cart-farm")).to_have_count(2)
        expect(page.locator("main .cart .line")).to_have_count(3)
        total = FARM_A_TOTAL + FARM_B_TOTAL
        assert money(page.inner_text("main .cart-total .price")) == total
        w.seen(buyer, "cart with two farms and a visit")
        with page.expect_navigation():
            page.click("main a[href='/checkout']")
        assert money(page.inner_text("main .summary dd.grand")) == total
        w.seen(buyer, "checkout")
        submit(buyer, "main button[name=place]")
        expect_flash(buyer)
        amount = money(page.inner_text("main .pay-facts .amount"))
        reference = page.inner_text("main .pay-facts .reference").strip()
        assert amount == total and parse_reference(reference) is not None, (amount, reference)
        expect(page.locator("main figure.qr svg")).to_have_count(1)
        w.seen(buyer, "VietQR payment page")

        public_id = urlsplit(page.url).path.split("/")[2]
        with page.expect_navigation():
            page.click(f"main .actions a[href='/orders/{public_id}'], main .actions a[href^='/orders/{public_id}?']")
        expect(page.locator("main .badge.status-pending_payment").first).to_be_visible()
        w.seen(buyer, "order waiting for payment")

        answer = send_bank_notification(w, amount, reference)
        assert answer == {"status": "matched", "order": reference}, answer
        page.reload()
        expect(page.locator("main h1 + p .badge")).to_have_class(re.compile(r"\bstatus-paid\b"))
        expect(page.locator("main .order-farm .badge.status-paid")).to_have_count(2)
        w.seen(buyer, "order paid")

        for farm, farm_total in ((a, FARM_A_TOTAL), (b, FARM_B_TOTAL)):
            farmer = w.person(f"{farm.farmer.key}, second phone")
            log_in(w, farmer, farm.farmer.email)
            open_screen(farmer, "/farmer/orders")
            card = farmer.page.locator("main .order-list .card", has_text=reference)
            expect(card).to_have_count(1)
            assert money(card.locator(".price").inner_text()) == farm_total
            w.seen(farmer, "orders to prepare")
            with farmer.page.expect_navigation():
                card.locator("h3 a").click()
            expect(farmer.page.locator("main")).to_contain_text(farm.listing.name)
            if farm.visit:
                expect(farmer.page.locator("main")).to_contain_text(farm.visit.title)
            w.seen(farmer, "farm order")
        return PaidOrder(reference, total, page.url)
    return world.once("journey 2", journey)


def checkin_address(world: World, code: str) -> str:
    """The address the ticket's QR code holds: the app's own signing of the code, on this server."""
    from tours import tickets
    from tours.services import find_ticket

    with world.live.app.test_request_context(base_url=world.live.base_url):
        return world.live.url("/checkin/" + tickets.checkin_token(find_ticket(code)))


def card_ticket(world: World) -> PaidOrder:
    """Journey 3."""
    def journey(w: World) -> PaidOrder:
        from core.qr import qr_svg
        from tests.stripe_fixtures import confirm_card, stripe_client

        a = farm_a(w)
        tourist = w.person("tourist", lang="en")
        w.remember(*TOURIST)
        page = tourist.page
        page.goto("/tours")
        w.seen(tourist, "visits")
        book_visit(w, tourist, a.visit.title, 1, TOURIST_ADULTS, 0)
        w.seen(tourist, "cart with a visit")
        with page.expect_navigation():
            page.click("main a[href='/checkout']")
        w.seen(tourist, "checkout")
        page.fill("#name", TOURIST[0])
        page.fill("#phone", TOURIST[1])
        page.fill("#email", TOURIST[2])
        page.check("main input[name=payment_method][value=card]")
        submit(tourist, "main button[name=place]")
        expect_flash(tourist)
        reference = page.inner_text("main .pay-facts .reference").strip()
        w.seen(tourist, "payment page (card chosen)")
        with page.expect_navigation():
            page.click("main a.button.primary[href*='/pay/card']")
        expect(page.locator("#card-element input")).to_have_count(5)   # the stand-in's card fields
        w.seen(tourist, "card page")
        expect(page.locator("#card-submit")).to_be_enabled()

        fields = {"number": THREE_D_SECURE_CARD, "exp_month": "12", "exp_year": "30", "cvc": "123",
                  "postal_code": "75001"}
        for name, value in fields.items():
            page.fill(f"#card-element input[placeholder={name}]", value)
        client_secret = page.get_attribute("#card-form", "data-client-secret")
        intent_id = client_secret.split("_secret_")[0]
        page.click("#card-submit")
        authenticate = page.get_by_role("button", name="Complete authentication")
        expect(authenticate).to_be_visible()
        w.shot(tourist, "3-D Secure question")
        # What Stripe does with the card typed into the Card Element when confirmCardPayment is called (the
        # stand-in only does the 3-D Secure step): the card as typed becomes the intent's payment method.
        typed = page.input_value("#card-element input[placeholder=number]")
        intent = confirm_card(stripe_client(w.stripe_url), intent_id, typed)
        assert intent.status == "requires_action", intent.status
        with page.expect_navigation():
            authenticate.click()
        expect(page.locator("main [data-result]")).to_have_attribute("data-result", "paid")
        w.seen(tourist, "card paid")

        with page.expect_navigation():
            page.click("main [data-result] a.button.primary")
        expect(page.locator("main h1 + p .badge")).to_have_class(re.compile(r"\bstatus-paid\b"))
        w.seen(tourist, "order with its ticket")
        with page.expect_navigation():
            page.click("main .tickets a.button.primary")
        heading = page.inner_text("main h1")
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", heading).group(0)
        w.seen(tourist, "ticket")

        address = checkin_address(w, code.replace("-", ""))
        shown = page.get_attribute("main .ticket-qr svg path", "d")
        expected = re.search(r' d="([^"]+)"', qr_svg(address, scale=5)).group(1)
        assert shown == expected, "the ticket's QR code does not hold the check-in address"

        farmer = a.person
        farmer.page.goto(address)
        card = farmer.page.locator("main .checkin-card")
        expect(card).to_contain_text(TOURIST[0])
        w.seen(farmer, "check-in")
        submit(farmer, "main .checkin-card form button[type=submit]")
        expect_flash(farmer)
        expect(farmer.page.locator("main .flash-success")).to_contain_text(TOURIST[0])
        expect(farmer.page.locator("main .checkin-card")).to_have_class(re.compile(r"\bcheckin-checked_in\b"))
        w.seen(farmer, "checked in")

        page.reload()
        expect(page.locator("main article.ticket")).to_have_class(re.compile(r"\bticket-checked_in\b"))
        w.seen(tourist, "ticket checked in")
        return PaidOrder(reference, CARD_TOTAL, page.url)
    return world.once("journey 3", journey)
