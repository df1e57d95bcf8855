"""The farmer's times: generation in Vietnam time without duplicates, capacity, close and reopen."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.audit import AuditEntry
from core.extensions import db
from tests.factories import NOW
from tests.helpers import count
from tours import slots
from tours.manage import TourError
from tours.models import TourSlot


@pytest.fixture
def tour(make_tour):
    return make_tour(default_capacity=12)


def _starts(tour) -> list[datetime]:
    return list(db.session.scalars(select(TourSlot.starts_at).where(TourSlot.tour_id == tour.id)
                                   .order_by(TourSlot.starts_at)))


def test_generation_makes_each_weekday_and_time_in_vietnam_time(tour):
    owner = tour.farm.owner
    # 6 to 19 June 2026: Saturdays are the 6th and 13th, Sundays the 7th and 14th.
    made = slots.generate_slots(owner, tour.farm, tour, date(2026, 6, 6), date(2026, 6, 19), {5, 6},
                                [time(8), time(14, 30)], None, NOW)
    db.session.commit()
    assert len(made.created) == 8 and made.existing == 0 and made.past == 0
    starts = _starts(tour)
    # 08:00 in Vietnam (UTC+7) is stored as 01:00 UTC, 14:30 as 07:30 UTC.
    assert starts[:4] == [datetime(2026, 6, 6, 1, 0), datetime(2026, 6, 6, 7, 30), datetime(2026, 6, 7, 1, 0),
                          datetime(2026, 6, 7, 7, 30)]
    assert {s.capacity for s in db.session.scalars(select(TourSlot))} == {12}, "the tour's usual capacity"
    assert count(AuditEntry, AuditEntry.action == "slot.generated") == 1


def test_generating_again_adds_nothing_twice(tour):
    owner = tour.farm.owner
    slots.add_slot(owner, tour.farm, tour, date(2026, 6, 6), time(8), 5, NOW)
    db.session.commit()
    made = slots.generate_slots(owner, tour.farm, tour, date(2026, 6, 1), date(2026, 6, 14), {5}, [time(8)], 20,
                                NOW)
    db.session.commit()
    assert (len(made.created), made.existing) == (1, 1)
    again = slots.generate_slots(owner, tour.farm, tour, date(2026, 6, 1), date(2026, 6, 14), {5}, [time(8)], 20,
                                 NOW)
    db.session.commit()
    assert (len(again.created), again.existing) == (0, 2)
    assert _starts(tour) == [datetime(2026, 6, 6, 1), datetime(2026, 6, 13, 1)]
    kept = db.session.scalar(select(TourSlot).where(TourSlot.starts_at == datetime(2026, 6, 6, 1)))
    assert kept.capacity == 5, "an existing time is left as it was"


def test_times_already_past_are_skipped(tour):
    # NOW is Monday 1 June, 10:00 in Vietnam: 8:00 that day is past, 14:00 is not.
    made = slots.generate_slots(tour.farm.owner, tour.farm, tour, date(2026, 6, 1), date(2026, 6, 1), {0},
                                [time(8), time(14)], None, NOW)
    assert made.past == 1 and [s.starts_at for s in made.created] == [datetime(2026, 6, 1, 7)]


def test_a_local_midnight_slot_is_stored_on_the_utc_day_before(tour):
    slots.add_slot(tour.farm.owner, tour.farm, tour, date(2026, 6, 10), time(0, 30), None, NOW)
    db.session.commit()
    assert _starts(tour) == [datetime(2026, 6, 9, 17, 30)]


@pytest.mark.parametrize("first, last, weekdays, times, message", [
    (date(2026, 6, 10), date(2026, 6, 1), {0}, [time(8)], "last day"),
    (date(2026, 6, 1), date(2026, 12, 1), {0}, [time(8)], "at most 92 days"),
    (date(2026, 6, 1), date(2026, 6, 7), set(), [time(8)], "day of the week"),
    (date(2026, 6, 1), date(2026, 6, 7), {0}, [], "start time"),
    (date(2026, 6, 1), date(2026, 6, 7), {0}, [time(h) for h in range(6, 15)], "At most 8"),
])
def test_bad_generation_requests_are_refused(tour, first, last, weekdays, times, message):
    with pytest.raises(TourError) as error:
        slots.generate_slots(tour.farm.owner, tour.farm, tour, first, last, weekdays, times, None, NOW)
    assert message in str(error.value.message)
    db.session.rollback()
    assert _starts(tour) == []


def test_adding_a_past_or_existing_time_is_refused(tour):
    owner = tour.farm.owner
    with pytest.raises(TourError, match="already passed"):
        slots.add_slot(owner, tour.farm, tour, date(2026, 6, 1), time(9), None, NOW)
    slots.add_slot(owner, tour.farm, tour, date(2026, 6, 2), time(9), None, NOW)
    with pytest.raises(TourError, match="already a visit"):
        slots.add_slot(owner, tour.farm, tour, date(2026, 6, 2), time(9), None, NOW)
    db.session.rollback()


def test_another_farmer_cannot_add_times(tour, make_farm):
    other = make_farm()
    with pytest.raises(TourError):
        slots.add_slot(other.owner, other, tour, date(2026, 6, 2), time(9), None, NOW)
    with pytest.raises(TourError):
        slots.add_slot(other.owner, tour.farm, tour, date(2026, 6, 2), time(9), None, NOW)


def test_capacity_never_goes_below_the_seats_taken(make_slot, tour):
    slot = make_slot(tour, capacity=10, seats_taken=6)
    owner = tour.farm.owner
    with pytest.raises(TourError, match="6 places are already booked"):
        slots.change_capacity(owner, tour.farm, slot, 5)
    db.session.rollback()
    slots.change_capacity(owner, tour.farm, slot, 6)
    db.session.commit()
    assert (slot.capacity, slot.seats_taken) == (6, 6)
    slots.change_capacity(owner, tour.farm, slot, 30)
    db.session.commit()
    assert slot.capacity == 30
    for bad in (0, -1, 501):
        with pytest.raises(TourError):
            slots.change_capacity(owner, tour.farm, slot, bad)
        db.session.rollback()
    assert slot.capacity == 30


def test_the_database_refuses_more_seats_than_capacity(make_slot):
    slot = make_slot(capacity=4, seats_taken=4)
    with pytest.raises(IntegrityError):
        db.session.execute(update(TourSlot).where(TourSlot.id == slot.id).values(capacity=3))
        db.session.flush()
    db.session.rollback()


def test_close_and_reopen(make_slot, tour):
    slot = make_slot(tour)
    owner = tour.farm.owner
    assert slots.close_slot(owner, tour.farm, slot) is True
    assert slots.close_slot(owner, tour.farm, slot) is False, "a second click changes nothing"
    assert slot.status == "closed"
    assert slots.reopen_slot(owner, tour.farm, slot, NOW) is True
    assert slot.status == "open"
    past = make_slot(tour, starts_at=NOW - timedelta(hours=1), status="closed")
    with pytest.raises(TourError, match="already passed"):
        slots.reopen_slot(owner, tour.farm, past, NOW)
