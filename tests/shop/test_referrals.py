"""Links that credit the farmer: arrivals counted once per session and day, orders attributed to that farm's farm
order only, the dashboard's "from your shares" figures, and the lower fee staff may set for shared sales."""
from __future__ import annotations

import html as html_lib
import re
from datetime import datetime, timedelta

import pytest
from flask import session
from sqlalchemy import select

from core import settings_store
from core.extensions import db
from core.time import utcnow
from shop import referrals
from shop.ledger import LedgerEntry, fee_for
from shop.referrals import ShareVisit
from tests.helpers import login_as, race, requires_postgres
from tests.shop.test_cart_views import add
from tests.shop.test_checkout_views import open_checkout, placed_order, submit

PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"


@pytest.fixture
def phone(client):
    client.environ_base["HTTP_USER_AGENT"] = PHONE
    return client


def _visits(farm) -> int:
    db.session.expire_all()
    return sum(db.session.scalars(select(ShareVisit.visits).where(ShareVisit.farm_id == farm.id)))


def _shares(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess.get(referrals.SESSION_KEY) or {})


# --- arrivals ----------------------------------------------------------------------------------------------

def test_an_arrival_counts_once_per_session_and_day(app, phone, make_product, monkeypatch):
    product = make_product(slug="dua-queen")
    farm = product.farm
    for _ in range(3):
        assert phone.get(f"/products/dua-queen?ref={farm.referral_code}").status_code == 200
    phone.get(f"/farms/{farm.slug}?ref={farm.referral_code.lower()}")  # another page of the farm, same day
    assert _visits(farm) == 1
    assert set(_shares(phone)) == {str(farm.id)}
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = PHONE
    other.get(f"/products/dua-queen?ref={farm.referral_code}")
    assert _visits(farm) == 2
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(referrals, "utcnow", lambda: tomorrow)
    phone.get(f"/products/dua-queen?ref={farm.referral_code}")
    assert _visits(farm) == 3
    rows = db.session.scalars(select(ShareVisit).where(ShareVisit.farm_id == farm.id)).all()
    assert len(rows) == 2  # one row per local day


@requires_postgres
def test_arrivals_at_the_same_moment_all_count(app, make_farm):
    """The day's row is made by the first arrival and bumped by the others, never lost in a race."""
    farm = make_farm()
    farm_id, day = farm.id, utcnow().date()

    def arrive(_i):
        referrals.count_visit(farm_id, day)
        db.session.commit()

    race(app, 8, arrive)
    assert _visits(farm) == 8


@pytest.mark.parametrize("code", ["ZZZZZZ", "abc", "", "ABC234X", "<script>", "%00"])
def test_an_unknown_or_malformed_code_is_ignored(phone, make_product, code):
    make_product(slug="dua-queen")
    assert phone.get("/products/dua-queen", query_string={"ref": code}).status_code == 200
    assert _shares(phone) == {}
    assert db.session.scalar(select(ShareVisit)) is None


def test_a_suspended_farms_code_is_ignored(phone, make_product):
    product = make_product(slug="dua-queen")
    code = product.farm.referral_code
    product.farm.status = "suspended"
    db.session.commit()
    phone.get(f"/farms/{product.farm.slug}?ref={code}")
    assert _shares(phone) == {} and _visits(product.farm) == 0


@pytest.mark.parametrize("agent", ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                                   "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                                   "curl/8.5.0", ""])
def test_robots_and_link_previews_are_not_counted(client, make_product, agent):
    product = make_product(slug="dua-queen")
    client.get(f"/products/dua-queen?ref={product.farm.referral_code}", headers={"User-Agent": agent})
    assert _visits(product.farm) == 0 and _shares(client) == {}


def test_the_farmer_opening_their_own_link_is_not_counted(phone, make_product):
    product = make_product(slug="dua-queen")
    login_as(phone, product.farm.owner)
    phone.get(f"/products/dua-queen?ref={product.farm.referral_code}")
    assert _visits(product.farm) == 0


def test_first_touch_wins_and_other_farms_do_not_overwrite_it(phone, make_product, monkeypatch):
    first, second = make_product(slug="dua-a").farm, make_product(slug="dua-b").farm
    phone.get(f"/products/dua-a?ref={first.referral_code}")
    arrived = _shares(phone)[str(first.id)]["at"]
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr(referrals, "utcnow", lambda: later)
    phone.get(f"/products/dua-b?ref={second.referral_code}")
    phone.get(f"/products/dua-a?ref={first.referral_code}")
    shares = _shares(phone)
    assert shares[str(first.id)]["at"] == arrived  # not moved forward by the second arrival
    assert set(shares) == {str(first.id), str(second.id)}


def test_the_credit_lasts_seven_days_from_the_first_arrival(app, make_farm):
    farm = make_farm()
    arrived = datetime(2026, 6, 1, 3, 0)
    with app.test_request_context():
        session[referrals.SESSION_KEY] = {str(farm.id): {"at": arrived.isoformat(), "seen": "2026-06-01"}}
        assert referrals.credited(farm.id, arrived + timedelta(days=6, hours=23))
        assert not referrals.credited(farm.id, arrived + timedelta(days=7, minutes=1))
        assert not referrals.credited(farm.id + 1, arrived)
        session[referrals.SESSION_KEY] = {"x": "not a dict entry", str(farm.id): {"at": "yesterday"}}
        assert not referrals.credited(farm.id, arrived)
    assert not referrals.credited(farm.id, arrived)  # outside a request: never


# --- orders, the dashboard and the fee ---------------------------------------------------------------------

def _order_through_a_shared_link(client, make_farm, make_product):
    """A buyer arrives through farm A's link and orders from farm A and farm B in one order."""
    farm_a, farm_b = make_farm(name="Vườn A"), make_farm(name="Vườn B")
    from_a = make_product(farm=farm_a, slug="dua-a", price_vnd=40000, stock=50)
    from_b = make_product(farm=farm_b, slug="dua-b", price_vnd=30000, stock=50)
    client.get(f"/products/dua-a?ref={farm_a.referral_code}")
    add(client, from_a, "3")
    add(client, from_b, "2")
    submit(client, open_checkout(client))
    order = placed_order()
    return order, farm_a, farm_b


def test_an_order_is_credited_only_on_the_sharing_farms_farm_order(phone, make_farm, make_product):
    order, farm_a, farm_b = _order_through_a_shared_link(phone, make_farm, make_product)
    assert {fo.farm_id: fo.from_share for fo in order.farm_orders} == {farm_a.id: True, farm_b.id: False}


def test_logging_in_to_order_keeps_the_credit(phone, make_product, make_user):
    product = make_product(slug="dua-a")
    phone.get(f"/products/dua-a?ref={product.farm.referral_code}")
    login_as(phone, make_user())
    assert set(_shares(phone)) == {str(product.farm_id)}
    add(phone, product, "1")
    submit(phone, open_checkout(phone))
    assert [fo.from_share for fo in placed_order().farm_orders] == [True]


def test_an_order_without_a_shared_link_is_not_credited(client, make_product):
    product = make_product(slug="dua-a")
    add(client, product, "1")
    submit(client, open_checkout(client))
    assert [fo.from_share for fo in placed_order().farm_orders] == [False]


def _fees(order) -> dict[int, set[tuple[int, int]]]:
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id,
                                                           LedgerEntry.kind == "fee")).all()
    found: dict[int, set] = {}
    for entry in entries:
        found.setdefault(entry.farm_id, set()).add((entry.fee_bp, entry.amount_vnd))
    return found


def test_the_lower_fee_applies_to_the_sharing_farms_sale_only(phone, make_farm, make_product, pay):
    settings_store.put("platform_fee_bp", "500")
    settings_store.put("share_fee_bp", "200")
    db.session.commit()
    order, farm_a, farm_b = _order_through_a_shared_link(phone, make_farm, make_product)
    pay(order, now=utcnow())
    assert _fees(order) == {farm_a.id: {(200, -fee_for(120000, 200))}, farm_b.id: {(500, -fee_for(60000, 500))}}


def test_without_the_setting_shared_sales_pay_the_normal_fee(phone, make_farm, make_product, pay):
    settings_store.put("platform_fee_bp", "500")
    db.session.commit()
    order, farm_a, farm_b = _order_through_a_shared_link(phone, make_farm, make_product)
    pay(order, now=utcnow())
    assert _fees(order) == {farm_a.id: {(500, -6000)}, farm_b.id: {(500, -3000)}}


def test_the_share_fee_is_never_above_the_normal_fee(phone, make_farm, make_product, pay):
    settings_store.put("platform_fee_bp", "300")
    settings_store.put("share_fee_bp", "900")
    db.session.commit()
    order, farm_a, _farm_b = _order_through_a_shared_link(phone, make_farm, make_product)
    pay(order, now=utcnow())
    assert _fees(order)[farm_a.id] == {(300, -3600)}


def _share_line(client) -> str:
    html = html_lib.unescape(client.get("/farmer/dashboard?period=week").get_data(as_text=True))
    return re.sub(r"[ \n]+", " ", re.search(r"<li data-shares>(.*?)</li>", html, re.S).group(1))


def test_the_dashboard_shows_visits_orders_and_sales_from_the_farmers_shares(
        app, phone, make_farm, make_product, pay):
    order, farm_a, farm_b = _order_through_a_shared_link(phone, make_farm, make_product)
    farmer = app.test_client()
    login_as(farmer, farm_a.owner)
    assert _share_line(farmer) == "Từ chia sẻ của bạn: <strong>1 lượt xem, 0 đơn, 0\xa0₫</strong>"  # not paid yet
    pay(order, now=utcnow())
    assert _share_line(farmer) == "Từ chia sẻ của bạn: <strong>1 lượt xem, 1 đơn, 120.000\xa0₫</strong>"
    login_as(farmer, farm_b.owner)
    assert _share_line(farmer) == "Từ chia sẻ của bạn: <strong>0 lượt xem, 0 đơn, 0\xa0₫</strong>"


def test_the_dashboard_share_figures_keep_to_the_period(app, make_product):
    product = make_product()
    referrals.count_visit(product.farm_id, (utcnow() - timedelta(days=60)).date())
    db.session.commit()
    farmer = app.test_client()
    login_as(farmer, product.farm.owner)
    assert "0 lượt xem" in _share_line(farmer)


# --- the staff setting -------------------------------------------------------------------------------------

@pytest.fixture
def staff(client, make_user):
    user = make_user(role="admin")
    login_as(client, user)
    return user


@pytest.mark.parametrize("raw,expected", [("1", "100"), ("0,5", "50"), ("0", "0"), ("", ""), ("  ", "")])
def test_staff_set_or_turn_off_the_share_fee(client, staff, raw, expected):
    response = client.post("/admin/settings/share-fee", data={"share_percent": raw})
    assert response.status_code == 302
    assert settings_store.get("share_fee_bp") == expected
    html = client.get("/admin/settings").get_data(as_text=True)
    assert f'name="share_percent" type="text" value="{raw.strip().replace(",", ".")}"' in html or not raw.strip()


@pytest.mark.parametrize("raw", ["-1", "31", "abc", "2.555", "nan"])
def test_a_bad_share_fee_changes_nothing(client, staff, raw):
    response = client.post("/admin/settings/share-fee?lang=en", data={"share_percent": raw})
    assert response.status_code == 400
    assert settings_store.get("share_fee_bp") is None
    assert re.search("Enter the fee as a number|The fee must be between", response.get_data(as_text=True))


def test_only_staff_set_the_share_fee(client, make_user):
    login_as(client, make_user(role="farmer"))
    assert client.post("/admin/settings/share-fee", data={"share_percent": "0"}).status_code == 403
    assert settings_store.get("share_fee_bp") is None
