"""Staff split one unmatched bank credit across several orders: each part pays its order as a transfer naming it
would, the credit stays one row, and two staff splitting at once cannot give out more than it."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.time import utcnow
from shop import payments
from shop.order_models import Order
from shop.payment_models import BankTransfer, Payment, Refund
from shop.payments.split import split_transfer
from shop.payments.transfers import left_vnd
from tests.factories import make_order, make_product, make_user
from tests.helpers import count, csrf_token_from, login_as, requires_postgres


@pytest.fixture
def staff(client):
    user = make_user(role="admin")
    login_as(client, user)
    return user


def _order(price=50000, qty=3):
    return make_order((make_product(price_vnd=price, stock=30), qty), now=utcnow())  # 150,000 ₫ by default


def _credit(amount, txn="FT-FAMILY-1"):
    transfer = payments.record_bank_transfer(transaction_id=txn, amount_vnd=amount, content="chuyen tien hai don",
                                             transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    return transfer


def _form(*parts, rest="keep", note=""):
    data = {"rest": rest, "note": note}
    for i, (reference, amount) in enumerate(parts):
        data[f"parts-{i}-reference"], data[f"parts-{i}-amount_vnd"] = reference, amount
    return data


def test_one_credit_pays_two_orders_and_stays_one_statement_row(client, staff):
    first, second = _order(), _order(price=25000, qty=2)  # 150,000 and 50,000
    credit = _credit(200000)
    response = client.post(f"/admin/transfers/{credit.id}/split?lang=en",
                           data=_form((first.reference, "150.000"), (second.reference, "50,000")),
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count("it is paid") == 2
    for order in (first, second):
        db.session.refresh(order)
        assert order.status == "paid"
    db.session.refresh(credit)
    assert (credit.status, credit.amount_vnd, credit.order_id) == ("split", 200000, None)
    assert count(BankTransfer, BankTransfer.parent_id.is_(None)) == 1, "one bank credit, one row of the statement"
    parts = db.session.scalars(select(BankTransfer).where(BankTransfer.parent_id == credit.id)
                               .order_by(BankTransfer.id)).all()
    assert [(p.transaction_id, p.amount_vnd, p.order_id, p.status) for p in parts] == [
        ("FT-FAMILY-1/1", 150000, first.id, "matched"), ("FT-FAMILY-1/2", 50000, second.id, "matched")]
    assert sorted(db.session.scalars(select(Payment.amount_vnd))) == [50000, 150000]
    listing = client.get("/admin/transfers?lang=en").get_data(as_text=True)
    assert listing.count("FT-FAMILY-1/1") == 0 and "Split across orders" in listing, "parts sit under the credit"


def test_a_part_smaller_than_due_waits_and_adds_up_with_the_rest(staff):
    order = _order()
    credit = _credit(100000)
    [part] = split_transfer(credit, [(order, 100000)], refund_rest=False, note="", staff=staff, now=utcnow())
    db.session.commit()
    assert part.status == "underpaid" and db.session.get(Order, order.id).status == "pending_payment"
    payments.record_bank_transfer(transaction_id="FT-REST", amount_vnd=50000, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    payment = db.session.scalar(select(Payment))
    assert (db.session.get(Order, order.id).status, payment.amount_vnd, count(Payment)) == ("paid", 150000, 1)
    assert db.session.get(BankTransfer, part.id).payment_id == payment.id, "the part is in the one payment"


def test_what_is_left_stays_unmatched_then_can_be_split_again_or_sent_back(client, staff):
    first, second = _order(), _order()
    credit = _credit(400000)
    client.post(f"/admin/transfers/{credit.id}/split", data=_form((first.reference, "150000")))
    db.session.refresh(credit)
    assert (credit.status, left_vnd(credit)) == ("unmatched", 250000)
    assign = client.post(f"/admin/transfers/{credit.id}/assign", data={f"a{credit.id}-reference": second.reference})
    assert assign.status_code in (302, 303) and db.session.get(Order, second.id).status == "pending_payment", \
        "a credit split in part is not given whole to one order"
    client.post(f"/admin/transfers/{credit.id}/split", data=_form((second.reference, "150000")))
    assert db.session.get(Order, second.id).status == "paid"
    back = client.post(f"/admin/transfers/{credit.id}/refund", data={f"r{credit.id}-note": "the rest is not ours"})
    assert back.status_code in (302, 303)
    refund = db.session.scalar(select(Refund).where(Refund.bank_transfer_id == credit.id))
    assert (refund.amount_vnd, refund.reason) == (100000, "unmatched"), "only what is left goes back"
    db.session.refresh(credit)
    assert credit.status == "resolved" and left_vnd(credit) == 0


def test_the_rest_can_be_booked_back_at_once(client, staff):
    order = _order()
    credit = _credit(180000)
    client.post(f"/admin/transfers/{credit.id}/split", data=_form((order.reference, "150000"), rest="refund",
                                                                  note="khach chuyen thua"))
    db.session.refresh(credit)
    refund = db.session.scalar(select(Refund))
    assert (credit.status, refund.amount_vnd, refund.bank_transfer_id, refund.order_id) == (
        "split", 30000, credit.id, None)
    assert "FT-FAMILY-1" in client.get("/admin/refunds").get_data(as_text=True)


def test_parts_beyond_the_credit_are_refused_and_nothing_changes(client, staff):
    first, second = _order(), _order()
    credit = _credit(200000)
    response = client.post(f"/admin/transfers/{credit.id}/split?lang=en",
                           data=_form((first.reference, "150000"), (second.reference, "100000")),
                           follow_redirects=True)
    assert "The parts add up to ₫250,000, more than the ₫200,000 left" in response.get_data(as_text=True)
    assert count(BankTransfer) == 1 and count(Payment) == 0
    db.session.refresh(credit)
    assert credit.status == "unmatched"


@pytest.mark.parametrize("parts, message", [
    ((("KEP123", "1000"),), "A reference is KEP"),
    ((("", "1000"),), "Enter the order reference"),
    ((("{ref}", ""),), "Enter the amount for this order"),
    ((("{ref}", "mot tram"),), "whole dong"),
    ((), "at least one order"),
])
def test_a_split_form_with_mistakes_is_shown_again(client, staff, parts, message):
    order = _order()
    credit = _credit(150000)
    parts = [(reference.format(ref=order.reference), amount) for reference, amount in parts]
    response = client.post(f"/admin/transfers/{credit.id}/split?lang=en", data=_form(*parts))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(BankTransfer) == 1


def test_the_same_order_twice_and_an_unknown_order_are_refused(client, staff):
    order = _order()
    credit = _credit(150000)
    twice = client.post(f"/admin/transfers/{credit.id}/split?lang=en", follow_redirects=True,
                        data=_form((order.reference, "1000"), (order.reference, "2000")))
    assert "only once" in twice.get_data(as_text=True)
    unknown = client.post(f"/admin/transfers/{credit.id}/split?lang=en",
                          data=_form((payments.reference.reference_for(987654), "1000")))
    assert unknown.status_code == 400 and "No order has the reference" in unknown.get_data(as_text=True)
    assert count(BankTransfer) == 1


def test_a_credit_with_its_order_cannot_be_split(client, staff):
    order = _order()
    paid = payments.record_bank_transfer(transaction_id="FT-OWN", amount_vnd=150000, content=order.reference,
                                         transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    other = _order()
    client.post(f"/admin/transfers/{paid.id}/split", data=_form((other.reference, "1000")))
    assert count(BankTransfer) == 1 and db.session.get(Order, other.id).status == "pending_payment"


def test_only_staff_may_split(client):
    credit = _credit(150000)
    order = _order()
    login_as(client, make_user(role="buyer"))
    assert client.get(f"/admin/transfers/{credit.id}/split").status_code == 403
    assert client.post(f"/admin/transfers/{credit.id}/split",
                       data=_form((order.reference, "150000"))).status_code == 403
    assert count(BankTransfer) == 1


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_split_needs_the_pages_token(self, client):
        user = make_user(role="admin")
        login_page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"email": user.email, "password": "pineapple-123",
                                    "csrf_token": csrf_token_from(login_page)})
        order, credit = _order(), _credit(150000)
        forged = client.post(f"/admin/transfers/{credit.id}/split", data=_form((order.reference, "150000")))
        assert forged.status_code == 400 and count(BankTransfer) == 1
        token = csrf_token_from(client.get(f"/admin/transfers/{credit.id}/split").get_data(as_text=True))
        done = client.post(f"/admin/transfers/{credit.id}/split",
                           data={**_form((order.reference, "150000")), "csrf_token": token})
        assert done.status_code in (302, 303) and db.session.get(Order, order.id).status == "paid"


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------------------

@requires_postgres
def test_two_staff_splitting_one_credit_at_once_cannot_give_out_more_than_it(app):
    """A 200,000 ₫ credit; each of two staff gives 150,000 of it to a different order at the same moment: the
    credit's row lock makes the second see the first one's part, and refuse."""
    staff = [make_user(role="admin") for _ in range(2)]
    orders = [_order(), _order()]
    credit = _credit(200000)
    ids = [(user.id, order.id) for user, order in zip(staff, orders)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def split(i: int) -> None:
        from accounts.models import User

        with app.app_context():
            user, order = db.session.get(User, ids[i][0]), db.session.get(Order, ids[i][1])
            transfer = db.session.get(BankTransfer, credit.id)
            db.session.commit()
            barrier.wait(timeout=30)
            try:
                split_transfer(transfer, [(order, 150000)], refund_rest=False, note="", staff=user, now=utcnow())
                db.session.commit()
                outcomes.append("split")
            except payments.PaymentError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=split, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    assert sorted(outcomes) == ["refused", "split"]
    given = db.session.scalar(select(func.sum(BankTransfer.amount_vnd)).where(BankTransfer.parent_id == credit.id))
    assert given == 150000 and count(Payment) == 1
    assert sorted(db.session.scalars(select(Order.status).where(Order.id.in_([o.id for o in orders])))) == [
        "paid", "pending_payment"]
