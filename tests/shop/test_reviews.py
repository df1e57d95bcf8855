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
from core.time import utcnow
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


def test_a_cancelled_visit_is_not_reviewed_even_after_its_date(world, make_slot):
    from tours.cancellations import cancel_booking
    from tours.services import tickets_for_order
    slot = make_slot(farm=world["farm"], starts_at=NOW + timedelta(days=5))
    order = factories.pay(factories.book(slot, 2, user=world["buyer"], now=NOW), now=NOW)
    ticket = tickets_for_order(order)[0]
    cancel_booking(ticket, world["buyer"], NOW)
    db.session.commit()
    with pytest.raises(reviews.ReviewError, match="taken place"):
        reviews.write(world["buyer"], line=ticket.line, stars="5", text="", now=NOW + timedelta(days=6))


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


# -- pages -----------------------------------------------------------------------------------------------------

def _client(app, user):
    from tests.helpers import login_as
    client = app.test_client()
    login_as(client, user)
    return client


def _json_ld(html: str) -> dict:
    import json
    import re
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_a_buyer_reviews_from_the_order_page_and_the_rating_reaches_the_product_page(app, world, client):
    farm_order = _completed(world["buyer"], world["product"])
    buyer = _client(app, world["buyer"])
    order_page = buyer.get(f"/orders/{farm_order.order.public_id}").get_data(as_text=True)
    url = f"/orders/{farm_order.order.public_id}/farms/{farm_order.id}/review"
    assert url in order_page
    assert url not in client.get(f"/orders/{farm_order.order.public_id}?key={farm_order.order.secret}").get_data(
        as_text=True), "the secret link is not the buyer's account"
    refused = buyer.post(url, data={"stars": "9", "text": "ngon"})
    assert refused.status_code == 400 and "1 đến 5 sao" in refused.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Review.id))) == 0
    sent = buyer.post(url, data={"stars": "4", "text": "Ngọt, <b>tươi</b>", "photo": (_jpeg(), "dua.jpg")},
                      content_type="multipart/form-data")
    assert sent.status_code == 302
    review = db.session.scalar(select(Review))
    assert (review.stars, review.text) == (4, "Ngọt, <b>tươi</b>") and review.photo_small_key
    again = buyer.post(url, data={"stars": "5"})
    assert again.status_code == 409 and db.session.scalar(select(db.func.count(Review.id))) == 1
    html = buyer.get(f"/orders/{farm_order.order.public_id}").get_data(as_text=True)
    assert "Ngọt, &lt;b&gt;tươi&lt;/b&gt;" in html and url not in html

    page = client.get(f"/products/{world['product'].slug}").get_data(as_text=True)
    assert _json_ld(page)["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.0, "reviewCount": 1,
                                                 "bestRating": 5, "worstRating": 1}
    assert "4,0 trên 5" in page and "1 đánh giá" in page
    assert "1 đánh giá" in client.get(f"/farms/{world['farm'].slug}").get_data(as_text=True)


def test_someone_elses_order_is_not_found_and_no_review_means_no_rating(app, world, client):
    farm_order = _completed(world["buyer"], world["product"])
    url = f"/orders/{farm_order.order.public_id}/farms/{farm_order.id}/review"
    assert _client(app, world["other"]).post(url, data={"stars": "5"}).status_code == 404
    assert _client(app, world["staff"]).get(url).status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    page = client.get(f"/products/{world['product'].slug}").get_data(as_text=True)
    assert "aggregateRating" not in _json_ld(page) and "đánh giá" not in page.split("<main", 1)[-1].split(
        "</h1>", 1)[-1].split("<form", 1)[0]


def test_a_visitor_reviews_after_the_visit_and_the_tour_page_shows_it(app, world, client, make_slot):
    from tours.services import tickets_for_order
    now = utcnow()  # the pages use the clock
    slot = make_slot(farm=world["farm"], starts_at=now + timedelta(hours=5))
    order = factories.pay(factories.book(slot, 2, user=world["buyer"], now=now), now=now)
    ticket = tickets_for_order(order)[0]
    buyer = _client(app, world["buyer"])
    url = f"/orders/{order.public_id}/visits/{ticket.order_line_id}/review"
    assert url not in buyer.get(f"/tickets/{ticket.code}").get_data(as_text=True)
    assert buyer.post(url, data={"stars": "5"}).status_code == 409
    ticket.checked_in_at = utcnow()
    db.session.commit()
    assert url in buyer.get(f"/tickets/{ticket.code}").get_data(as_text=True)
    assert url in buyer.get(f"/orders/{order.public_id}").get_data(as_text=True)
    assert buyer.post(url, data={"stars": "5", "text": "Rất vui"}).status_code == 302
    tour_page = client.get(f"/tours/{slot.tour.slug}").get_data(as_text=True)
    assert "5,0 trên 5" in tour_page and "1 đánh giá" in tour_page
    assert "Rất vui" in tour_page and "Đã tham quan" in tour_page, "the review itself is listed"


def test_the_farmer_answers_from_the_reviews_list_once(app, world, make_farm):
    farm_order = _completed(world["buyer"], world["product"])
    review = reviews.write(world["buyer"], farm_order=farm_order, stars="2", text="Hơi chua", now=NOW)
    db.session.commit()
    farmer = _client(app, world["farm"].owner)
    assert "Hơi chua" in farmer.get("/farmer/reviews").get_data(as_text=True)
    stranger = make_farm().owner
    assert _client(app, stranger).post(f"/farmer/reviews/{review.id}/reply", data={"reply": "x"}).status_code == 404
    assert "Hơi chua" not in _client(app, stranger).get("/farmer/reviews").get_data(as_text=True)
    assert _client(app, world["buyer"]).get("/farmer/reviews").status_code == 403
    farmer.post(f"/farmer/reviews/{review.id}/reply", data={"reply": ""})
    db.session.refresh(review)
    assert review.reply is None
    farmer.post(f"/farmer/reviews/{review.id}/reply", data={"reply": "Xin lỗi, lần sau sẽ ngọt hơn."})
    farmer.post(f"/farmer/reviews/{review.id}/reply", data={"reply": "Lần hai"})
    db.session.refresh(review)
    assert review.reply == "Xin lỗi, lần sau sẽ ngọt hơn."


def test_staff_hide_from_the_admin_list_and_the_reviewer_still_sees_it_marked(app, world, client):
    farm_order = _completed(world["buyer"], world["product"])
    review = reviews.write(world["buyer"], farm_order=farm_order, stars="1", text="Đồ tồi", now=NOW)
    db.session.commit()
    staff = _client(app, world["staff"])
    assert "Đồ tồi" in staff.get("/admin/reviews").get_data(as_text=True)
    assert _client(app, world["buyer"]).post(f"/admin/reviews/{review.id}/hide", data={"reason": "x"}).status_code \
        == 403
    staff.post(f"/admin/reviews/{review.id}/hide", data={"reason": "   "})
    db.session.refresh(review)
    assert not review.is_hidden
    staff.post(f"/admin/reviews/{review.id}/hide", data={"reason": "Lời lẽ thô tục"})
    db.session.refresh(review)
    assert review.is_hidden and review.hidden_by_id == world["staff"].id
    page = client.get(f"/products/{world['product'].slug}").get_data(as_text=True)
    assert "aggregateRating" not in _json_ld(page)
    mine = _client(app, world["buyer"]).get(f"/orders/{farm_order.order.public_id}").get_data(as_text=True)
    assert "Đồ tồi" in mine and "Lời lẽ thô tục" in mine


def test_the_product_and_farm_pages_run_as_many_queries_with_reviews(app, world, client, make_user):
    from tests.helpers import count_queries
    path, farm_path = f"/products/{world['product'].slug}", f"/farms/{world['farm'].slug}"
    client.get(path), client.get(farm_path)
    with count_queries() as before:
        client.get(path)
    with count_queries() as before_farm:
        client.get(farm_path)
    counts = []
    for batch in (1, 6):
        for n in range(batch):
            reviews.write(buyer := make_user(), farm_order=_completed(buyer, world["product"]), stars=str(n % 5 + 1),
                          text="", now=NOW)
        db.session.commit()
        with count_queries() as after:
            assert "aggregateRating" in client.get(path).get_data(as_text=True)
        with count_queries() as after_farm:
            client.get(farm_path)
        counts.append((len(after), len(after_farm)))
    # The rating rides on the product's own query; the list of the newest reviews is one query more, however many.
    assert counts == [(len(before) + 1, len(before_farm))] * 2


def test_the_product_page_lists_the_newest_shown_reviews_by_given_name(app, world, client, make_user):
    from tests.helpers import login_as
    buyers = [make_user(full_name=f"Nguyễn Thị Lan{n}") for n in range(7)]
    written = [reviews.write(b, farm_order=_completed(b, world["product"]), stars="4", text=f"Ngọt lắm {n}",
                             now=NOW + timedelta(minutes=n)) for n, b in enumerate(buyers)]
    reviews.hide(written[-1], world["staff"], "Quảng cáo", now=NOW)
    db.session.commit()
    page = client.get(f"/products/{world['product'].slug}").get_data(as_text=True)
    shown = [f"Ngọt lắm {n}" for n in range(7) if f"Ngọt lắm {n}<" in page]
    assert shown == [f"Ngọt lắm {n}" for n in range(1, 6)], "the five newest, the hidden one left out"
    assert "Lan5" in page and "Nguyễn Thị" not in page, "the given name only"
    assert "5 đánh giá mới nhất trong số 6 đánh giá" in page
    data = _json_ld(page)
    assert len(data["review"]) == 5 and data["review"][0]["author"] == {"@type": "Person", "name": "Lan5"}
    assert data["review"][0]["reviewRating"]["ratingValue"] == 4
    assert data["aggregateRating"]["reviewCount"] == 6
    login_as(signed := app.test_client(), make_user())
    assert "Ngọt lắm 5" in signed.get(f"/products/{world['product'].slug}").get_data(as_text=True)
