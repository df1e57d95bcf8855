"""Check-in without signal, in Chromium on a 360×740 phone: the farmer opens the offline check-in page while the
phone has signal, loses it on the hill, checks in one group by the code they read out and one by the QR code
opened as the phone's camera would, and the two check-ins reach the market when the signal is back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.selling import log_in
from tests.browser.world import World
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAGE_KEPT = """() => caches.match("/farmer/checkin/offline", {ignoreSearch: true}).then((hit) => Boolean(hit))"""


def _todays_visit(world: World) -> dict:
    """A visit starting now (so: today, whatever the hour) with three groups who booked and paid yesterday."""
    def make():
        from flask import current_app
        from itsdangerous import Signer

        from core.time import utcnow
        from tests.factories import buyer_details, make_farm, make_order, make_slot, make_tour, pay
        from tours import tickets
        from tours.services import tickets_for_order

        now = utcnow()
        farm = make_farm(name="Vườn dứa Cô Hoa", village="Kép")
        slot = make_slot(make_tour(farm, title="Đồi dứa buổi sớm"), starts_at=now, capacity=10)
        groups = []
        yesterday = now - timedelta(days=1)
        for name, phone, adults in (("Phạm Thu Trang", "0912345001", 2), ("Đỗ Minh Khôi", "0912345002", 3),
                                    ("Vũ Thị Lan", "0912345003", 1)):
            order = pay(make_order((slot, adults, 0), buyer=buyer_details(name=name, phone=phone), now=yesterday),
                        now=yesterday)
            ticket = tickets_for_order(order)[0]
            groups.append({"name": name, "code": ticket.display_code, "token": tickets.checkin_token(ticket),
                           "old_token": Signer(current_app.config["SECRET_KEY"], salt=tickets.SIGNING_SALT)
                           .sign(ticket.code).decode()})
        return {"email": farm.owner.email, "groups": groups}
    return world.once("a visit today", lambda w: w.query(make))


def _checked_in(world: World) -> list[str]:
    def read():
        from sqlalchemy import select

        from core.extensions import db
        from tours.models import Ticket

        return sorted(t.line.farm_order.order.buyer_name
                      for t in db.session.scalars(select(Ticket).where(Ticket.checked_in_at.is_not(None))))
    return world.query(read)


def test_a_farmer_checks_in_two_groups_without_signal_and_they_sync_when_it_is_back(world):
    visit = _todays_visit(world)
    first, second, third = visit["groups"]
    hoa = world.person("Cô Hoa, on the hill")
    log_in(world, hoa, visit["email"], PASSWORD)
    page = hoa.page
    page.goto("/farmer/checkin")
    with page.expect_navigation():
        page.click("main a[href^='/farmer/checkin/offline']")
    root = page.locator("#offline-checkin")
    expect(root.locator("[data-list-state]")).to_contain_text("3 vé")
    page.wait_for_function(PAGE_KEPT)  # the service worker keeps the page for when there is no signal
    world.shot(hoa, "offline check-in page, with signal")

    hoa.context.set_offline(True)
    expect(root.locator("[data-status]")).to_contain_text("Không có sóng")
    page.fill("#offline-code", first["code"].lower())
    page.click("[data-check] button")
    expect(root.locator("[data-result-title]")).to_have_text(first["name"])
    page.click("[data-checkin]")
    expect(root.locator("[data-result-message]")).to_contain_text(f"Đã nhận khách: {first['name']}")

    page.goto(f"/checkin/{second['token']}")  # what the camera opens: the cached page answers, offline
    expect(root.locator("[data-result-title]")).to_have_text(second["name"])
    expect(root.locator("[data-status]")).to_contain_text("Không có sóng")
    page.click("[data-checkin]")
    expect(root.locator("[data-queue-state]")).to_contain_text("đang chờ gửi: 2")
    world.shot(hoa, "two check-ins waiting, no signal")
    assert _checked_in(world) == []
    # a QR address mistyped, and one of a ticket sent before the signature (found by its code)
    page.fill("#offline-code", "/checkin/%E0%A4%A")
    page.click("[data-check] button")
    expect(root.locator("[data-result-message]")).to_contain_text("không phải vé hợp lệ")
    page.fill("#offline-code", f"{world.live.base_url}/checkin/{third['old_token']}")
    page.click("[data-check] button")
    expect(root.locator("[data-result-title]")).to_have_text(third["name"])

    hoa.context.set_offline(False)
    expect(root.locator("[data-queue-state]")).to_contain_text("đã được gửi")
    expect(root.locator("[data-today] li[data-result=ok]")).to_have_count(2)
    world.shot(hoa, "check-ins sent")
    assert _checked_in(world) == sorted([first["name"], second["name"]])
    assert world.problems() == []
