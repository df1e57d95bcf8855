"""Phones syncing at once on PostgreSQL (SQLite ignores row locks): one ticket checked in on several phones, and one
queued check-in sent again while the first sending is still open. The ticket is checked in once, the first
check-in to reach the market stands, and every phone hears the same time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.extensions import db
from tests.factories import NOW
from tests.helpers import race, race_pool, requires_postgres
from tours import offline_checkin, services
from tours.checkin_models import OfflineCheckin
from tours.models import Ticket

pytestmark = [requires_postgres, pytest.mark.usefixtures("race_connections")]

THREADS = 8


@pytest.fixture
def app_config():
    return race_pool(THREADS)


@pytest.fixture
def ticket(make_farm, make_tour, make_slot, book, pay):
    slot = make_slot(make_tour(make_farm()), starts_at=NOW + timedelta(hours=2), capacity=10)
    booked = NOW - timedelta(days=1)
    found = services.tickets_for_order(pay(book(slot, 2, 0, now=booked), now=booked))[0]
    db.session.commit()
    return found.id


def _syncer(app, ticket_id, event_id):
    def sync(i):
        ticket = db.session.get(Ticket, ticket_id)
        farm = ticket.line.slot.tour.farm
        event = offline_checkin.Event(event_id(i), ticket.code, None, NOW + timedelta(minutes=i))
        answer = offline_checkin.sync(farm.owner, farm, [event], NOW + timedelta(hours=1))[0]
        db.session.commit()
        return answer.result, answer.at
    return sync


def _check_ins(ticket_id) -> tuple[int, int]:
    db.session.expire_all()
    audit = db.session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "ticket.checked_in"))
    return audit, db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.id == ticket_id,
                                                                                    Ticket.checked_in_at.is_not(None)))


def test_one_ticket_checked_in_on_many_phones_at_once_is_checked_in_once(app, ticket):
    answers = race(app, THREADS, _syncer(app, ticket, lambda i: f"phone-{i}-event-1"))
    assert sorted(result for result, _ in answers) == ["already"] * (THREADS - 1) + ["ok"]
    assert len({at for _, at in answers}) == 1, answers  # everyone hears the time of the check-in that stood
    assert _check_ins(ticket) == (1, 1)


def test_one_queued_check_in_sent_twice_at_once_is_stored_and_done_once(app, ticket):
    answers = race(app, THREADS, _syncer(app, ticket, lambda i: "phone-1-event-1"))
    assert len(set(answers)) == 1 and answers[0][0] == "ok", answers
    assert db.session.scalar(select(func.count()).select_from(OfflineCheckin)) == 1
    assert _check_ins(ticket) == (1, 1)
