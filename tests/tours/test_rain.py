"""Rain: the farm moves or cancels a time in one action, each paid visitor chooses another date, a credit or a
refund, applied once; unanswered by the visit day means a refund; the waiting list is told."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core.extensions import db
from core.outbox import Notification
from shop import credits
from shop.credit_models import CreditEntry
from shop.ledger import LedgerEntry
from shop.payment_models import Refund
from tests.factories import NOW
from tests.helpers import login_as
from tours import cancellations, rain, services
from tours.labels import visit_when
from tours.models import TourSlot, WaitlistEntry
from tours.rain_models import RainChoice

LATER = NOW + timedelta(hours=1)


def token_of(email: str) -> str:
    body = db.session.scalars(select(Notification.body).where(Notification.kind == "visit_rain_choice",
                                                              Notification.to_address == email)
                              .order_by(Notification.id.desc())).first()
    return re.search(r"/visits/rain/([\w-]+)", body).group(1)


def books_balance() -> None:
    """The market's money agrees with the farms' ledger to the đồng: what came in, less what went back and what
    is owed as credit, is what the ledger still counts as sold."""
    paid, refunded = credits.money_in_books()
    sold = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
                             .where(LedgerEntry.kind.in_(("sale", "refund"))))
    assert paid - refunded - credits.outstanding_vnd() == sold


@pytest.fixture
def rained(book, pay, make_slot, make_user):
    """A time five days ahead with two paid groups (one of an account, one a guest) and an unpaid order,
    moved by the farm to a time a week later."""
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=10)
    later = make_slot(slot.tour, starts_at=NOW + timedelta(days=12), capacity=10)
    buyer = make_user(email="lan@example.vn")
    member = pay(book(slot, 2, 0, email="lan@example.vn", user=buyer))
    guest = pay(book(slot, 1, 1, email="khach@example.vn"))
    unpaid = book(slot, 1, 0, email="chua@example.vn")
    db.session.add(WaitlistEntry(slot_id=slot.id, name="Chờ", phone="0987600001", email="cho@example.vn",
                                 locale="vi", adults=2, children=0))
    db.session.commit()
    result = rain.call_off(slot.tour.farm.owner, slot.tour.farm, slot, later, "Mưa to, đường trơn", NOW)
    db.session.commit()
    return dict(slot=slot, later=later, buyer=buyer, member=member, guest=guest, unpaid=unpaid, result=result)


def test_calling_off_closes_the_time_and_asks_each_paid_group(rained):
    slot, result = rained["slot"], rained["result"]
    assert slot.status == "cancelled" and slot.cancel_reason == "weather" and slot.cancel_note == "Mưa to, đường trơn"
    assert len(result.choices) == 2 and result.unpaid_orders == 1 and result.waiting_told == 1
    assert rained["unpaid"].status == "cancelled"
    assert {c.status for c in result.choices} == {"waiting"} and {c.to_slot_id for c in result.choices} == {
        rained["later"].id}
    assert all(len(c.token_hash) == 64 and token_of("lan@example.vn") not in c.token_hash for c in result.choices)
    assert services.tickets_for_order(rained["member"])[0].status == "valid", "kept until the visitor chooses"
    entry = db.session.scalar(select(WaitlistEntry))
    assert entry.status == "expired" and entry.closed_at == NOW
    kinds = list(db.session.scalars(select(Notification.kind).where(Notification.to_address == "cho@example.vn")))
    assert kinds == ["waitlist_slot_cancelled"]
    with pytest.raises(Exception, match="already cancelled"):
        rain.call_off(slot.tour.farm.owner, slot.tour.farm, slot, None, "", NOW)


def _choice_of(order) -> RainChoice:
    line_id = order.farm_orders[0].lines[0].id
    return db.session.scalar(select(RainChoice).where(RainChoice.order_line_id == line_id))


def test_another_date_moves_the_booking_once(rained):
    choice, later = _choice_of(rained["guest"]), rained["later"]
    assert rain.choose(choice, "move", later, LATER) is True
    db.session.commit()
    assert rain.choose(choice, "move", later, LATER) is False, "a second submit changes nothing"
    assert rain.choose(choice, "refund", None, LATER) is False
    db.session.commit()
    ticket = services.tickets_for_order(rained["guest"])[0]
    assert ticket.status == "valid" and ticket.line.slot_id == later.id
    assert later.seats_taken == 2 and choice.status == "moved" and choice.decided_by == "visitor"
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    books_balance()


def test_a_credit_becomes_the_accounts_balance_and_the_ledger_agrees(rained):
    choice, slot = _choice_of(rained["member"]), rained["slot"]
    assert rain.choose(choice, "credit", None, LATER) is True
    db.session.commit()
    assert rain.choose(choice, "credit", None, LATER) is False
    db.session.commit()
    entry = db.session.scalar(select(CreditEntry))
    assert (entry.user_id, entry.amount_vnd, entry.remaining_vnd) == (rained["buyer"].id, 300000, 300000)
    assert entry.expires_at == LATER + timedelta(days=365)
    balance = credits.balance(rained["buyer"].id, LATER)
    assert balance.amount_vnd == 300000 and balance.next_expiry == entry.expires_at
    assert credits.balance(rained["buyer"].id, entry.expires_at).amount_vnd == 0, "expired credit is not offered"
    assert db.session.scalar(select(func.count(Refund.id))) == 0, "no money leaves for a credit"
    assert services.tickets_for_order(rained["member"])[0].status == "cancelled"
    assert slot.seats_taken == 2, "the member's places are given back, the guest's still wait"
    net = db.session.scalar(select(func.sum(LedgerEntry.amount_vnd)).where(
        LedgerEntry.order_id == rained["member"].id))
    assert net == 0, "the farm's sale of that line is taken back as with a refund"
    books_balance()


def test_a_guest_cannot_take_credit(rained):
    choice = _choice_of(rained["guest"])
    with pytest.raises(rain.RainError, match="account"):
        rain.choose(choice, "credit", None, LATER)
    db.session.rollback()
    assert db.session.get(RainChoice, choice.id).status == "waiting"


def test_a_refund_goes_through_the_original_payment(rained):
    choice = _choice_of(rained["guest"])
    assert rain.choose(choice, "refund", None, LATER)
    db.session.commit()
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.provider, refund.reason) == (choice.amount_vnd, "vietqr", "slot_cancelled")
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.to_address == "khach@example.vn")))
    assert {"visit_rain_choice", "visit_rain_applied"} <= kinds
    books_balance()


def test_unanswered_choices_are_refunded_once_the_visit_day_has_begun(rained, app):
    slot = rained["slot"]
    rain.choose(_choice_of(rained["member"]), "credit", None, LATER)
    db.session.commit()
    local_midnight = slot.starts_at.replace(hour=0, minute=0) - timedelta(hours=7)  # 00:00 in Vietnam
    if local_midnight + timedelta(days=1) <= slot.starts_at:
        local_midnight += timedelta(days=1)
    assert rain.apply_defaults(local_midnight - timedelta(minutes=1)) == 0, "not before the visit day"
    assert rain.apply_defaults(local_midnight) == 1
    assert rain.apply_defaults(local_midnight + timedelta(hours=2)) == 0, "once"
    guest_choice = _choice_of(rained["guest"])
    assert (guest_choice.status, guest_choice.decided_by) == ("refunded", "default")
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 1
    result = app.test_cli_runner().invoke(args=["apply-rain-defaults"])
    assert result.exit_code == 0 and "0 unanswered" in result.output
    books_balance()


def test_a_plain_cancellation_tells_the_waiting_list(book, pay, make_slot):
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=3)
    other = make_slot(slot.tour, starts_at=NOW + timedelta(days=8), capacity=6)
    pay(book(slot, 3, 0))
    for n, status in enumerate(("waiting", "offered")):
        db.session.add(WaitlistEntry(slot_id=slot.id, name=f"Chờ {n}", phone=f"098760000{n}", locale="vi",
                                     email=f"cho{n}@example.vn", adults=1, children=0, status=status))
    db.session.commit()
    result = cancellations.cancel_slot(slot.tour.farm.owner, slot.tour.farm, slot, "weather", "", NOW)
    db.session.commit()
    assert result.waiting_told == 2
    assert set(db.session.scalars(select(WaitlistEntry.status))) == {"expired"}
    bodies = list(db.session.scalars(select(Notification.body).where(Notification.kind == "waitlist_slot_cancelled",
                                                                     Notification.channel == "email")))
    assert len(bodies) == 2
    assert all(f"/tours/{slot.tour.slug}" in body and "8 places left" not in body for body in bodies)
    with force_locale("vi"):
        when = visit_when(other.starts_at)
    assert all(when in body for body in bodies), "the other time is suggested"


def test_the_visitor_chooses_on_the_page(rained, client, monkeypatch):
    monkeypatch.setattr("tours.rain_views.utcnow", lambda: LATER)
    token = token_of("khach@example.vn")
    page = client.get(f"/visits/rain/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="move"' in html and 'value="refund"' in html
    assert 'value="credit"' not in html, "a guest is not offered a credit"
    guest = rained["guest"]
    ticket_page = client.get(f"/tickets/{services.tickets_for_order(guest)[0].code}?key={guest.secret}")
    assert ticket_page.status_code == 200 and 'id="rain-waiting"' in ticket_page.get_data(as_text=True)
    assert client.post(f"/visits/rain/{token}", data={"option": "credit"}).status_code == 400, "not for a guest"
    assert client.post(f"/visits/rain/{token}", data={"option": "move", "to_slot": "999999"}).status_code == 400
    assert client.get("/visits/rain/not-a-token").status_code == 404
    later = rained["later"]
    answer = client.post(f"/visits/rain/{token}", data={"option": "move", "to_slot": str(later.id)})
    assert answer.status_code == 302
    again = client.post(f"/visits/rain/{token}", data={"option": "refund"})
    assert again.status_code == 302, "a second tab finds the choice made"
    db.session.expire_all()
    assert _choice_of(rained["guest"]).status == "moved"
    assert db.session.scalar(select(func.count(Refund.id))) == 0


def test_the_farmer_moves_a_visit_to_a_new_date_in_one_action(book, pay, make_slot, client, monkeypatch):
    monkeypatch.setattr("farmers.rain_views.utcnow", lambda: LATER)
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=10)
    pay(book(slot, 2, 0, email="lan@example.vn"))
    login_as(client, slot.tour.farm.owner)
    assert client.get(f"/farmer/slots/{slot.id}/rain").status_code == 200
    day = (NOW + timedelta(days=9)).date().isoformat()
    bad = client.post(f"/farmer/slots/{slot.id}/rain", data={"action": "new", "day": day})
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.get(TourSlot, slot.id).status == "open", "nothing changed"
    answer = client.post(f"/farmer/slots/{slot.id}/rain", data={"action": "new", "day": day, "start": "08:00",
                                                                 "note": "Mưa"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(TourSlot, slot.id).status == "cancelled"
    choice = db.session.scalar(select(RainChoice))
    assert choice.to_slot is not None and choice.to_slot.status == "open" and choice.note == "Mưa"
    assert choice.to_slot.starts_at.date().isoformat() == day


def test_the_buyer_sees_the_credit_on_the_account_page(rained, client, monkeypatch):
    rain.choose(_choice_of(rained["member"]), "credit", None, LATER)
    db.session.commit()
    monkeypatch.setattr("core.time.utcnow", lambda: LATER)
    login_as(client, rained["buyer"])
    html = client.get("/account").get_data(as_text=True)
    assert 'id="visit-credit"' in html and "300.000" in html
    with force_locale("vi"):
        assert visit_when(LATER + timedelta(days=365)) in html
