"""What farmers, visitors and staff are told besides orders: a payout sent, an application decided, products
running low (once, until the stock is raised), a bank refund to make, and the visit reminder of the day before."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from accounts import farm_applications
from core.extensions import db
from core.outbox import Notification
from core.time import to_local, utcnow
from shop import notices, payments, payouts, services
from shop.models import LOW_STOCK
from shop.payment_models import Payment
from tests.factories import book, make_order, pay
from tests.farmers.ledger_helpers import sale
from tours import reminders


def queued(kind: str) -> list[Notification]:
    db.session.commit()
    return db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).all()


def test_a_recorded_payout_tells_the_farmer(make_farm, make_user):
    farm = make_farm(name="Vườn dứa Anh An")
    sale(farm, datetime(2026, 6, 2), 1000000, fee=50000)
    now = utcnow()
    payouts.record_payout(farm, amount_vnd=400000, paid_on=to_local(now).date(), bank_reference="FT26177000001",
                          form_token="t1", staff=make_user(role="admin"), now=now)
    [note] = queued("payout_sent")
    assert note.to_address == farm.owner.email
    assert "400.000" in note.body and "FT26177000001" in note.body and "/farmer/statement" in note.body


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_applicant_hears_the_decision(make_farm, make_user, decision):
    farm = make_farm(status="pending", name="Vườn dứa Chị Hoa")
    staff = make_user(role="admin")
    if decision == "approve":
        farm_applications.approve(farm, staff, now=utcnow())
    else:
        farm_applications.reject(farm, staff, "Thiếu ảnh vườn", now=utcnow())
    [note] = queued("farm_application_decided")
    assert note.to_address == farm.owner.email
    assert ("Thiếu ảnh vườn" in note.body) is (decision == "reject")
    assert "/sell" in note.body


def test_a_paid_order_leaving_little_stock_warns_the_farmer_once(make_product):
    product = make_product(stock=LOW_STOCK + 2, name="Dứa Queen loại 1")
    first = make_order((product, 3))
    notices.order_paid(pay(first))
    [warning] = queued("low_stock")
    assert "Dứa Queen loại 1" in warning.body and warning.to_address == product.farm.owner.email
    second = make_order((product, 1))
    notices.order_paid(pay(second))
    assert len(queued("low_stock")) == 1, "told once, not at every order"
    as_saved = services.ProductData(**{f.name: getattr(product, f.name)
                                       for f in dataclasses.fields(services.ProductData)})
    services.update_product(product.farm.owner, product.farm, product,
                            dataclasses.replace(as_saved, stock=LOW_STOCK + 10), now=utcnow())
    db.session.commit()
    assert product.low_stock_warned_at is None
    notices.order_paid(pay(make_order((product, 12))))
    assert len(queued("low_stock")) == 2, "running low again after a restock warns again"


def test_a_bank_refund_to_make_tells_staff(app, make_product):
    app.config["STAFF_EMAIL"] = "htx@duakep.vn"
    order = pay(make_order((make_product(), 1)))
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    payments.create_refund(payment, 10000, reason="cancelled")
    [alert] = queued("staff_refund_to_make")
    assert alert.to_address == "htx@duakep.vn" and order.reference in alert.body


# -- visit reminders -------------------------------------------------------------------------------------------

def booked_ticket(make_slot, starts_in: timedelta):
    slot = make_slot(starts_at=utcnow() + starts_in)
    order = pay(book(slot, 2, 1))
    return slot, order


def test_the_day_before_each_visitor_is_reminded_once(app, make_slot):
    slot, order = booked_ticket(make_slot, timedelta(hours=24))
    booked_ticket(make_slot, timedelta(days=3))  # too early to remind
    assert reminders.send_reminders(utcnow()) == 1
    [note] = queued("visit_reminder")
    assert note.to_address == order.buyer_email
    assert slot.tour.title in note.subject and "/tickets/" in note.body
    if slot.tour.meeting_point:
        assert slot.tour.meeting_point in note.body
    assert reminders.send_reminders(utcnow()) == 0, "never twice"
    result = app.test_cli_runner().invoke(args=["send-visit-reminders"])
    assert result.exit_code == 0 and "Queued 0 visit reminder(s)." in result.output


def test_a_cancelled_ticket_or_visit_is_not_reminded(app, make_slot):
    slot, order = booked_ticket(make_slot, timedelta(hours=20))
    slot.status = "cancelled"
    db.session.commit()
    assert reminders.send_reminders(utcnow()) == 0
    assert queued("visit_reminder") == []


def test_a_visitor_who_turned_visit_messages_off_is_not_reminded(app, make_slot, make_user):
    user = make_user(muted_topics="visits")
    slot = make_slot(starts_at=utcnow() + timedelta(hours=24))
    pay(book(slot, 1, 0, user=user))
    assert reminders.send_reminders(utcnow()) == 1, "the ticket is handled"
    assert queued("visit_reminder") == [], "but nothing is sent: the topic is off"
