"""The market as people use it, in Chromium on a phone-sized screen (issue 7, "Real-browser journeys").

One live app and one browser per module; each test asks the world for the journeys it builds on, so it
also runs alone (``-k journey_4`` runs journeys 1 to 4), and a full run does each journey once. The
journeys themselves are in selling.py, buying.py and income.py; languages.py compares the renderings.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.browser.buying import CARD_TOTAL, FARM_A_TOTAL, FARM_B_TOTAL, card_ticket, vietqr_order
from tests.browser.income import income_checked
from tests.browser.languages import compare, data_strings, differing
from tests.browser.selling import FARMER_A, VISIT_A, farm_a
from tests.browser.world import World

# One worker runs this whole file: `make test` passes --dist loadfile. The xdist_group mark says the same for
# --dist loadgroup, which pytest-xdist 3.8 cannot honour under pytest 9 (it renames node ids pytest 9 ignores).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def no_problems(world: World) -> None:
    problems = world.problems()
    assert not problems, "\n".join(problems)


def test_journey_1_a_farmer_lists_pineapples_with_a_photo_and_a_visit_with_three_times(world):
    farm = farm_a(world)

    def stored():
        from accounts.farms import Farm
        from core.extensions import db
        from shop.models import Product, ProductPhoto
        from tours.models import Tour, TourSlot

        found = db.session.scalar(select(Farm).where(Farm.name == FARMER_A.farm))
        product = db.session.scalar(select(Product).where(Product.farm_id == found.id))
        tour = db.session.scalar(select(Tour).where(Tour.farm_id == found.id))
        return (found.status, found.owner.role, product.status,
                db.session.scalar(select(func.count()).select_from(ProductPhoto)
                                  .where(ProductPhoto.product_id == product.id)),
                tour.title, db.session.scalar(select(func.count()).select_from(TourSlot)
                                              .where(TourSlot.tour_id == tour.id)))

    assert world.query(stored) == ("approved", "farmer", "active", 1, VISIT_A.title, 3)
    assert farm.product_url.startswith("/products/") and farm.tour_url.startswith("/tours/")
    no_problems(world)


def test_journey_2_a_buyer_pays_two_farms_and_a_visit_by_vietqr(world):
    order = vietqr_order(world)

    def stored():
        from core.extensions import db
        from shop.order_models import Order
        from shop.payments.reference import parse_reference
        from shop.payment_models import BankTransfer

        found = db.session.scalar(select(Order).where(Order.id == parse_reference(order.reference)))
        transfer = db.session.scalar(select(BankTransfer).where(BankTransfer.order_id == found.id))
        return (found.status, found.payment_method, found.total_vnd,
                sorted(fo.total_vnd for fo in found.farm_orders), {fo.status for fo in found.farm_orders},
                transfer.status)

    assert world.query(stored) == ("paid", "vietqr", FARM_A_TOTAL + FARM_B_TOTAL,
                                   sorted([FARM_A_TOTAL, FARM_B_TOTAL]), {"paid"}, "matched")
    no_problems(world)


def test_journey_3_a_tourist_pays_by_card_and_is_checked_in(world):
    order = card_ticket(world)

    def stored():
        from core.extensions import db
        from shop.order_models import Order, OrderLine
        from shop.payments.reference import parse_reference
        from shop.payment_models import Payment
        from tours.models import Ticket

        found = db.session.scalar(select(Order).where(Order.id == parse_reference(order.reference)))
        payment = db.session.scalar(select(Payment).where(Payment.order_id == found.id,
                                                          Payment.status == "succeeded"))
        ticket = db.session.scalar(select(Ticket).join(OrderLine, OrderLine.id == Ticket.order_line_id)
                                   .where(OrderLine.farm_order_id == found.farm_orders[0].id))
        return (found.status, found.payment_method, found.total_vnd, payment.provider, payment.confirmed_by,
                ticket.checked_in_at is not None)

    assert world.query(stored) == ("paid", "card", CARD_TOTAL, "card", "return:stripe", True)
    no_problems(world)


def test_journey_4_the_farmers_income_agrees_with_the_ledger_and_the_csv(world):
    ledger = income_checked(world)
    assert ledger.by_kind["sale"] == FARM_A_TOTAL + CARD_TOTAL
    no_problems(world)


def test_journey_5_every_page_is_in_english_and_in_vietnamese(world):
    income_checked(world)   # journeys 1 to 4: every page they saw was rendered in both languages
    data = data_strings(world.typed)
    findings, lines = [], []
    for capture in world.captures:
        english, vietnamese = capture.renderings["en"], capture.renderings["vi"]
        where = f"{capture.person}: {capture.label} ({capture.url.split('?')[0].removeprefix(world.live.base_url)})"
        assert (english["lang"], vietnamese["lang"]) == ("en", "vi"), where
        assert differing(english["items"], vietnamese["items"]) >= 3, f"{where}: the two renderings hardly differ"
        finding = compare(where, english["items"], vietnamese["items"], data)
        findings.append(finding)
        lines.append(f"{'ok ' if finding.clean else 'BAD'} {finding.compared:3d} texts  {where}")
        lines += [f"      same in English: {text!r}" for text in finding.untranslated]
        lines += [f"      English words:   {text!r}" for text in finding.english_words]
    print(f"\n{len(findings)} pages compared in English and Vietnamese:\n" + "\n".join(lines))
    assert len(findings) >= 30
    assert all(finding.clean for finding in findings), "\n".join(lines)


def test_journey_6_two_transfers_add_up_the_farmer_delivers_and_staff_pay_out(world):
    from tests.browser.money import two_transfers_paid_out

    moved = two_transfers_paid_out(world)
    assert moved["net"] < moved["total"]
    no_problems(world)
