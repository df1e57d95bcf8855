"""Pending and available money, through the real services: a sale waits for its order to be delivered, payouts
come from what is available, a refund after a payout is a debt the next sales settle, back-dated payouts never
change a past period, and each sale keeps the fee rate it was charged.

Invariants checked at every step: pending + available + paid out == earned, and sales − fees − refunds == net."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core import settings_store
from core.extensions import db
from farmers import dashboard
from farmers.periods import Period
from shop import payments, payouts
from shop.ledger import LedgerEntry
from shop.order_models import FarmOrder
from tests.factories import NOW, make_order, pay
from tests.helpers import count_queries

JUNE = Period("custom", date(2026, 6, 1), date(2026, 6, 30))
JULY = Period("custom", date(2026, 7, 1), date(2026, 7, 31))
ALL = Period("custom", date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def staff(make_user):
    return make_user(role="admin", full_name="Cán bộ Lan")


@pytest.fixture
def farm(make_farm):
    settings_store.put("platform_fee_bp", "500")  # 5 %
    db.session.commit()
    return make_farm(name="Vườn dứa Anh An", bank_bin="970405", bank_account_number="2500205110001")


@pytest.fixture
def pineapples(make_product, farm):
    return make_product(farm=farm, price_vnd=25000, stock=500, unit="kg")


def figures(farm, now):
    """The dashboard's and the payouts' figures, which must agree, with both invariants checked."""
    balance = dashboard.balance(farm.id, now=now)
    staff_view = payouts.balance(farm, now)
    assert (balance.earned, balance.paid_out, balance.pending) == (staff_view.earned, staff_view.paid_out,
                                                                   staff_view.pending)
    assert balance.pending + balance.available + balance.paid_out == balance.earned
    assert payouts.available(farm.id, now) == balance.available
    total = dashboard.summarise(dashboard.day_rows(farm.id, ALL)).total
    assert total.sales - total.fees - total.refunds == total.net == balance.earned
    return balance


def sell(product, kg, *, now=NOW):
    order = pay(make_order((product, kg), now=now), now=now)
    return order.farm_orders[0]


def complete(farm_order, actor, now):
    payments.move_farm_order(farm_order, "ready", actor, now)
    payments.move_farm_order(farm_order, "completed", actor, now)
    db.session.commit()


def pay_out(farm, staff, amount, now, *, paid_on=None, token="t1"):
    payout, _ = payouts.record_payout(farm, amount_vnd=amount, paid_on=paid_on or now.date(),
                                      bank_reference=f"FT-{token}", form_token=token, staff=staff, now=now)
    db.session.commit()
    return payout


def test_a_sale_is_pending_until_its_order_is_completed(farm, pineapples):
    farm_order = sell(pineapples, 4)   # 100.000, fee 5.000
    balance = figures(farm, NOW)
    assert (balance.earned, balance.pending, balance.available, balance.debt) == (95000, 95000, 0, 0)
    payments.move_farm_order(farm_order, "ready", farm.owner, NOW)
    db.session.commit()
    assert figures(farm, NOW).pending == 95000, "ready is not delivered yet"
    payments.move_farm_order(farm_order, "completed", farm.owner, NOW)
    db.session.commit()
    balance = figures(farm, NOW)
    assert (balance.pending, balance.available, balance.payable) == (0, 95000, 95000)


def test_payouts_come_only_from_what_is_available(farm, pineapples, staff):
    first = sell(pineapples, 4)
    sell(pineapples, 2)                # 50.000, fee 2.500: stays pending
    with pytest.raises(payouts.PayoutError) as error:
        pay_out(farm, staff, 1000, NOW)
    db.session.rollback()
    with force_locale("en"):
        assert "Nothing is available to pay out yet" in str(error.value.message)
    complete(first, farm.owner, NOW)
    with pytest.raises(payouts.PayoutError) as error:
        pay_out(farm, staff, 95001, NOW)
    db.session.rollback()
    with force_locale("en"):
        assert "is available to pay out now" in str(error.value.message)
    pay_out(farm, staff, 95000, NOW)
    balance = figures(farm, NOW)
    assert (balance.earned, balance.paid_out, balance.pending, balance.available) == (142500, 95000, 47500, 0)


def test_a_refund_after_a_payout_is_a_debt_the_next_sales_settle(farm, pineapples, staff):
    complete(sell(pineapples, 4), farm.owner, NOW)
    pay_out(farm, staff, 95000, NOW)
    delivered = db.session.get(FarmOrder, db.session.scalar(select(LedgerEntry.farm_order_id)
                                                            .where(LedgerEntry.kind == "sale")))
    payments.refund_farm_order(delivered, 40000, staff, NOW + timedelta(hours=1), note="Dứa dập")
    db.session.commit()
    balance = figures(farm, NOW + timedelta(hours=1))
    # 40.000 back to the buyer, 2.000 of fee back to the farm: the farm owes 38.000.
    assert (balance.earned, balance.available, balance.payable, balance.debt) == (57000, -38000, 0, 38000)
    with pytest.raises(payouts.PayoutError) as error:
        pay_out(farm, staff, 1000, NOW + timedelta(hours=1), token="t2")
    db.session.rollback()
    with force_locale("en"):
        assert "owes the market" in str(error.value.message)

    later = NOW + timedelta(days=1)
    next_sale = sell(pineapples, 2, now=later)   # 47.500 net, pending: the debt stays
    balance = figures(farm, later)
    assert (balance.pending, balance.debt) == (47500, 38000)
    complete(next_sale, farm.owner, later)
    balance = figures(farm, later)
    assert (balance.pending, balance.available, balance.debt) == (0, 9500, 0)
    pay_out(farm, staff, 9500, later, token="t3")
    assert figures(farm, later).available == 0


def test_a_cancelled_order_adds_nothing_pending_or_available(farm, pineapples, staff):
    farm_order = sell(pineapples, 4)
    payments.cancel_paid_farm_order(farm_order, farm.owner, NOW + timedelta(hours=1))
    db.session.commit()
    balance = figures(farm, NOW + timedelta(hours=1))
    assert (balance.earned, balance.pending, balance.available) == (0, 0, 0)


def test_a_backdated_payout_never_changes_a_past_period(farm, pineapples, staff):
    complete(sell(pineapples, 4), farm.owner, NOW)
    june_before = dashboard.summarise(dashboard.day_rows(farm.id, JUNE)).total
    recorded = datetime(2026, 7, 3, 2)
    payout = pay_out(farm, staff, 50000, recorded, paid_on=date(2026, 6, 20))
    june_after = dashboard.summarise(dashboard.day_rows(farm.id, JUNE)).total
    assert june_after == june_before and june_after.payouts == 0
    assert dashboard.summarise(dashboard.day_rows(farm.id, JULY)).total.payouts == 50000
    assert [p.id for p in dashboard.payouts_in(farm.id, JULY)] == [payout.id]
    assert payout.paid_on == date(2026, 6, 20)   # the bank's date stays
    figures(farm, recorded)


def test_a_visit_is_available_once_checked_in_or_once_its_time_has_passed(farm, make_slot, pineapples, book):
    from shop.order_models import OrderLine
    from tours import tickets
    from tours.models import Ticket

    slot = make_slot(farm=farm, price_adult_vnd=100000, price_child_vnd=0)   # NOW + 5 days
    other_slot = make_slot(tour=slot.tour, starts_at=NOW + timedelta(days=8))
    pay(book(slot, 2))                    # 200.000, fee 10.000
    pay(book(other_slot, 1))              # 100.000, fee 5.000
    balance = figures(farm, NOW)
    assert (balance.pending, balance.available) == (285000, 0)

    ticket = db.session.scalar(select(Ticket).join(OrderLine, OrderLine.id == Ticket.order_line_id)
                               .where(OrderLine.slot_id == other_slot.id))
    tickets.check_in(farm.owner, farm, ticket, NOW + timedelta(days=8))
    db.session.commit()
    assert (figures(farm, NOW).pending, figures(farm, NOW).available) == (190000, 95000)
    after_first = slot.starts_at + timedelta(minutes=1)
    assert (figures(farm, after_first).pending, figures(farm, after_first).available) == (0, 285000)


def test_a_visit_booked_with_produce_waits_only_for_itself(farm, make_slot, pineapples, book):
    slot = make_slot(farm=farm, price_adult_vnd=100000, price_child_vnd=0)
    farm_order = pay(book(slot, 1, product=pineapples, qty=4)).farm_orders[0]   # 100.000 visit + 100.000 fruit
    after = slot.starts_at + timedelta(hours=3)
    balance = figures(farm, after)
    assert (balance.pending, balance.available) == (95000, 95000), "the visit took place; the fruit waits"
    complete(farm_order, farm.owner, after)
    assert (figures(farm, after).pending, figures(farm, after).available) == (0, 190000)


def test_each_sale_keeps_the_fee_rate_it_was_charged(farm, pineapples):
    sell(pineapples, 4)
    settings_store.put("platform_fee_bp", "250")
    db.session.commit()
    sell(pineapples, 4)
    entries = db.session.execute(select(LedgerEntry.kind, LedgerEntry.amount_vnd, LedgerEntry.fee_bp)
                                 .order_by(LedgerEntry.id)).all()
    assert [tuple(e) for e in entries] == [("sale", 100000, 500), ("fee", -5000, 500),
                                           ("sale", 100000, 250), ("fee", -2500, 250)]
    rates = dashboard.fee_rates(dashboard.day_rows(farm.id, JUNE))
    assert [(r.fee_bp, r.sales, r.fees) for r in rates] == [(250, 100000, 2500), (500, 100000, 5000)]


def test_a_fee_given_back_keeps_its_rate(farm, pineapples):
    payments.cancel_paid_farm_order(sell(pineapples, 4), farm.owner, NOW + timedelta(hours=1))
    db.session.commit()
    back = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "fee_refund"))
    assert (back.amount_vnd, back.fee_bp) == (5000, 500)
    rates = dashboard.fee_rates(dashboard.day_rows(farm.id, JUNE))
    assert [(r.fee_bp, r.sales, r.fees) for r in rates] == [(500, 100000, 0)]


def test_every_farms_balances_in_one_query(farm, pineapples, make_farm, make_product):
    complete(sell(pineapples, 4), farm.owner, NOW)
    other = make_farm(name="Đồi dứa Bà Ba")
    sell(make_product(farm=other, price_vnd=10000, stock=50), 3)
    with count_queries() as queries:
        rows = payouts.balances(NOW)
    assert len(queries) == 1
    assert [(b.name, b.pending, b.available) for b in rows] == [("Vườn dứa Anh An", 0, 95000),
                                                                 ("Đồi dứa Bà Ba", 28500, 0)]
