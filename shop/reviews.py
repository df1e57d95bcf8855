"""Verified reviews: who may write one, once, and what the public pages count.

- **Goods**: a farm order's products are reviewed once, by the account that placed the order, after the farm
  order is ``completed`` (the farmer's last step in FARM_ORDER_MOVES: picked up or delivered).
- **Visit**: a visit (an order line on a slot, one ticket) is reviewed once, by the same account, once it has taken
  place by its kind's own rule (shop/balances.py ``delivered``: checked in, or the slot's start has passed and the
  slot is not cancelled) and was not refunded; a cancelled farm order is never reviewed. The shop never reads the
  tours' tables.
- Guest orders (no account) are not reviewed: the review must be tied to a person who can be asked about it.
- The farm's own farmer may answer once (a conditional UPDATE from "no reply", so two answers cannot both land).
- Staff hide an abusive review with a reason, written to the audit log; a hidden review is left out of every
  rating and public list, and its author still sees it, marked hidden.

Ratings are one aggregate query each (sum and count of stars; the average is worked out from integers)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, not_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core import audit
from core.domain import DomainError
from core.extensions import db
from core.images import PhotoRejected, process_photo
from core.inputs import clean_text, parse_int
from core.media import store_file
from shop import balances
from shop.ledger import LedgerEntry
from shop.order_models import FarmOrder, OrderLine
from shop.review_models import MAX_REASON, MAX_REPLY, MAX_TEXT, Review

GOODS_DONE = "completed"  # the last state of FARM_ORDER_MOVES
PUBLIC_LIMIT = 5


class ReviewError(DomainError):
    pass


@dataclass(frozen=True)
class Rating:
    total: int
    count: int

    @property
    def average(self) -> float:
        return round(self.total / self.count, 1) if self.count else 0.0

    def __bool__(self) -> bool:
        return self.count > 0


# -- who may write ------------------------------------------------------------------------------------------

def _owned(farm_order: FarmOrder, user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and farm_order.order.user_id is not None and farm_order.order.user_id == user.id)


def goods_subject(farm_order: FarmOrder) -> str:
    return f"goods:{farm_order.id}"


def visit_subject(line: OrderLine) -> str:
    return f"visit:{line.id}"


def _taken_place(now: datetime):
    """SQL on OrderLine: the visit took place (its kind's rule) and was not refunded (a refund of the line means
    it was cancelled, by the visitor or the farm, or missed and paid back by staff; a part given back when the
    visit moved to a cheaper date does not count)."""
    refunded = select(LedgerEntry.id).where(LedgerEntry.order_line_id == OrderLine.id,
                                            LedgerEntry.kind == "refund", LedgerEntry.quantity < 0).exists()
    return and_(balances.delivered(OrderLine, now), not_(refunded))


def visit_taken_place(line: OrderLine, now: datetime) -> bool:
    return bool(db.session.scalar(select(exists().where(OrderLine.id == line.id, _taken_place(now)))))


def goods_refusal(farm_order: FarmOrder, user):
    """Why ``user`` may not review this farm order's goods now (a message), or None when they may."""
    if not _owned(farm_order, user):
        return _l("Only the buyer who received this order can review it.")
    if not any(line.product_id is not None for line in farm_order.lines):
        return _l("This order has no products to review.")
    if farm_order.status != GOODS_DONE:
        return _l("You can review the order once the farm has marked it picked up or delivered.")
    if _exists(goods_subject(farm_order)):
        return _l("You have already reviewed this.")
    return None


def visit_refusal(line: OrderLine, user, now: datetime):
    """Why ``user`` may not review this visit now (a message), or None when they may."""
    if line.slot_id is None or not _owned(line.farm_order, user):
        return _l("Only the visitor who booked this visit can review it.")
    if line.farm_order.status == "cancelled" or not visit_taken_place(line, now):
        return _l("You can review the visit once it has taken place.")
    if _exists(visit_subject(line)):
        return _l("You have already reviewed this.")
    return None


def _exists(subject: str) -> bool:
    return db.session.scalar(select(exists().where(Review.subject == subject)))


def reviewed_subjects(subjects: list[str]) -> set[str]:
    """Of ``subjects``, those already reviewed (one query, for the buyer's order page)."""
    if not subjects:
        return set()
    return set(db.session.scalars(select(Review.subject).where(Review.subject.in_(subjects))))


@dataclass(frozen=True)
class OrderReviews:
    """For the buyer's order page: their reviews by subject, and what they may review now."""
    mine: dict
    goods_open: frozenset
    visits_open: frozenset

    def goods(self, farm_order):
        return self.mine.get(goods_subject(farm_order))

    def visit(self, line):
        return self.mine.get(visit_subject(line))


NO_REVIEWS = OrderReviews({}, frozenset(), frozenset())


def order_reviews(order, user, now: datetime) -> OrderReviews:
    """Two queries at most (the order's reviews; its visits that have taken place), none for anyone but its buyer."""
    if not (user is not None and getattr(user, "is_authenticated", False) and order.user_id == user.id):
        return NO_REVIEWS
    farm_orders = [fo for fo in order.farm_orders if fo.status != "cancelled"]
    if not farm_orders:
        return NO_REVIEWS
    mine = {r.subject: r for r in db.session.scalars(
        select(Review).where(Review.farm_order_id.in_([fo.id for fo in farm_orders])))}
    goods_open = frozenset(fo.id for fo in farm_orders if fo.status == GOODS_DONE and goods_subject(fo) not in mine
                           and any(line.product_id is not None for line in fo.lines))
    visit_ids = [line.id for fo in farm_orders for line in fo.lines
                 if line.slot_id is not None and visit_subject(line) not in mine]
    visits_open = frozenset(db.session.scalars(select(OrderLine.id).where(
        OrderLine.id.in_(visit_ids), _taken_place(now)))) if visit_ids else frozenset()
    return OrderReviews(mine, goods_open, visits_open)


# -- writing --------------------------------------------------------------------------------------------------

def parse_stars(raw) -> int:
    stars = parse_int(raw, low=1, high=5, max_digits=1)
    if stars is None:
        raise ReviewError(_l("Choose from 1 to 5 stars."), "stars")
    return stars


def clean_body(raw, limit: int, field: str, *, required: bool = False) -> str:
    text = clean_text(str(raw or "")).strip().replace("\r\n", "\n")
    if required and not text:
        raise ReviewError(_l("Please write a few words."), field)
    if len(text) > limit:
        raise ReviewError(_l("Please keep it to %(max)d characters (you wrote %(n)d).", max=limit, n=len(text)),
                          field)
    return text


def write(user, *, stars, text, photo=None, farm_order: FarmOrder | None = None, line: OrderLine | None = None,
          now: datetime) -> Review:
    """Store the review of ``farm_order``'s goods or of the visit ``line``, after every check; nothing on refusal.
    ``photo`` is an upload stream (or None); it goes through the same checks and re-encoding as product photos."""
    if (farm_order is None) == (line is None):
        raise ValueError("a review is of a farm order's goods or of a visit")
    refusal = goods_refusal(farm_order, user) if line is None else visit_refusal(line, user, now)
    if refusal:
        raise ReviewError(refusal)
    stars_value = parse_stars(stars)
    body = clean_body(text, MAX_TEXT, "text")
    processed = None
    if photo is not None:
        try:
            processed = process_photo(photo)
        except PhotoRejected as error:
            raise ReviewError(error.message, "photo") from error
    owner = farm_order if line is None else line.farm_order
    review = Review(subject=goods_subject(owner) if line is None else visit_subject(line),
                    kind="goods" if line is None else "visit", farm_order_id=owner.id,
                    order_line_id=None if line is None else line.id, farm_id=owner.farm_id, user_id=user.id,
                    stars=stars_value, text=body, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError as error:  # the same review sent twice at once
        raise ReviewError(_l("You have already reviewed this.")) from error
    if processed is not None:
        review.photo_large_key = store_file(processed.large)
        review.photo_small_key = store_file(processed.small)
        review.photo_width, review.photo_height = processed.width, processed.height
    audit.record("review.write", "review", review.id, actor=user, details={"stars": stars_value,
                                                                          "subject": review.subject})
    db.session.flush()
    return review


def reply(review: Review, farmer, text, *, now: datetime) -> Review:
    """The farm's own farmer answers, once."""
    if review.farm.owner_id != farmer.id:
        raise ReviewError(_l("Only this farm's farmer can answer its reviews."))
    body = clean_body(text, MAX_REPLY, "reply", required=True)
    result = db.session.execute(update(Review).where(Review.id == review.id, Review.reply.is_(None))
                                .values(reply=body, replied_at=now, replied_by_id=farmer.id))
    if result.rowcount != 1:
        raise ReviewError(_l("This review already has your answer."))
    audit.record("review.reply", "review", review.id, actor=farmer)
    db.session.flush()
    db.session.refresh(review)
    return review


def hide(review: Review, staff, reason, *, now: datetime) -> Review:
    """Staff hide an abusive review; the reason is kept on the review and in the audit log."""
    body = clean_body(reason, MAX_REASON, "reason", required=True)
    result = db.session.execute(update(Review).where(Review.id == review.id, Review.hidden_at.is_(None))
                                .values(hidden_at=now, hidden_by_id=staff.id, hidden_reason=body))
    if result.rowcount != 1:
        raise ReviewError(_l("This review is already hidden."))
    audit.record("review.hide", "review", review.id, actor=staff, from_state="shown", to_state="hidden",
                 details={"reason": body})
    db.session.flush()
    db.session.refresh(review)
    return review


# -- what the pages show ---------------------------------------------------------------------------------------

def _shown():
    return Review.hidden_at.is_(None)


def _of_product(product_id: int):
    bought = select(OrderLine.id).where(OrderLine.farm_order_id == Review.farm_order_id,
                                        OrderLine.product_id == product_id).exists()
    return [_shown(), Review.kind == "goods", bought]


def _of_slots(slot_ids):
    """``slot_ids``: a subquery of slot ids (the tours package names a tour's slots)."""
    return [_shown(), Review.kind == "visit",
            select(OrderLine.id).where(OrderLine.id == Review.order_line_id, OrderLine.slot_id.in_(slot_ids)).exists()]


def _rating(conditions) -> Rating:
    total, count = db.session.execute(
        select(func.coalesce(func.sum(Review.stars), 0), func.count(Review.id)).where(*conditions)).one()
    return Rating(int(total), int(count))


def product_rating(product_id: int) -> Rating:
    return _rating(_of_product(product_id))


def farm_rating_columns(farm_id):
    """The farm's rating as two scalar subqueries (sum, count) to select with the farm itself."""
    return _columns([_shown(), Review.farm_id == farm_id])


def product_rating_columns(product_id):
    """The product's rating as two scalar subqueries (sum, count) to select with the product itself."""
    return _columns(_of_product(product_id))


def rating_of(row) -> Rating:
    """The Rating of a row selected with ``*_rating_columns`` (its last two values)."""
    return Rating(int(row[-2] or 0), int(row[-1] or 0))


def _columns(conditions):
    return (select(func.coalesce(func.sum(Review.stars), 0)).where(*conditions).scalar_subquery(),
            select(func.count(Review.id)).where(*conditions).scalar_subquery())


def farm_rating(farm_id: int) -> Rating:
    return _rating([_shown(), Review.farm_id == farm_id])


def slots_rating(slot_ids) -> Rating:
    return _rating(_of_slots(slot_ids))


def aggregate_json_ld(rating: Rating) -> dict | None:
    """schema.org AggregateRating, or None when there is nothing to rate (Google refuses a count of 0)."""
    if not rating:
        return None
    return {"@type": "AggregateRating", "ratingValue": rating.average, "reviewCount": rating.count,
            "bestRating": 5, "worstRating": 1}


def review_json_ld(review: Review) -> dict:
    """schema.org Review of a shown review (its author by the given name only, as the page shows it)."""
    return {"@type": "Review", "author": {"@type": "Person", "name": review.author_shown},
            "datePublished": review.created_at.date().isoformat(), "reviewBody": review.text,
            "reviewRating": {"@type": "Rating", "ratingValue": review.stars, "bestRating": 5, "worstRating": 1}}


def _loaded():
    return (joinedload(Review.user), joinedload(Review.farm), joinedload(Review.line),
            joinedload(Review.farm_order).joinedload(FarmOrder.order))


def farm_reviews(farm_id: int, limit: int = 100) -> list[Review]:
    """The farm's reviews for its farmer (hidden ones too, marked), newest first."""
    return list(db.session.scalars(select(Review).where(Review.farm_id == farm_id).options(*_loaded())
                                   .order_by(Review.created_at.desc(), Review.id.desc()).limit(limit)))


def _public(conditions, limit: int) -> list[Review]:
    return list(db.session.scalars(select(Review).where(*conditions).options(joinedload(Review.user))
                                   .order_by(Review.created_at.desc(), Review.id.desc()).limit(limit)))


def product_reviews(product_id: int, rating: Rating, limit: int = PUBLIC_LIMIT) -> list[Review]:
    """The newest shown reviews of the product; no query when its rating counts none."""
    return _public(_of_product(product_id), limit) if rating else []


def slots_reviews(slot_ids, rating: Rating, limit: int = PUBLIC_LIMIT) -> list[Review]:
    return _public(_of_slots(slot_ids), limit) if rating else []


def all_reviews(limit: int = 200) -> list[Review]:
    return list(db.session.scalars(select(Review).options(*_loaded())
                                   .order_by(Review.created_at.desc(), Review.id.desc()).limit(limit)))
