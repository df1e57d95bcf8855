"""Rain choices under concurrency on PostgreSQL (SQLite ignores row locks): the same choice posted twice at once,
and the visitor choosing while ``apply-rain-defaults`` runs. Exactly one effect each time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import User
from core.extensions import db
from shop.credit_models import CreditEntry
from shop.order_models import Order
from shop.payment_models import Refund
from tests.factories import NOW
from tests.helpers import race, race_pool, requires_postgres
from tours import rain, services
from tours.models import TourSlot
from tours.rain_models import RainChoice

pytestmark = [requires_postgres, pytest.mark.usefixtures("race_connections")]

THREADS = 6


@pytest.fixture
def app_config():
    return race_pool(THREADS)


def _rained(book, pay, make_slot, make_user):
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=10)
    later = make_slot(slot.tour, starts_at=NOW + timedelta(days=12), capacity=10)
    user = make_user(email="lan@example.vn")
    order = pay(book(slot, 2, 0, email="lan@example.vn", user=user))
    rain.call_off(slot.tour.farm.owner, slot.tour.farm, slot, later, "", NOW)
    db.session.commit()
    ids = (db.session.scalar(select(RainChoice.id)), slot.id, later.id, order.id)
    db.session.remove()
    return ids


def _effects():
    return (db.session.scalar(select(func.count(Refund.id))), db.session.scalar(select(func.count(CreditEntry.id))))


def _chooser(choice_id, option, to_slot_id, now):
    def choose(_i):
        choice = db.session.get(RainChoice, choice_id)
        to_slot = db.session.get(TourSlot, to_slot_id) if to_slot_id else None
        try:
            applied = rain.choose(choice, option, to_slot, now)
            db.session.commit()
            return "applied" if applied else "already"
        except rain.RainError:
            db.session.rollback()
            return "refused"
    return choose


@pytest.mark.parametrize("option", ["move", "credit", "refund"])
def test_the_same_choice_posted_at_once_applies_once(app, book, pay, make_slot, make_user, option):
    choice_id, slot_id, later_id, order_id = _rained(book, pay, make_slot, make_user)
    results = race(app, THREADS, _chooser(choice_id, option, later_id if option == "move" else None,
                                          NOW + timedelta(hours=1)))
    assert sorted(results) == ["already"] * (THREADS - 1) + ["applied"], results
    db.session.expire_all()
    refunds, credits_given = _effects()
    later, slot = db.session.get(TourSlot, later_id), db.session.get(TourSlot, slot_id)
    assert (refunds, credits_given) == {"move": (0, 0), "credit": (0, 1), "refund": (1, 0)}[option]
    assert later.seats_taken == (2 if option == "move" else 0), "moved once"
    assert slot.seats_taken == 0


def test_the_visitor_choosing_while_the_defaults_run_has_one_effect(app, book, pay, make_slot, make_user):
    for run in range(3):
        choice_id, slot_id, later_id, order_id = _rained(book, pay, make_slot, make_user) if run == 0 else \
            _again(book, pay, make_slot, make_user, run)
        day = db.session.get(TourSlot, slot_id).starts_at  # the visit day has begun

        def job(i):
            if i == 0:
                return ("job", rain.apply_defaults(day))
            return ("visitor", _chooser(choice_id, "credit", None, day)(i))

        results = race(app, 2, job)
        db.session.expire_all()
        choice = db.session.get(RainChoice, choice_id)
        refunds = db.session.scalar(select(func.count(Refund.id)).where(Refund.order_id == order_id))
        credits_given = db.session.scalar(select(func.count(CreditEntry.id)).where(CreditEntry.order_id == order_id))
        assert refunds + credits_given == 1, results
        assert choice.status == ("credited" if credits_given else "refunded")
        ticket = services.tickets_for_order(db.session.get(Order, order_id))[0]
        assert ticket.status == "cancelled"
        db.session.remove()


def _again(book, pay, make_slot, make_user, run):
    slot = make_slot(starts_at=NOW + timedelta(days=5 + run), capacity=10)
    user = make_user(email=f"lan{run}@example.vn")
    order = pay(book(slot, 2, 0, email=f"lan{run}@example.vn", user=user))
    rain.call_off(slot.tour.farm.owner, slot.tour.farm, slot, None, "", NOW)
    db.session.commit()
    ids = (db.session.scalar(select(RainChoice.id).where(RainChoice.slot_id == slot.id)), slot.id, None, order.id)
    db.session.remove()
    return ids


def test_two_checkouts_spending_the_same_credit_at_once_spend_it_once(app, book, pay, make_slot, make_user):
    from shop import checkout, credits

    choice_id, slot_id, later_id, order_id = _rained(book, pay, make_slot, make_user)
    choice = db.session.get(RainChoice, choice_id)
    rain.choose(choice, "credit", None, NOW + timedelta(hours=1))
    db.session.commit()
    later = db.session.get(TourSlot, later_id)
    user_id = db.session.get(Order, order_id).user_id
    buyer = db.session.get(User, user_id)
    orders = [book(later, 2, 0, email="lan@example.vn", user=buyer, method="credit").id for _ in range(2)]
    db.session.remove()

    def spend(i):
        try:
            credits.pay_order(db.session.get(Order, orders[i]), user_id, NOW + timedelta(hours=2))
            db.session.commit()
            return "paid"
        except checkout.CheckoutError:
            db.session.rollback()
            return "refused"

    assert sorted(race(app, 2, spend)) == ["paid", "refused"]
    db.session.expire_all()
    assert credits.balance(user_id, NOW + timedelta(hours=2)).amount_vnd == 0
    assert sorted(db.session.get(Order, oid).status for oid in orders) == ["paid", "pending_payment"]
