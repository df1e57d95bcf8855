"""The demo seed: believable and idempotent."""
from __future__ import annotations

from sqlalchemy import func, select

from accounts.models import User
from core.extensions import db
from farmers.models import Farm
from shop.models import Product
from tours.models import Tour, TourSlot


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Farm, Product, Tour, TourSlot))


def test_seed_twice_duplicates_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    assert counts[0] >= 14 and counts[1] == 12 and counts[2] >= 30 and counts[3] >= 4 and counts[4] > 0
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert _counts() == counts


def test_seed_if_empty_leaves_a_used_database_alone(app, make_user):
    make_user()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert _counts()[0] == 1


def test_demo_logins_from_the_readme_work(app, client):
    from demo_data import ADMIN_EMAIL, DEMO_PASSWORD, FARMERS
    app.test_cli_runner().invoke(args=["seed-demo"])
    for email in (ADMIN_EMAIL, FARMERS[0][0], "mai.khach@example.vn"):
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post("/logout")
    villages = set(db.session.scalars(select(Farm.village)))
    assert {"Kép", "Kép 11", "Ca"} <= villages
