"""Verified reviews (shop/reviews.py): only the buyer who received the goods or took the visit, once, after it;
the farm's farmer answers once; staff hide with a reason; ratings leave hidden reviews out."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from shop import reviews
from shop.review_models import Review
from tests import factories
from tests.factories import NOW


def _completed(buyer, *products):
    order = factories.pay(factories.make_order(*[(p, 1) for p in products], user=buyer, now=NOW), now=NOW)
    farm_order = order.farm_orders[0]
    farm_order.status = "completed"
    db.session.commit()
    return farm_order


def _jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 180, 20)).save(data, "JPEG")
    data.seek(0)
    return data


@pytest.fixture(autouse=True)
def english(app):
    """Messages are matched in English (the app answers in the user's language, Vietnamese by default)."""
    from flask_babel import force_locale
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.fixture
def world(app, make_user, make_farm, make_product):
    buyer, other, staff = make_user(), make_user(), make_user("admin")
    farm = make_farm()
    product = make_product(farm)
    return dict(buyer=buyer, other=other, staff=staff, farm=farm, product=product)


def test_a_completed_order_is_reviewed_once_by_its_buyer(world):
    farm_order = _completed(world["buyer"], world["product"])
    review = reviews.write(world["buyer"], farm_order=farm_order, stars="5", text="  Dứa rất ngọt\x00 ", now=NOW)
    db.session.commit()
    assert (review.stars, review.text, review.farm_id, review.kind) == (5, "Dứa rất ngọt", world["farm"].id, "goods")
    with pytest.raises(reviews.ReviewError, match="already"):
        reviews.write(world["buyer"], farm_order=farm_order, stars="4", text="", now=NOW)
    assert db.session.scalar(select(db.func.count(Review.id))) == 1


def test_not_received_or_someone_elses_is_refused(world):
    order = factories.pay(factories.make_order((world["product"], 1), user=world["buyer"], now=NOW), now=NOW)
    farm_order = order.farm_orders[0]
    assert farm_order.status == "paid"
    with pytest.raises(reviews.ReviewError, match="picked up or delivered"):
        reviews.write(world["buyer"], farm_order=farm_order, stars="5", text="", now=NOW)
    farm_order.status = "completed"
    db.session.commit()
    with pytest.raises(reviews.ReviewError, match="Only the buyer"):
        reviews.write(world["other"], farm_order=farm_order, stars="5", text="", now=NOW)
    assert db.session.scalar(select(db.func.count(Review.id))) == 0


def test_a_guest_order_cannot_be_reviewed(world):
    order = factories.pay(factories.make_order((world["product"], 1), now=NOW), now=NOW)
    order.farm_orders[0].status = "completed"
    db.session.commit()
    assert reviews.goods_refusal(order.farm_orders[0], world["buyer"]) is not None


@pytest.mark.parametrize("stars", ["0", "6", "", "abc", "3.5", "٣", None])
def test_bad_stars_are_refused(world, stars):
    farm_order = _completed(world["buyer"], world["product"])
    with pytest.raises(reviews.ReviewError, match="1 to 5"):
        reviews.write(world["buyer"], farm_order=farm_order, stars=stars, text="", now=NOW)


def test_too_long_text_and_a_bad_photo_are_refused_and_nothing_is_stored(world):
    farm_order = _completed(world["buyer"], world["product"])
    with pytest.raises(reviews.ReviewError, match="2000"):
        reviews.write(world["buyer"], farm_order=farm_order, stars="4", text="a" * 2001, now=NOW)
    with pytest.raises(reviews.ReviewError, match="not a photo"):
        reviews.write(world["buyer"], farm_order=farm_order, stars="4", text="", photo=io.BytesIO(b"GIF89a..."),
                      now=NOW)
    assert db.session.scalar(select(db.func.count(Review.id))) == 0


def test_a_photo_goes_through_the_photo_pipeline(world):
    farm_order = _completed(world["buyer"], world["product"])
    review = reviews.write(world["buyer"], farm_order=farm_order, stars="4", text="", photo=_jpeg(), now=NOW)
    db.session.commit()
    assert review.photo_large_key.endswith(".webp") and review.photo_small_key.endswith(".webp")
    assert (review.photo_width, review.photo_height) == (40, 30)


def test_a_visit_is_reviewed_once_it_has_taken_place(world, make_slot):
    slot = make_slot(farm=world["farm"], starts_at=NOW + timedelta(days=2))
    order = factories.pay(factories.book(slot, 2, user=world["buyer"], now=NOW), now=NOW)
    line = order.farm_orders[0].lines[0]
    with pytest.raises(reviews.ReviewError, match="taken place"):
        reviews.write(world["buyer"], line=line, stars="5", text="", now=NOW)
    later = NOW + timedelta(days=3)
    with pytest.raises(reviews.ReviewError, match="Only the visitor"):
        reviews.write(world["other"], line=line, stars="5", text="", now=later)
    review = reviews.write(world["buyer"], line=line, stars="4", text="Vui", now=later)
    db.session.commit()
    assert review.kind == "visit" and review.order_line_id == line.id
    with pytest.raises(reviews.ReviewError, match="already"):
        reviews.write(world["buyer"], line=line, stars="4", text="", now=later)
    from tours.models import TourSlot
    assert reviews.slots_rating(select(TourSlot.id).where(TourSlot.tour_id == slot.tour_id)) == reviews.Rating(4, 1)


def test_a_checked_in_visit_is_reviewed_before_its_start(world, make_slot):
    from tours.services import tickets_for_order
    slot = make_slot(farm=world["farm"], starts_at=NOW + timedelta(hours=5))
    order = factories.pay(factories.book(slot, 2, user=world["buyer"], now=NOW), now=NOW)
    ticket = tickets_for_order(order)[0]
    ticket.checked_in_at = NOW
    db.session.commit()
    assert reviews.write(world["buyer"], line=ticket.line, stars="5", text="", now=NOW)


def test_the_farmer_answers_once(world, make_user):
    farm_order = _completed(world["buyer"], world["product"])
    review = reviews.write(world["buyer"], farm_order=farm_order, stars="3", text="", now=NOW)
    db.session.commit()
    with pytest.raises(reviews.ReviewError, match="Only this farm"):
        reviews.reply(review, make_user("farmer"), "Cảm ơn", now=NOW)
    with pytest.raises(reviews.ReviewError, match="few words"):
        reviews.reply(review, world["farm"].owner, "   ", now=NOW)
    reviews.reply(review, world["farm"].owner, "Cảm ơn bạn!", now=NOW)
    db.session.commit()
    assert review.reply == "Cảm ơn bạn!"
    with pytest.raises(reviews.ReviewError, match="already has"):
        reviews.reply(review, world["farm"].owner, "Lần hai", now=NOW)
    assert db.session.get(Review, review.id).reply == "Cảm ơn bạn!"


def test_staff_hide_with_a_reason_and_ratings_leave_hidden_out(world, make_user):
    first = _completed(world["buyer"], world["product"])
    second_buyer = make_user()
    second = _completed(second_buyer, world["product"])
    kept = reviews.write(world["buyer"], farm_order=first, stars="5", text="", now=NOW)
    abusive = reviews.write(second_buyer, farm_order=second, stars="1", text="xxx", now=NOW)
    db.session.commit()
    assert reviews.product_rating(world["product"].id) == reviews.Rating(6, 2)
    with pytest.raises(reviews.ReviewError, match="few words"):
        reviews.hide(abusive, world["staff"], "", now=NOW)
    reviews.hide(abusive, world["staff"], "Lời lẽ xúc phạm", now=NOW)
    db.session.commit()
    assert abusive.is_hidden and abusive.hidden_reason == "Lời lẽ xúc phạm"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "review.hide"))
    assert entry.entity_id == abusive.id and entry.actor_id == world["staff"].id and "xúc phạm" in entry.details
    assert reviews.product_rating(world["product"].id) == reviews.Rating(5, 1)
    assert reviews.farm_rating(world["farm"].id) == reviews.Rating(5, 1)
    assert reviews.product_rating(world["product"].id).average == 5.0 and kept.stars == 5
    with pytest.raises(reviews.ReviewError, match="already hidden"):
        reviews.hide(abusive, world["staff"], "again", now=NOW)
