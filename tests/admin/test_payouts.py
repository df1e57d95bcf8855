"""Paying farms out: balances, recording a payout, the VietQR code, refusals, double submits, concurrency."""
from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from core.time import to_local, utcnow
from farmers import dashboard
from shop import payouts, vietqr
from shop.ledger import LedgerEntry
from shop.payout_models import Payout
from tests.farmers.ledger_helpers import sale
from tests.helpers import (
    count,
    count_queries,
    csrf_token_from,
    login_as,
    requires_postgres,
)


@pytest.fixture
def staff(make_user):
    return make_user(role="admin", full_name="Cán bộ Lan")


@pytest.fixture
def farm(make_farm):
    farm = make_farm(name="Vườn dứa Anh An", bank_bin="970405", bank_account_number="2500205110001")
    sale(farm, datetime(2026, 6, 2), 1000000, fee=50000)   # owed 950.000
    return farm



def _post(client, farm, token="tok-1", **fields):
    data = {"amount_vnd": "400.000", "paid_on": to_local(utcnow()).date().isoformat(),
            "bank_reference": "FT26177000001", "form_token": token}
    data.update(fields)
    return client.post(f"/admin/payouts/{farm.id}?lang=en", data=data)


# --- the service -------------------------------------------------------------------------------------------------

def test_a_payout_appends_a_negative_entry_and_lowers_the_balance(farm, staff):
    now = utcnow()
    payout, created = payouts.record_payout(farm, amount_vnd=400000, paid_on=to_local(now).date(),
                                            bank_reference="FT1", form_token="a", staff=staff, now=now)
    db.session.commit()
    assert created and payout.amount_vnd == 400000
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payout"))
    assert (entry.amount_vnd, entry.source, entry.payout_id, entry.occurred_at) == (-400000, "payout", payout.id, now)
    assert payouts.owed(farm.id) == 550000
    balance = dashboard.balance(farm.id)
    assert (balance.earned, balance.paid_out, balance.owed) == (950000, 400000, 550000)
    assert balance.last_payout_on == to_local(now).date()
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payout.recorded"))
    assert audit.actor_id == staff.id and audit.entity_id == payout.id


def test_a_backdated_payout_counts_when_it_is_recorded_and_keeps_the_bank_date(farm, staff):
    now = datetime(2026, 7, 10, 3)
    payout, _ = payouts.record_payout(farm, amount_vnd=100000, paid_on=date(2026, 7, 1), bank_reference="FT2",
                                      form_token="b", staff=staff, now=now)
    db.session.commit()
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payout"))
    assert entry.occurred_at == now and payout.paid_on == date(2026, 7, 1)


@pytest.mark.parametrize("amount, paid_on, reference, message", [
    (0, None, "FT", "above 0"),
    (-5000, None, "FT", "above 0"),
    (950001, None, "FT", "is available to pay out now"),
    (1000, timedelta(days=1), "FT", "future"),
    (1000, None, "   ", "reference"),
    (1000, None, "x" * 61, "too long"),
])
def test_bad_payouts_are_refused_and_nothing_is_written(farm, staff, amount, paid_on, reference, message):
    now = utcnow()
    day = to_local(now).date() + (paid_on or timedelta())
    with pytest.raises(payouts.PayoutError) as error:
        payouts.record_payout(farm, amount_vnd=amount, paid_on=day, bank_reference=reference, form_token="c",
                              staff=staff, now=now)
    db.session.rollback()
    with force_locale("en"):
        assert message in str(error.value.message)
    assert count(Payout) == 0 and payouts.owed(farm.id) == 950000


def test_nothing_owed_nothing_to_pay(make_farm, staff):
    farm = make_farm()
    with pytest.raises(payouts.PayoutError) as error:
        payouts.record_payout(farm, amount_vnd=1, paid_on=date(2026, 6, 1), bank_reference="FT", form_token="d",
                              staff=staff, now=datetime(2026, 6, 2))
    with force_locale("en"):
        assert "owes this farm nothing" in str(error.value.message)


def test_balances_of_every_farm_in_one_query(farm, make_farm, staff):
    other = make_farm(name="Đồi dứa Bà Ba")
    sale(other, datetime(2026, 6, 3), 300000)
    make_farm(name="Chưa bán gì")
    with count_queries() as queries:
        balances = payouts.balances(utcnow())
    assert len(queries) == 1
    assert [(b.name, b.owed) for b in balances] == [("Vườn dứa Anh An", 950000), ("Đồi dứa Bà Ba", 300000)]


def test_the_vietqr_code_pays_the_farms_own_account(farm):
    fields = vietqr.parse_payload(payouts.qr_payload(farm, 950000))
    assert fields["38"]["01"] == {"00": "970405", "01": "2500205110001"}
    assert fields["54"] == "950000"
    reference = fields["62"]["08"]
    assert reference == f"KEP PAYOUT {farm.id}" and len(reference) <= 25


def test_no_code_for_bank_details_vietqr_cannot_carry(make_farm):
    assert payouts.qr_payload(make_farm(bank_account_number="12-34"), 1000) is None


# --- the pages -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/payouts", "/admin/payouts/1"])
def test_only_staff_may_pay(client, make_user, farm, url):
    assert "/login" in client.get(url).headers["Location"]
    login_as(client, farm.owner)
    assert client.get(url).status_code == 403
    assert _post(client, farm).status_code == 403
    client.post("/logout")
    login_as(client, make_user(role="buyer"))
    assert client.get(url).status_code == 403
    assert count(Payout) == 0


def test_staff_record_a_payout_and_the_farmer_sees_it(client, farm, staff):
    login_as(client, staff)
    page = client.get(f"/admin/payouts/{farm.id}?lang=en").get_data(as_text=True)
    assert "<svg" in page and "KEP PAYOUT" in page and "2500205110001" in page
    response = _post(client, farm)
    assert response.status_code == 302
    assert "recorded" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert payouts.owed(farm.id) == 550000
    listing = client.get("/admin/payouts?lang=en").get_data(as_text=True)
    assert "Vườn dứa Anh An" in listing and "550,000" in listing
    client.post("/logout")
    login_as(client, farm.owner)
    body = client.get("/farmer/dashboard?lang=en").get_data(as_text=True)
    assert "400,000" in body and "550,000" in body


def test_the_code_can_pay_part_of_what_is_owed(client, farm, staff):
    login_as(client, staff)
    part = client.get(f"/admin/payouts/{farm.id}?amount=300.000&lang=en").get_data(as_text=True)
    assert "300,000" in part and 'value="300000"' in part
    too_much = client.get(f"/admin/payouts/{farm.id}?amount=5.000.000&lang=en").get_data(as_text=True)
    assert 'value="950000"' in too_much


def test_a_double_submitted_payout_is_written_once(client, farm, staff):
    login_as(client, staff)
    first, second = _post(client, farm, token="same"), _post(client, farm, token="same")
    assert first.status_code == second.status_code == 302
    assert "not recorded twice" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert count(Payout) == 1 and payouts.owed(farm.id) == 550000


@pytest.mark.parametrize("fields, message", [
    ({"amount_vnd": "2.000.000"}, "is available to pay out now"),
    ({"amount_vnd": "0"}, "above 0"),
    ({"amount_vnd": "-100"}, "above 0"),
    ({"amount_vnd": "một triệu"}, "Enter a number"),
    ({"amount_vnd": ""}, "Enter the amount transferred."),
    ({"paid_on": "2026-02-30"}, "Not a valid date value."),
    ({"bank_reference": ""}, "Enter the bank transfer"),
    ({"form_token": ""}, "This form has expired"),
])
def test_bad_payout_forms_say_why(client, farm, staff, fields, message):
    login_as(client, staff)
    response = _post(client, farm, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(Payout) == 0 and payouts.owed(farm.id) == 950000


def test_unknown_farm_is_404(client, staff):
    login_as(client, staff)
    assert client.get("/admin/payouts/999999").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_real_form_round_trip(self, client, farm, staff):
        login_page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"email": staff.email, "password": "pineapple-123",
                                    "csrf_token": csrf_token_from(login_page)})
        page = client.get(f"/admin/payouts/{farm.id}").get_data(as_text=True)
        token = csrf_token_from(page)
        form_token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(f"/admin/payouts/{farm.id}", data={
            "csrf_token": token, "form_token": form_token, "amount_vnd": "950.000",
            "paid_on": to_local(utcnow()).date().isoformat(), "bank_reference": "FT26177000009"})
        assert response.status_code == 302
        assert payouts.owed(farm.id) == 0


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------------------------

@requires_postgres
def test_two_staff_paying_at_once_cannot_overdraw(app, farm, staff):
    """Each pays 600.000 of the 950.000 owed, at the same moment: one payout goes through, the other is refused."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    farm_id, staff_id = farm.id, staff.id

    def pay(token: str) -> None:
        from accounts.farms import Farm
        from accounts.models import User

        with app.app_context():
            the_farm, the_staff = db.session.get(Farm, farm_id), db.session.get(User, staff_id)
            barrier.wait()
            try:
                payouts.record_payout(the_farm, amount_vnd=600000, paid_on=date(2026, 6, 2), bank_reference=token,
                                      form_token=token, staff=the_staff, now=datetime(2026, 6, 2, 5))
                db.session.commit()
                outcomes.append("paid")
            except payouts.PayoutError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(f"t{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["paid", "refused"]
    assert payouts.owed(farm_id) == 350000 and count(Payout) == 1
