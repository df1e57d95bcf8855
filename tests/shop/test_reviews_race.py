"""Reviews under races, on PostgreSQL: the same review sent eight times at once is stored once; eight answers at
once to one review leave one answer."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.models import User
from core.extensions import db
from shop import reviews
from shop.order_models import FarmOrder
from shop.review_models import Review
from tests import factories
from tests.factories import NOW
from tests.helpers import race, requires_postgres

pytestmark = requires_postgres


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12, "max_overflow": 0, "pool_pre_ping": True}}


def test_eight_copies_of_one_review_store_one_and_eight_answers_leave_one(app, make_user, make_product):
    buyer, product = make_user(), make_product()
    order = factories.pay(factories.make_order((product, 1), user=buyer, now=NOW), now=NOW)
    farm_order_id, buyer_id, farmer_id = order.farm_orders[0].id, buyer.id, product.farm.owner_id
    order.farm_orders[0].status = "completed"
    db.session.commit()

    def send(i):
        try:
            reviews.write(db.session.get(User, buyer_id), farm_order=db.session.get(FarmOrder, farm_order_id),
                          stars=str(i % 5 + 1), text=f"lần {i}", now=NOW)
            db.session.commit()
            return "stored"
        except reviews.ReviewError:
            db.session.rollback()
            return "refused"

    results = race(app, 8, send)
    assert results.count("stored") == 1 and results.count("refused") == 7
    assert db.session.scalar(select(func.count(Review.id))) == 1
    review_id = db.session.scalar(select(Review.id))

    def answer(i):
        try:
            reviews.reply(db.session.get(Review, review_id), db.session.get(User, farmer_id), f"trả lời {i}", now=NOW)
            db.session.commit()
            return "answered"
        except reviews.ReviewError:
            db.session.rollback()
            return "refused"

    assert race(app, 8, answer).count("answered") == 1
    db.session.expire_all()
    assert db.session.get(Review, review_id).reply.startswith("trả lời ")
