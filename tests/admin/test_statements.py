"""Staff import the bank's statement and hold it against the market's credits: matched, on the statement only
(recorded in one action, then it finds its order like a notification), in the market only; the same file twice
adds nothing; a bad file changes nothing."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from core.extensions import db
from core.time import to_local, utcnow
from shop import payments
from shop.order_models import Order
from shop.payment_models import BankNotification, BankTransfer
from shop.statement_models import StatementImport, StatementLine
from tests.factories import make_order, make_product, make_user
from tests.helpers import count, csrf_token_from, login_as


@pytest.fixture
def staff(client):
    user = make_user(role="admin")
    login_as(client, user)
    return user


def _order():
    return make_order((make_product(price_vnd=50000, stock=30), 3), now=utcnow())  # 150,000 ₫


def _credit(amount, txn, content, **fields):
    transfer = payments.record_bank_transfer(transaction_id=txn, amount_vnd=amount, content=content,
                                             transferred_at=utcnow(), source="webhook", now=utcnow(), **fields)
    db.session.commit()
    return transfer


def _csv(*rows) -> bytes:
    day = to_local(utcnow()).strftime("%d/%m/%Y")
    lines = ["Ngày giao dịch;Số tham chiếu;Số tiền ghi nợ;Số tiền ghi có;Mô tả"]
    lines += [f"{day};{reference};{debit};{credit};{content}" for reference, debit, credit, content in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _upload(client, raw: bytes, name="sao-ke-vcb.csv", **extra):
    return client.post("/admin/statements?lang=en", data={"statement": (io.BytesIO(raw), name), **extra},
                       content_type="multipart/form-data")


def test_three_lists_and_one_action_records_the_missing_credit(client, staff):
    typed = _credit(150000, "5243.11111", "KEP chuyen tien")                # staff typed the bank's number
    notified = _credit(70000, "sepay:92704", "mua dua")                     # SePay reported its reference
    db.session.add(BankNotification(source="sepay", source_id="92704", raw_body=json.dumps(
        {"id": 92704, "referenceCode": "MBVCB.3278907687", "transferAmount": 70000}), bank_transfer_id=notified.id))
    by_content = _credit(99000, "casso:55", "NGUYEN VAN A chuyen tien dua Kep")
    ghost = _credit(12345, "sepay:999", "khong co tren sao ke")
    order = _order()
    raw = _csv(("5243.11111", "", "150.000", "KEP chuyen tien"),
               ("MBVCB.3278907687", "", "70.000", "MBVCB.3278907687 mua dua"),
               ("", "", "99.000", "MBVCB.1.NGUYEN VAN A chuyen tien dua Kep.CT tu 0123"),
               ("FT-MISSING-1", "", "150.000", f"{order.reference} thanh toan don"),
               ("FT-OUT", "20.000", "", "Phi SMS"))
    response = _upload(client, raw)
    assert response.status_code in (302, 303)
    entry = db.session.scalar(select(StatementImport))
    assert (entry.layout, entry.credits, entry.skipped) == ("vcb", 4, 1)
    lines = {line.bank_reference or line.content: line for line in db.session.scalars(select(StatementLine))}
    assert (lines["5243.11111"].bank_transfer_id, lines["5243.11111"].matched_by) == (typed.id, "reference")
    assert lines["MBVCB.3278907687"].bank_transfer_id == notified.id
    assert lines[next(k for k in lines if "NGUYEN" in k)].bank_transfer_id == by_content.id
    assert lines["FT-MISSING-1"].bank_transfer_id is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "FT-MISSING-1" in page and "sepay:999" in page and "Record it as a transfer" in page
    missing = lines["FT-MISSING-1"]
    recorded = client.post(f"/admin/statements/lines/{missing.id}/record?lang=en", follow_redirects=True)
    assert f"order {order.reference} is paid" in recorded.get_data(as_text=True)
    assert db.session.get(Order, order.id).status == "paid"
    transfer = db.session.scalar(select(BankTransfer).where(BankTransfer.transaction_id == "FT-MISSING-1"))
    db.session.refresh(missing)
    assert (transfer.source, transfer.order_id, missing.bank_transfer_id) == ("statement", order.id, transfer.id)
    again = client.post(f"/admin/statements/lines/{missing.id}/record")
    assert again.status_code in (302, 303) and count(BankTransfer) == 5, "twice is once"
    assert ghost.id not in {line.bank_transfer_id for line in lines.values()}


def test_a_recorded_line_without_a_reference_stays_unmatched_for_staff(client, staff):
    _upload(client, _csv(("FT-NOREF", "", "45.000", "chuyen tien")))
    line = db.session.scalar(select(StatementLine))
    client.post(f"/admin/statements/lines/{line.id}/record")
    transfer = db.session.scalar(select(BankTransfer))
    assert (transfer.status, transfer.order_id, transfer.amount_vnd) == ("unmatched", None, 45000)


def test_the_same_file_twice_and_overlapping_files_add_nothing(client, staff):
    raw = _csv(("FT-1", "", "10.000", "a"), ("", "", "20.000", "b"), ("", "", "20.000", "b"))
    _upload(client, raw)
    assert count(StatementLine) == 3, "two equal lines without a reference are two credits"
    second = client.post("/admin/statements?lang=en", data={"statement": (io.BytesIO(raw), "again.csv")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "This file was imported before: nothing was added." in second.get_data(as_text=True)
    assert count(StatementImport) == 1 and count(StatementLine) == 3
    wider = raw.rstrip(b"\n") + "\n".join(["", _csv(("FT-2", "", "30.000", "c")).decode("utf-8-sig")
                                           .splitlines()[1], ""]).encode()
    _upload(client, wider, name="sao-ke-2.csv")
    assert count(StatementImport) == 2 and count(StatementLine) == 4
    assert db.session.scalar(select(StatementImport.credits).where(StatementImport.filename == "sao-ke-2.csv")) == 1


def test_a_bad_file_says_why_and_changes_nothing(client, staff):
    response = _upload(client, b"ten,tuoi\nAn,30\n")
    assert response.status_code == 400 and "No header row" in response.get_data(as_text=True)
    no_file = client.post("/admin/statements?lang=en", data={}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "Choose the CSV file" in no_file.get_data(as_text=True)
    bad_amount = _upload(client, _csv(("FT-1", "", "12,5", "x")))
    assert bad_amount.status_code == 400 and "Line 2" in bad_amount.get_data(as_text=True)
    assert count(StatementImport) == 0 and count(StatementLine) == 0


def test_only_staff_import_and_record(client):
    login_as(client, make_user(role="buyer"))
    assert client.get("/admin/statements").status_code == 403
    assert _upload(client, _csv(("FT-1", "", "10.000", "a"))).status_code == 403
    assert count(StatementImport) == 0


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_upload_and_record_need_the_pages_token(self, client):
        user = make_user(role="admin")
        login_page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"email": user.email, "password": "pineapple-123",
                                    "csrf_token": csrf_token_from(login_page)})
        raw = _csv(("FT-CSRF", "", "10.000", "a"))
        assert _upload(client, raw).status_code == 400 and count(StatementImport) == 0
        token = csrf_token_from(client.get("/admin/statements").get_data(as_text=True))
        done = _upload(client, raw, csrf_token=token)
        assert done.status_code in (302, 303) and count(StatementLine) == 1
        line = db.session.scalar(select(StatementLine))
        assert client.post(f"/admin/statements/lines/{line.id}/record").status_code == 400
        assert count(BankTransfer) == 0
        token = csrf_token_from(client.get(done.headers["Location"]).get_data(as_text=True))
        assert client.post(f"/admin/statements/lines/{line.id}/record",
                           data={"csrf_token": token}).status_code in (302, 303)
        assert count(BankTransfer) == 1
