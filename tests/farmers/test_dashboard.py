"""The income figures: periods, sums from the ledger, local days, buckets, and the real sale/refund services."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale

from core.extensions import db
from farmers import dashboard, periods
from farmers.periods import Period
from shop.ledger import LedgerEntry
from tests.farmers.ledger_helpers import refund, sale

JUNE = Period("custom", date(2026, 6, 1), date(2026, 6, 30))


# --- periods ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, today, start, end", [
    ("week", date(2026, 6, 10), date(2026, 6, 8), date(2026, 6, 10)),        # Monday to today
    ("month", date(2026, 6, 10), date(2026, 6, 1), date(2026, 6, 10)),
    ("year", date(2026, 6, 10), date(2026, 1, 1), date(2026, 6, 10)),
    ("season", date(2026, 6, 10), date(2026, 4, 1), date(2026, 6, 10)),      # in the harvest: April to today
    ("season", date(2026, 11, 22), date(2026, 4, 1), date(2026, 9, 30)),     # after it: the whole season
    ("season", date(2026, 2, 5), date(2025, 4, 1), date(2025, 9, 30)),       # before April: last year's
])
def test_named_periods(key, today, start, end):
    period = periods.named(key, today)
    assert (period.start, period.end) == (start, end)


def test_period_buckets_and_utc_bounds():
    assert JUNE.bucket == "day"
    assert periods.named("season", date(2026, 11, 1)).bucket == "week"
    assert periods.named("year", date(2026, 11, 1)).bucket == "month"
    # Local midnight of 1 June is 17:00 UTC on 31 May.
    assert JUNE.start_utc == datetime(2026, 5, 31, 17, 0)
    assert JUNE.end_utc == datetime(2026, 6, 30, 17, 0)


@pytest.mark.parametrize("args, problem", [
    ({"from": "2026-06-30", "to": "2026-06-01"}, "after the last day"),
    ({"from": "2015-01-01", "to": "2026-06-01"}, "five years"),
    ({"from": "2026-13-45", "to": "2026-06-01"}, "could not be read"),
    ({"from": "hôm qua", "to": "2026-06-01"}, "could not be read"),
    ({"from": "1900-01-01", "to": "1900-01-31"}, "2000 and 2099"),
    ({"from": "2026-06-01"}, "both"),
    ({"period": "decade"}, "Unknown period"),
])
def test_bad_dates_fall_back_to_the_last_30_days_with_a_message(app, args, problem):
    period, message = periods.from_args(args, date(2026, 6, 10))
    assert (period.key, period.start, period.end) == ("30days", date(2026, 5, 12), date(2026, 6, 10))
    with force_locale("en"):
        assert problem in str(message) and "the last 30 days" in str(message)


def test_the_default_period_is_the_last_30_days_so_the_first_of_a_month_is_not_empty():
    period, message = periods.from_args({}, date(2026, 7, 1))
    assert message is None and (period.key, period.start, period.end) == ("30days", date(2026, 6, 2), date(2026, 7, 1))
    assert period.bucket == "day" and period.query_args() == {"period": "30days"}


def test_custom_dates_are_kept():
    period, message = periods.from_args({"from": "2026-05-01", "to": "2026-06-15"}, date(2026, 6, 10))
    assert message is None and (period.key, period.start, period.end) == ("custom", date(2026, 5, 1), date(2026, 6, 15))
    assert period.query_args() == {"from": "2026-05-01", "to": "2026-06-15"}


# --- sums -------------------------------------------------------------------------------------------------------

@pytest.fixture
def farm(make_farm):
    return make_farm(name="Vườn dứa Anh An")


def test_sales_less_fees_and_refunds_is_net(farm, make_product):
    product = make_product(farm=farm, name="Dứa Queen", unit="kg")
    at = datetime(2026, 6, 10, 3, 0)
    sale(farm, at, 250000, quantity=10, fee=12500, product=product)
    sale(farm, at, 100000, quantity=4, fee=5000, product=product)
    refund(farm, at + timedelta(days=1), 100000, quantity=4, fee=5000, product=product)
    db.session.add(LedgerEntry(farm_id=farm.id, occurred_at=at, kind="payout", source="payout", amount_vnd=-50000))
    db.session.commit()

    summary = dashboard.summarise(dashboard.day_rows(farm.id, JUNE))
    total = summary.total
    assert (total.sales, total.fees, total.refunds, total.payouts) == (350000, 12500, 100000, 50000)
    assert total.net == total.sales - total.fees - total.refunds == 237500
    assert summary.produce.quantity == 10
    balance = dashboard.balance(farm.id)
    assert (balance.earned, balance.paid_out, balance.owed) == (237500, 50000, 187500)


def test_a_day_is_a_day_in_vietnam(farm):
    sale(farm, datetime(2026, 5, 31, 16, 59), 1000)   # 23:59 on 31 May in Kep
    sale(farm, datetime(2026, 5, 31, 17, 0), 2000)    # 00:00 on 1 June in Kep
    sale(farm, datetime(2026, 6, 30, 16, 59), 4000)   # 23:59 on 30 June
    sale(farm, datetime(2026, 6, 30, 17, 0), 8000)    # 1 July
    rows = dashboard.day_rows(farm.id, JUNE)
    assert sorted((r.day, r.amount) for r in rows) == [(date(2026, 6, 1), 2000), (date(2026, 6, 30), 4000)]


def test_other_farms_entries_never_count(farm, make_farm):
    other = make_farm()
    sale(other, datetime(2026, 6, 10), 999000)
    sale(farm, datetime(2026, 6, 10), 1000)
    assert dashboard.summarise(dashboard.day_rows(farm.id, JUNE)).total.sales == 1000
    assert dashboard.balance(farm.id).earned == 1000


def test_by_product_and_tour_with_shares(farm, make_product, make_slot):
    queen = make_product(farm=farm, name="Dứa Queen", unit="kg")
    dried = make_product(farm=farm, name="Dứa sấy dẻo", unit="bag")
    tour = make_slot(farm=farm, title="Tham quan đồi dứa").tour
    at = datetime(2026, 6, 10, 3)
    sale(farm, at, 300000, quantity=12, fee=15000, product=queen)
    sale(farm, at, 130000, quantity=2, fee=6500, product=dried)
    sale(farm, at, 400000, quantity=3, fee=20000, tour=tour)
    refund(farm, at, 65000, quantity=1, fee=3250, product=dried)
    sale(farm, at, 30000, source="delivery")

    summary = dashboard.summarise(dashboard.day_rows(farm.id, JUNE))
    items = dashboard.by_item(farm.id, JUNE, summary.total.net)
    by_name = {(i.source, i.name): i for i in items}
    assert by_name[("produce", "Dứa Queen")].quantity == 12 and by_name[("produce", "Dứa Queen")].net == 285000
    assert by_name[("produce", "Dứa sấy dẻo")].quantity == 1
    assert by_name[("produce", "Dứa sấy dẻo")].net == 130000 - 6500 - 65000 + 3250
    assert by_name[("tour", "Tham quan đồi dứa")].quantity == 3 == summary.tours.quantity
    assert by_name[("delivery", None)].net == 30000
    assert sum(i.net for i in items) == summary.total.net
    assert 99 <= sum(i.share_percent for i in items) <= 101
    assert dashboard.units_sold(items) == [("kg", 12), ("bag", 1)]


def test_figures_never_follow_todays_prices(farm, make_product):
    product = make_product(farm=farm, price_vnd=25000)
    sale(farm, datetime(2026, 6, 10), 250000, quantity=10, product=product)
    product.price_vnd = 99000
    db.session.commit()
    summary = dashboard.summarise(dashboard.day_rows(farm.id, JUNE))
    assert summary.total.sales == 250000
    assert dashboard.by_item(farm.id, JUNE, summary.total.net)[0].sales == 250000


@pytest.mark.parametrize("period, step, count", [
    (JUNE, "day", 30),
    (Period("season", date(2026, 4, 1), date(2026, 9, 30)), "week", 27),
    (Period("custom", date(2024, 1, 1), date(2026, 12, 31)), "month", 36),
])
def test_buckets_cover_the_period_and_add_up(farm, period, step, count):
    sale(farm, period.start_utc, 1000)
    sale(farm, period.end_utc - timedelta(seconds=1), 2000, fee=100)
    rows = dashboard.day_rows(farm.id, period)
    buckets = dashboard.buckets(rows, period)
    assert period.bucket == step and len(buckets) == count
    assert buckets[0].start == period.start and buckets[-1].end == period.end
    assert sum(b.net for b in buckets) == dashboard.summarise(rows).total.net == 2900
    assert buckets[0].net == 1000 and buckets[-1].net == 1900


def test_next_slots_show_seats_and_bookings(farm, make_slot):
    now = datetime(2026, 6, 1, 3)
    soon = make_slot(farm=farm, starts_at=now + timedelta(days=2), capacity=20, seats_taken=7)
    make_slot(tour=soon.tour, starts_at=now - timedelta(days=1))      # past
    make_slot(tour=soon.tour, starts_at=now + timedelta(days=9))
    slots = dashboard.next_slots(farm.id, now)
    assert [(s.seats_taken, s.capacity) for s in slots] == [(7, 20), (0, 10)]
    assert slots[0].bookings == 0
    sale(farm, now, 5000)
    assert dashboard.balance_and_slots(farm.id, JUNE, now) == (dashboard.balance(farm.id, JUNE), slots)


def test_balance_without_any_slot_in_the_same_query(farm):
    sale(farm, datetime(2026, 6, 2), 5000, fee=250)
    balance, slots = dashboard.balance_and_slots(farm.id, JUNE, datetime(2026, 6, 1))
    assert slots == [] and balance.owed == 4750


def test_visitors_checked_in_count_each_checked_in_party(farm, make_farm, make_slot):
    from shop.order_models import FarmOrder, Order, OrderLine
    from tours.models import Ticket

    assert dashboard.balance(farm.id, JUNE).checked_in == 0
    slot = make_slot(farm=farm)
    order = Order(public_id="p1", secret="s", checkout_token="c1", buyer_name="Tom", buyer_phone="0912345678",
                  buyer_email="tom@example.com", total_vnd=900000, status="paid", expires_at=datetime(2026, 6, 1))
    farm_order = FarmOrder(order=order, farm_id=farm.id, status="paid", subtotal_vnd=900000, total_vnd=900000)
    for code, party, checked_in_at in (("AAAAAAAA", 3, datetime(2026, 6, 10, 2)),   # in June
                                       ("CCCCCCCC", 2, datetime(2026, 7, 1, 2)),    # in July
                                       ("DDDDDDDD", 1, None)):                      # not yet
        line = OrderLine(farm_order=farm_order, slot_id=slot.id, name="Tham quan", unit="seat",
                         unit_price_vnd=150000, quantity=party, adults=party, line_total_vnd=150000 * party)
        db.session.add(Ticket(line=line, code=code, checked_in_at=checked_in_at))
    db.session.commit()
    assert dashboard.balance(farm.id, JUNE).checked_in == 3
    assert dashboard.balance(make_farm().id, JUNE).checked_in == 0


# --- the real services write what the dashboard reads ------------------------------------------------------------

def test_a_paid_then_cancelled_order_through_the_real_services(farm, make_product, make_user):
    from core import settings_store
    from shop import payments
    from tests.factories import NOW, make_order, pay

    settings_store.put("platform_fee_bp", "500")
    product = make_product(farm=farm, price_vnd=25000, stock=50, unit="kg")
    order = pay(make_order((product, 4)))
    # A price change afterwards changes nothing.
    product.price_vnd = 40000
    db.session.commit()
    period = Period("custom", date(2026, 6, 1), date(2026, 6, 30))
    summary = dashboard.summarise(dashboard.day_rows(farm.id, period))
    assert (summary.total.sales, summary.total.fees, summary.total.net) == (100000, 5000, 95000)
    assert dashboard.balance(farm.id, period).orders_to_prepare == 1

    staff = make_user(role="admin")
    payments.cancel_paid_farm_order(order.farm_orders[0], staff, NOW + timedelta(hours=1))
    db.session.commit()
    summary = dashboard.summarise(dashboard.day_rows(farm.id, period))
    assert (summary.total.sales, summary.total.fees, summary.total.refunds, summary.total.net) == (100000, 0, 100000, 0)
    assert summary.produce.quantity == 0
    assert dashboard.balance(farm.id, period).orders_to_prepare == 0
