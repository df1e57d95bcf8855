"""The income pages: who sees what, bad dates, the CSV and the statement, and that they all agree."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from babel.numbers import format_currency

from core.extensions import db
from farmers import dashboard
from farmers.periods import Period
from shop.ledger import LedgerEntry
from tests.farmers.ledger_helpers import refund, sale
from tests.helpers import count_queries, login_as

URLS = ("/farmer/dashboard", "/farmer/dashboard.csv", "/farmer/statement")
JUNE_ARGS = "from=2026-06-01&to=2026-06-30"
JUNE = Period("custom", date(2026, 6, 1), date(2026, 6, 30))


def money(amount: int, locale: str = "vi") -> str:
    return format_currency(amount, "VND", locale=locale, currency_digits=True)


def read_csv(response) -> list[list[str]]:
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.fixture
def farmer_farm(make_farm, make_product, make_slot):
    """A farm with a June of sales, a refund, a visit and a payout."""
    farm = make_farm(name="Vườn dứa Anh An", bank_account_name="NGUYEN VAN AN")
    queen = make_product(farm=farm, name="Dứa Queen loại 1", unit="kg")
    tour = make_slot(farm=farm, title="Hái dứa trên đồi Hương Sơn").tour
    sale(farm, datetime(2026, 6, 2, 2), 300000, quantity=12, fee=15000, product=queen, order_id=None)
    sale(farm, datetime(2026, 6, 15, 9), 450000, quantity=3, fee=22500, tour=tour)
    sale(farm, datetime(2026, 6, 20, 9), 50000, quantity=2, fee=2500, product=queen)
    refund(farm, datetime(2026, 6, 21, 9), 50000, quantity=2, fee=2500, product=queen)
    sale(farm, datetime(2026, 7, 2, 9), 777000, quantity=1, product=queen)   # outside June
    db.session.add(LedgerEntry(farm_id=farm.id, occurred_at=datetime(2026, 6, 25, 5), kind="payout",
                               source="payout", amount_vnd=-200000))
    db.session.commit()
    return farm


# --- permissions -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", URLS)
def test_buyers_are_refused(client, make_user, make_farm, url):
    login_as(client, make_user(role="buyer"))
    assert client.get(url).status_code == 403


def test_a_farmer_still_waiting_for_approval_is_told_so(client, make_farm):
    farm = make_farm(status="pending")
    login_as(client, farm.owner)
    response = client.get("/farmer/dashboard?lang=en")
    assert response.status_code == 403
    assert "Your application is waiting for commune staff" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", URLS)
def test_a_farmer_sees_only_their_own_figures(client, farmer_farm, make_farm, make_product, url):
    other = make_farm(name="Trang trại dứa Bà Ba")
    secret = make_product(farm=other, name="Dứa bí mật của Bà Ba")
    sale(other, datetime(2026, 6, 3), 987654, product=secret)
    own = "Vườn dứa Anh An" if url.endswith("statement") else "Hái dứa trên đồi Hương Sơn"  # totals, or lines
    login_as(client, farmer_farm.owner)
    for query in (f"?{JUNE_ARGS}", f"?{JUNE_ARGS}&farm={other.id}", f"?farm={other.id}&{JUNE_ARGS}&period=year"):
        response = client.get(url + query)
        assert response.status_code == 200
        body = response.data.decode("utf-8-sig")
        assert "Bà Ba" not in body and "987654" not in body and money(987654) not in body
        assert own in body, query


def test_staff_see_a_farm_they_name_and_choose_one_otherwise(client, make_user, farmer_farm, grant_consent):
    staff = make_user(role="admin")
    login_as(client, staff)
    assert client.get(f"/farmer/dashboard?farm={farmer_farm.id}").status_code == 403, "no consent yet"
    grant_consent(farmer_farm, staff)
    response = client.get(f"/farmer/dashboard?farm={farmer_farm.id}&{JUNE_ARGS}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Vườn dứa Anh An" in body
    # Links keep the farm: the CSV and statement of this farm, not the staff member's.
    links = body.replace("&amp;", "&")
    assert f'href="/farmer/dashboard.csv?{JUNE_ARGS}&farm={farmer_farm.id}"' in links
    assert f'href="/farmer/statement?{JUNE_ARGS}&farm={farmer_farm.id}"' in links
    csv_rows = read_csv(client.get(f"/farmer/dashboard.csv?farm={farmer_farm.id}&{JUNE_ARGS}"))
    assert len(csv_rows) > 1
    assert client.get("/farmer/dashboard").status_code == 302
    assert client.get("/farmer/dashboard?farm=999999").status_code == 404
    assert client.get("/farmer/statement?farm=999999").status_code == 404


def test_a_suspended_farm_still_sees_what_it_is_owed(client, farmer_farm):
    farmer_farm.status = "suspended"
    db.session.commit()
    login_as(client, farmer_farm.owner)
    assert client.get("/farmer/dashboard").status_code == 200


# --- bad input ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("from=2026-06-30&to=2026-06-01", "The first day is after the last day."),
    ("from=2001-01-01&to=2026-06-01", "Choose at most five years."),
    ("from=31/06/2026&to=2026-07-01", "These dates could not be read."),
    ("from=2026-06-01&to=", "Choose both a first and a last day."),
    ("from=9999-12-31&to=9999-12-31", "Choose dates between the years 2000 and 2099."),
    ("period=forever", "Unknown period."),
])
def test_bad_dates_give_a_message_and_the_last_30_days(client, farmer_farm, query, message):
    login_as(client, farmer_farm.owner)
    response = client.get(f"/farmer/dashboard?{query}&lang=en")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in body and "Showing the last 30 days instead." in body
    statement = client.get(f"/farmer/statement?{query}&lang=en")
    assert statement.status_code == 200 and message in statement.get_data(as_text=True)
    export = client.get(f"/farmer/dashboard.csv?{query}")
    assert export.status_code == 302 and "/farmer/dashboard?" in export.headers["Location"]


def test_the_message_is_in_vietnamese_by_default(client, farmer_farm):
    login_as(client, farmer_farm.owner)
    body = client.get("/farmer/dashboard?from=2026-06-30&to=2026-06-01").get_data(as_text=True)
    assert "The first day" not in body and "notice-error" in body


# --- the CSV -------------------------------------------------------------------------------------------------------

def test_the_csv_opens_in_excel_with_vietnamese_text(client, farmer_farm):
    login_as(client, farmer_farm.owner)
    response = client.get(f"/farmer/dashboard.csv?{JUNE_ARGS}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][0] == "Ngày" and len(rows[0]) == 9            # the header, translated
    names = {row[3] for row in rows[1:]}
    assert "Dứa Queen loại 1" in names and "Hái dứa trên đồi Hương Sơn" in names
    assert rows[1][0] == "2026-06-02 09:00"                     # 02:00 UTC is 09:00 in Kep
    assert b"\r\n" in response.data
    english = read_csv(client.get(f"/farmer/dashboard.csv?{JUNE_ARGS}&lang=en"))
    assert english[0][:3] == ["Date", "Kind", "Source"]


def test_a_name_that_looks_like_a_formula_stays_text(client, make_farm, make_product):
    farm = make_farm()
    product = make_product(farm=farm, name="=HYPERLINK(\"http://x\")")
    sale(farm, datetime(2026, 6, 5), 1000, product=product)
    login_as(client, farm.owner)
    rows = read_csv(client.get(f"/farmer/dashboard.csv?{JUNE_ARGS}"))
    assert rows[1][3].startswith("'=")


# --- the three agree -------------------------------------------------------------------------------------------------

def test_dashboard_csv_and_statement_give_the_same_totals(client, farmer_farm):
    expected = dashboard.summarise(dashboard.day_rows(farmer_farm.id, JUNE)).total
    assert (expected.sales, expected.fees, expected.refunds, expected.payouts) == (800000, 37500, 50000, 200000)
    assert expected.net == expected.sales - expected.fees - expected.refunds == 712500
    login_as(client, farmer_farm.owner)

    rows = read_csv(client.get(f"/farmer/dashboard.csv?{JUNE_ARGS}&lang=en"))[1:]
    by_kind: dict[str, int] = {}
    for row in rows:
        by_kind[row[1]] = by_kind.get(row[1], 0) + int(row[5])
    assert by_kind["Sale"] == expected.sales
    assert -(by_kind["Platform fee"] + by_kind["Platform fee returned"]) == expected.fees
    assert -by_kind["Refund"] == expected.refunds
    assert -by_kind["Payout"] == expected.payouts
    assert sum(by_kind[k] for k in ("Sale", "Platform fee", "Platform fee returned", "Refund")) == expected.net

    page = client.get(f"/farmer/dashboard?{JUNE_ARGS}&lang=vi").get_data(as_text=True)
    statement = client.get(f"/farmer/statement?{JUNE_ARGS}&lang=vi").get_data(as_text=True)
    for amount in (expected.sales, expected.fees, expected.refunds, expected.net):
        assert money(amount) in page
        assert money(amount) in statement
    assert money(expected.payouts) in statement
    assert money(777000) not in page and money(777000) not in statement  # July is not June


def test_the_statement_is_ready_to_print(client, farmer_farm, make_user):
    from shop.payout_models import Payout

    staff = make_user(role="admin")
    payout = Payout(farm_id=farmer_farm.id, amount_vnd=100000, paid_on=date(2026, 6, 26),
                    bank_reference="FT26177123456", recorded_by_id=staff.id, form_token="t1")
    db.session.add(payout)
    db.session.flush()
    db.session.add(LedgerEntry(farm_id=farmer_farm.id, occurred_at=datetime(2026, 6, 26, 5), kind="payout",
                               source="payout", amount_vnd=-100000, payout_id=payout.id))
    db.session.commit()
    login_as(client, farmer_farm.owner)
    body = client.get(f"/farmer/statement?{JUNE_ARGS}&lang=en").get_data(as_text=True)
    for text in ("Income statement", "Vườn dứa Anh An", "NGUYEN VAN AN", "2500205110001", "06/2026",
                 "FT26177123456", "Confirmed by Kep commune", "signature, full name and stamp"):
        assert text in body


# --- constant queries ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [f"/farmer/dashboard?{JUNE_ARGS}", f"/farmer/dashboard.csv?{JUNE_ARGS}",
                                 f"/farmer/statement?{JUNE_ARGS}", "/farmer/dashboard?period=year"])
def test_queries_do_not_grow_with_the_entries(client, make_farm, make_product, make_slot, url):
    from tests.farmers.ledger_helpers import bulk

    farm = make_farm()
    product = make_product(farm=farm)
    tour = make_slot(farm=farm).tour
    make_slot(tour=tour, starts_at=datetime(2099, 1, 1))
    bulk(farm, 10, datetime(2026, 6, 1), product=product, tour=tour)
    login_as(client, farm.owner)
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    bulk(farm, 2000, datetime(2026, 6, 1), product=product, tour=tour)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    # At most 6: the user, their farm, the page's aggregates (3 or 4), and the cart count of base.html.
    assert len(many) == len(few) <= 6, many
