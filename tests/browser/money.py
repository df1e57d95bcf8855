"""Journey 6, through the pages: money as it moves in Vietnam.

A buyer orders from farm B and pays by two bank transfers that add up; the pay page, left open, turns to
"paid" by itself (static/js/paystatus.js). Farmer B completes the order and sees its money move from pending
to available; commune staff pay it out, and the farmer's available balance is back to nothing.
"""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from tests.browser.buying import money, send_bank_notification, vietqr_order
from tests.browser.selling import FEE_BASIS_POINTS, PINEAPPLES_B, expect_flash, farm_b, open_screen, staff, submit
from tests.browser.world import World

FRUITS = 3
SECOND_PART = 6_000


def _balance(page) -> tuple[int, int, int]:
    """Paid out, pending and available, as the farmer's dashboard shows them."""
    facts = page.locator("main dl.facts").first.locator("dd")
    return money(facts.nth(1).inner_text()), money(facts.nth(2).inner_text()), money(facts.nth(3).inner_text())


def two_transfers_paid_out(world: World) -> dict:
    def journey(w: World) -> dict:
        vietqr_order(w)           # the buyer of journey 2, logged in; farm B with one paid order, not delivered
        b = farm_b(w)
        buyer = w.person("buyer")
        page = buyer.page
        page.goto(b.product_url)
        page.fill("main form.buy input[name=quantity]", str(FRUITS))
        submit(buyer, "main form.buy button[type=submit]")
        expect_flash(buyer)
        page.goto("/checkout")
        submit(buyer, "main button[name=place]")
        total = FRUITS * PINEAPPLES_B.price_vnd
        assert money(page.inner_text("main .pay-facts .amount")) == total
        reference = page.inner_text("main .pay-facts .reference").strip()

        farmer = w.person(f"{b.farmer.key}, second phone")
        open_screen(farmer, "/farmer/dashboard")
        paid_out, pending_before, available_before = _balance(farmer.page)
        assert (paid_out, available_before) == (0, 0)

        # The first transfer is short: the page, left alone, shows what came and asks only for the rest.
        assert send_bank_notification(w, total - SECOND_PART, reference, f"FT{reference[3:]}A1")["status"] == "underpaid"
        expect(page.locator("main .notice[data-received]")).to_be_visible(timeout=15_000)
        assert money(page.inner_text("main .pay-facts .amount")) == SECOND_PART
        # The second transfer completes it, and the page turns to "paid" by itself.
        assert send_bank_notification(w, SECOND_PART, reference, f"FT{reference[3:]}A2")["status"] == "matched"
        expect(page.locator("main .notice-success")).to_be_visible(timeout=15_000)

        net = total - (total * FEE_BASIS_POINTS + 5000) // 10000
        farmer.page.reload()
        assert _balance(farmer.page) == (0, pending_before + net, 0)
        open_screen(farmer, "/farmer/orders")
        card = farmer.page.locator("main .order-list .card", has_text=reference)
        with farmer.page.expect_navigation():
            card.locator("h3 a").click()
        submit(farmer, "main form[action$='/ready'] button")
        submit(farmer, "main form[action$='/complete'] button")
        expect(farmer.page.locator("main .status.status-completed")).to_be_visible()
        open_screen(farmer, "/farmer/dashboard")
        assert _balance(farmer.page) == (0, pending_before, net)

        admin = staff(w)
        admin.page.goto("/admin/payouts")
        with admin.page.expect_navigation():
            admin.page.click(f"main th a:text-is('{b.farmer.farm}')")
        # (An amount above what is available is refused: tests/admin/test_payout_balances.py.)
        admin.page.fill("#amount_vnd", str(net))
        admin.page.fill("#paid_on", date.today().isoformat())
        admin.page.fill("#bank_reference", "FT26336123456")
        submit(admin, "main form[method=post] button.primary")
        expect_flash(admin)

        farmer.page.reload()
        assert _balance(farmer.page) == (net, pending_before, 0)
        return {"reference": reference, "total": total, "net": net}
    return world.once("journey 6", journey)
