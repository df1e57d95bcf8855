"""The demo seed: believable and idempotent."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from accounts.farms import Farm
from accounts.models import User
from core.extensions import db
from core.outbox import Notification
from shop.ledger import LedgerEntry
from shop.models import Product
from shop.order_models import Order
from tours.models import Tour, TourSlot


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (User, Farm, Product, Tour, TourSlot, Order))


def _seed(today=date(2026, 7, 20)):
    import demo_data
    demo_data.seed(today)
    demo_data.seed_season(today, start=today - timedelta(days=12))
    db.session.commit()


def test_seed_twice_duplicates_nothing(app):
    _seed()
    counts = _counts()
    assert counts[0] >= 14 and counts[1] == 12 and counts[2] >= 30 and counts[3] >= 4 and counts[4] > 0
    assert counts[5] > 5, "a season of paid orders"
    _seed()
    assert _counts() == counts


def test_the_season_is_paid_and_in_the_ledger(app):
    _seed()
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.status != "paid")) == 0
    sales = db.session.scalar(select(func.sum(LedgerEntry.amount_vnd)).where(LedgerEntry.kind == "sale"))
    paid = db.session.scalar(select(func.sum(Order.total_vnd)))
    assert sales == paid
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0, "no old demo mail in the outbox"


def test_seed_demo_command(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "paid orders" in result.output and _counts()[5] > 50


def test_seed_if_empty_leaves_a_used_database_alone(app, make_user):
    make_user()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert _counts()[0] == 1


def test_demo_logins_from_the_readme_work(app, client):
    import demo_data
    from demo_data import ADMIN_EMAIL, DEMO_PASSWORD, FARMERS
    demo_data.seed()
    db.session.commit()
    for email in (ADMIN_EMAIL, FARMERS[0][0], "mai.khach@example.vn"):
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post("/logout")
    villages = set(db.session.scalars(select(Farm.village)))
    assert {"Kép", "Kép 11", "Ca"} <= villages


def test_the_demo_shows_pending_and_available_money(app):
    from datetime import datetime, time

    from core.time import local_to_utc
    from shop import payouts
    _seed()
    now = local_to_utc(datetime.combine(date(2026, 7, 20), time(9)))
    balances = payouts.balances(now)
    assert any(b.pending > 0 and b.available > 0 for b in balances), "a farm with both, on its dashboard"
    assert sum(b.pending for b in balances) > 0 and sum(b.available for b in balances) > 0
    for b in balances:
        assert b.pending + b.available + b.paid_out == b.earned
