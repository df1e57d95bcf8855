"""Commune staff's money pages: transfers (record by hand, resolve), refunds (mark done), outbox."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from core import outbox
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import cart as carts
from shop import payments
from shop.ledger import LedgerEntry
from shop.payment_models import BankTransfer, Payment, Refund
from shop.payments.reference import legacy_reference
from tests.helpers import count, login_as

PAGES = ["/admin/transfers", "/admin/refunds", "/admin/outbox"]
POSTS = ["/admin/transfers", "/admin/transfers/1/resolve", "/admin/refunds/1/done", "/admin/refunds/send-card"]


@pytest.fixture
def order(store, place, make_product):
    carts.add_product(store, make_product(price_vnd=50000, stock=30).id, "3")
    placed = place(store, now=utcnow())
    db.session.commit()
    return placed


@pytest.fixture
def staff(client, make_user):
    user = make_user(role="admin")
    login_as(client, user)
    return user



def bank_transfer(order, txn="FT-W-1", amount=None, content=None):
    recorded = payments.record_bank_transfer(
        transaction_id=txn, amount_vnd=order.total_vnd if amount is None else amount,
        content=order.reference if content is None else content, transferred_at=None, source="webhook",
        now=utcnow())
    db.session.commit()
    return recorded


# -- who may see them -------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("get", path) for path in PAGES] + [("post", path) for path in POSTS])
def test_anonymous_visitors_are_sent_to_log_in(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("role", ["buyer", "farmer"])
def test_buyers_and_farmers_are_refused(client, make_user, order, role):
    login_as(client, make_user(role=role))
    for path in PAGES:
        assert client.get(path).status_code == 403
    for path in POSTS:
        assert client.post(path, data={"reference": order.reference, "amount_vnd": "150000",
                                       "transaction_id": "FT-X"}).status_code == 403
    assert count(BankTransfer) == 0 and order.status == "pending_payment"


# -- transfers -----------------------------------------------------------------------------------------

def record(client, reference, amount="150.000", txn="FT-STAFF-1", **extra):
    return client.post("/admin/transfers?lang=en", data={"reference": reference, "amount_vnd": amount,
                                                         "transaction_id": txn, **extra}, follow_redirects=True)


def test_staff_confirm_a_transfer_by_hand(client, staff, order):
    response = record(client, order.reference.lower().replace("kep", "KEP "))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Transfer recorded: order {order.reference} is paid." in page
    assert order.status == "paid"
    payment = db.session.scalar(select(Payment))
    assert payment.confirmed_by == f"staff:{staff.id}" and payment.provider_ref == "FT-STAFF-1"
    transfer = db.session.scalar(select(BankTransfer))
    assert (transfer.source, transfer.status, transfer.amount_vnd) == ("staff", "matched", 150000)
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 1


def test_unknown_reference_is_refused(client, staff, order):
    response = record(client, "KEP99999999")
    assert response.status_code == 400
    assert "No order has the reference KEP99999999." in response.get_data(as_text=True)
    assert count(BankTransfer) == 0 and order.status == "pending_payment"


@pytest.mark.parametrize("data, message", [
    ({"reference": "12345"}, "A reference is KEP followed by 7 letters and digits (never O, I, L, 0 or 1), "
                             "for example KEPNSPC6RZ."),
    ({"reference": ""}, "Enter the order reference, for example KEPNSPC6RZ."),
    ({"amount": "mười nghìn"}, "Enter the amount in whole dong"),
    ({"amount": "0"}, "Enter the amount in whole dong"),
    ({"amount": "-150000"}, "Enter the amount in whole dong"),
    ({"txn": "   "}, "Enter the transaction number"),
])
def test_bad_input_is_explained_and_nothing_changes(client, staff, order, data, message):
    args = {"reference": order.reference, "amount": "150000", "txn": "FT-1", **data}
    response = record(client, args.pop("reference"), **args)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(BankTransfer) == 0


def _one_character_wrong(reference: str) -> str:
    last = reference[-1]
    return reference[:-1] + ("2" if last != "2" else "3")


@pytest.mark.parametrize("lang, message", [
    ("en", "This reference has a typing mistake: its last character does not fit the others."),
    ("vi", "Mã đơn này bị gõ nhầm: ký tự cuối không khớp với các ký tự trước."),
])
def test_a_reference_with_a_typing_mistake_is_explained(client, staff, order, lang, message):
    for typo in (_one_character_wrong(order.reference), order.reference[:4] + order.reference[5] + order.reference[4]
                 + order.reference[6:]):
        if typo == order.reference:
            continue
        response = client.post(f"/admin/transfers?lang={lang}", data={
            "reference": typo, "amount_vnd": "150000", "transaction_id": "FT-TYPO"})
        assert response.status_code == 400 and message in response.get_data(as_text=True), typo
    assert count(BankTransfer) == 0 and order.status == "pending_payment"


def test_staff_may_type_the_legacy_reference(client, staff, order):
    response = record(client, legacy_reference(order.id).lower().replace("kep", "kep "))
    assert response.status_code == 200
    assert f"Transfer recorded: order {order.reference} is paid." in response.get_data(as_text=True)
    assert order.status == "paid"


def test_a_used_transaction_id_is_refused(client, staff, order):
    bank_transfer(order, txn="FT-USED")
    before = (count(BankTransfer), count(Payment), count(LedgerEntry), count(Notification))
    response = record(client, order.reference, txn="FT-USED")
    assert response.status_code == 400
    assert "This bank transaction is already recorded; nothing was changed." in response.get_data(as_text=True)
    assert (count(BankTransfer), count(Payment), count(LedgerEntry), count(Notification)) == before


def test_underpaid_by_hand_says_what_is_missing(client, staff, order):
    page = record(client, order.reference, amount="100000").get_data(as_text=True)
    assert "50,000" in page and "still waits for payment" in page
    assert order.status == "pending_payment"


def test_transfers_needing_attention_come_first_and_can_be_resolved(client, staff, order):
    bank_transfer(order, txn="FT-OK")  # matched
    bank_transfer(order, txn="FT-NOREF", content="tien dua")  # unmatched
    page = client.get("/admin/transfers?lang=en").get_data(as_text=True)
    assert page.index("FT-NOREF") < page.index("FT-OK")
    unmatched = db.session.scalar(select(BankTransfer).where(BankTransfer.transaction_id == "FT-NOREF"))
    url = f"/admin/transfers/{unmatched.id}/resolve?lang=en"
    response = client.post(url, data={f"t{unmatched.id}-note": ""}, follow_redirects=True)
    assert "Write what was done" in response.get_data(as_text=True) and unmatched.status == "unmatched"
    response = client.post(url, data={f"t{unmatched.id}-note": "Gọi chị Mai, đã trả lại tiền."},
                           follow_redirects=True)
    assert "is marked resolved" in response.get_data(as_text=True)
    assert unmatched.status == "resolved" and unmatched.note == "Gọi chị Mai, đã trả lại tiền."
    response = client.post(url, data={f"t{unmatched.id}-note": "again"}, follow_redirects=True)
    assert "This transfer needs no action." in response.get_data(as_text=True)
    assert unmatched.note == "Gọi chị Mai, đã trả lại tiền."


# -- refunds ---------------------------------------------------------------------------------------------

def test_a_bank_refund_is_marked_done_once(client, staff, order):
    bank_transfer(order, amount=order.total_vnd + 20000)
    refund = db.session.scalar(select(Refund))
    page = client.get("/admin/refunds?lang=en").get_data(as_text=True)
    assert "20,000" in page and order.buyer_phone in page and "paid too much" in page
    url = f"/admin/refunds/{refund.id}/done?lang=en"
    response = client.post(url, data={f"r{refund.id}-bank_reference": "FT-BACK-1"}, follow_redirects=True)
    assert "is marked done" in response.get_data(as_text=True)
    assert refund.status == "done" and refund.bank_reference == "FT-BACK-1" and refund.done_by_id == staff.id
    response = client.post(url, data={f"r{refund.id}-bank_reference": "FT-BACK-2"}, follow_redirects=True)
    assert "This refund is already done." in response.get_data(as_text=True)
    assert refund.bank_reference == "FT-BACK-1"


def test_marking_a_refund_done_needs_the_bank_reference(client, staff, order):
    bank_transfer(order, amount=order.total_vnd + 20000)
    refund = db.session.scalar(select(Refund))
    response = client.post(f"/admin/refunds/{refund.id}/done?lang=en", data={}, follow_redirects=True)
    assert "Enter the reference of the transfer" in response.get_data(as_text=True)
    assert refund.status == "pending"
    assert client.post("/admin/refunds/999999/done").status_code == 404


# -- outbox -------------------------------------------------------------------------------------------------

def test_outbox_shows_messages_newest_first_with_their_text(client, staff, order):
    for n in range(35):
        outbox.queue("test", f"mai{n}@example.vn", f"Tin số {n}", f"Nội dung thư {n}")
    db.session.commit()
    page = client.get("/admin/outbox?lang=en").get_data(as_text=True)
    assert "E-mail sending is not set up" in page
    assert page.index("Tin số 34") < page.index("Tin số 33") and "Nội dung thư 34" in page
    assert "Tin số 4<" not in page and "Page 1 of 2" in page
    second = client.get("/admin/outbox?page=2&lang=en").get_data(as_text=True)
    assert "Tin số 4<" in second and "Tin số 0<" in second
    assert client.get("/admin/outbox?page=abc").status_code == 200
    assert client.get("/admin/outbox?page=99").status_code == 200


def test_outbox_filters_by_status(client, staff):
    outbox.queue("test", "a@example.vn", "Waiting one", "…")
    sent = outbox.queue("test", "b@example.vn", "Sent one", "…")
    sent.status = "sent"
    sent.sent_at = utcnow()
    db.session.commit()
    page = client.get("/admin/outbox?status=sent&lang=en").get_data(as_text=True)
    assert "Sent one" in page and "Waiting one" not in page


# -- constant queries -----------------------------------------------------------------------------------------

def queries(client, path) -> int:
    seen = []

    def counter(*args):
        seen.append(1)
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return len(seen)


def test_money_pages_make_the_same_number_of_queries_for_more_rows(client, staff, store, place, make_product):
    def grow(n):
        for i in range(n):
            carts.add_product(store, make_product(price_vnd=10000).id, "1")
            order = place(store, now=utcnow(), token=f"tok-{n}-{i}-{count(BankTransfer)}")
            db.session.commit()
            bank_transfer(order, txn=f"FT-{n}-{i}", amount=order.total_vnd + 1000)
            bank_transfer(order, txn=f"FT-U-{n}-{i}", content="no reference")
    grow(2)
    few = {path: queries(client, path) for path in PAGES}
    grow(5)
    many = {path: queries(client, path) for path in PAGES}
    assert few == many
