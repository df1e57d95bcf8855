"""Search as people say it: "thơm", "khóm" and "dứa" find the same products; a search naming a kind of product
lists that kind before farms whose name merely contains the word; the price per kg and the sold count on cards.
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (the search is SQL LIKE on both)."""
from __future__ import annotations

import doctest
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from core.extensions import db
from core.text import fold
from core.time import utcnow
from shop import catalogue, search_terms, unit_prices
from shop.catalogue import parse_filters, search
from shop.models import Product
from tests.helpers import count_queries
from tests.shop.test_pages_queries import MAX_QUERIES


def _search(page: int = 1, **args) -> list[str]:
    return [p.slug for p in search(parse_filters(args, catalogue.filter_options()), page=page).products]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").split())


# --- one word, three names ---------------------------------------------------------------------------------------

@pytest.fixture
def pineapples(make_farm, make_product):
    farm = make_farm(name="Vườn Bình Minh", village="Ca")
    return {
        "north": make_product(farm, name="Dứa Queen tươi", description="Hái buổi sáng."),
        "south": make_product(farm, name="Thơm mật Tiền Giang", description="Trái to, ngọt."),
        "delta": make_product(farm, name="Khóm Cầu Đúc", description="Giòn, ít xơ."),
        "english": make_product(farm, name="Queen fresh", description="Sweet pineapple from the hill."),
        "other": make_product(farm, name="Mít Thái", description="Múi vàng."),
    }


@pytest.mark.parametrize("q", ["dứa", "dua", "DỨA", "thơm", "thom", "Thơm", "khóm", "KHOM", "pineapple"])
def test_the_three_names_of_a_pineapple_find_the_same_products(pineapples, q):
    expected = {pineapples[key].slug for key in ("north", "south", "delta", "english")}
    assert set(_search(q=q)) == expected


def test_a_synonym_still_needs_the_other_words(make_farm, make_product):
    farm = make_farm(name="Vườn Bình Minh", village="Ca")
    dried = make_product(farm, name="Dứa sấy dẻo", description="Không đường.", category="processed")
    southern = make_product(farm, name="Khóm sấy giòn", description="Đóng túi.", category="processed")
    make_product(farm, name="Thơm tươi", description="Trái to.")
    make_product(farm, name="Chuối sấy", description="Ngọt.", category="processed")
    assert set(_search(q="thơm sấy")) == {dried.slug, southern.slug}
    assert set(_search(q="sấy khóm")) == {dried.slug, southern.slug}
    assert set(_search(q="dứa thơm")) == set(_search(q="dứa")), "two names of one fruit are one word"


def test_the_synonyms_are_one_table_of_folded_words():
    assert search_terms.groups(("thom",)) == search_terms.groups(("khom",)) == search_terms.groups(("dua",))
    assert search_terms.groups(("mut", "dua", "thom")) == (("mut",), search_terms.groups(("dua",))[0])
    assert all(word == fold(word) for group in search_terms.groups(("dua",)) for word in group)


def test_wildcards_in_a_synonym_search_stay_literal(pineapples):
    assert _search(q="thơm%") == [] and _search(q="kh_m") == []


# --- a kind of product before a farm's name ---------------------------------------------------------------------

@pytest.fixture
def jam_market(make_farm, make_product):
    """Farm "Mứt dứa Thu Lý" sells fresh pineapples (its newest product); another farm sells the jam."""
    now = utcnow()
    thu = make_farm(name="Mứt dứa Thu Lý", village="Kép 3")
    binh = make_farm(name="Vườn Bình", village="Ca")
    return {
        "jam": make_product(binh, name="Mứt dứa hũ 300 g", description="Nấu thủ công.", category="processed",
                            created_at=now - timedelta(days=3)),
        "mentions": make_product(binh, name="Bánh dứa", description="Nhân mứt dứa.", category="processed",
                                 created_at=now - timedelta(days=2)),
        "fresh": make_product(thu, name="Dứa Queen tươi", description="Hái buổi sáng.",
                              created_at=now - timedelta(days=1)),
        "seedling": make_product(thu, name="Chồi dứa giống", description="Khỏe.", category="seedlings",
                                 created_at=now),
    }


def test_a_search_naming_a_kind_of_product_lists_that_kind_first(jam_market):
    m = jam_market
    # Every product of the farm "Mứt dứa" matches, but the jam itself comes first, then the cake made with jam,
    # and only then the farm's newer fresh pineapples and seedlings (newest first among them).
    assert _search(q="mứt") == [m["jam"].slug, m["mentions"].slug, m["seedling"].slug, m["fresh"].slug]
    assert _search(q="mut dua")[:2] == [m["jam"].slug, m["mentions"].slug]
    assert _search(q="giống")[0] == m["seedling"].slug


def test_a_chosen_order_wins_over_relevance(jam_market):
    m = jam_market
    assert _search(q="mứt", sort="popular") == [  # nothing sold yet: ties by the newest id first
        m["seedling"].slug, m["fresh"].slug, m["mentions"].slug, m["jam"].slug]
    prices = [p.price_vnd for p in search(parse_filters({"q": "mứt", "sort": "price_asc"},
                                                        catalogue.filter_options())).products]
    assert prices == sorted(prices)


def test_the_search_without_words_keeps_newest_first(jam_market):
    m = jam_market
    assert _search() == [m["seedling"].slug, m["fresh"].slug, m["mentions"].slug, m["jam"].slug]


def test_ranked_pages_hold_every_match_once(make_farm, make_product):
    now = utcnow()
    farm = make_farm(name="Mứt Hương Sơn", village="Kép")
    jams = {make_product(farm, name=f"Mứt dứa số {n}", category="processed",
                         created_at=now - timedelta(days=40 + n)).slug for n in range(10)}
    others = {make_product(farm, name=f"Dứa tươi số {n}", created_at=now - timedelta(days=n)).slug
              for n in range(20)}
    first, second = _search(q="mứt"), _search(q="mứt", page=2)
    assert len(first) == catalogue.PER_PAGE and len(second) == 30 - catalogue.PER_PAGE
    assert set(first[:10]) == jams and set(first + second) == jams | others
    result = search(parse_filters({"q": "mứt"}, catalogue.filter_options()), page=3)
    assert result.total == 30 and result.pages == 2 and result.past_the_end and result.products == []


def _add(farm, start: int, count: int) -> None:
    now = utcnow()
    db.session.execute(insert(Product), [
        dict(farm_id=farm.id, name=f"Thơm {n}", slug=f"thom-{n}", description="Ngọt.", category="fresh",
             unit="kg", price_vnd=20000 + n, stock=50, min_order_qty=1, status="active",
             search_text=fold(f"Thơm {n} Ngọt. {farm.name} {farm.village}"), orders_count=n % 5,
             created_at=now - timedelta(minutes=n), updated_at=now) for n in range(start, start + count)])
    db.session.commit()


def test_a_ranked_search_page_runs_the_same_few_queries_with_10_and_300_products(client, make_farm):
    farm = make_farm(name="Vườn dứa Khóm", village="Kép")
    _add(farm, 0, 10)
    path = "/products?q=kh%C3%B3m"
    client.get(path)  # warm up

    def measure() -> int:
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    few = measure()
    _add(farm, 10, 290)
    many = measure()
    assert few == many <= MAX_QUERIES
    html = client.get(path).get_data(as_text=True)
    assert html.count('class="card product-card"') == catalogue.PER_PAGE


# --- price per kg and sold counts on the cards ------------------------------------------------------------------

def test_the_weight_of_a_unit_is_read_only_where_the_farmer_wrote_it():
    assert doctest.testmod(unit_prices).failed == 0
    assert unit_prices.weight_g("kg", "Dứa", "") == 1000
    assert unit_prices.weight_g("box", "Dứa Queen", "Thùng 10 kg, 8 đến 10 quả.") == 10000
    assert unit_prices.weight_g("box", "Dứa Queen hộp quà", "Đẹp.") is None        # a box of unknown weight
    assert unit_prices.weight_g("bottle", "Nước ép", "Chai 330 ml.") is None       # millilitres are not kg
    assert unit_prices.weight_g("plant", "Chồi dứa", "Túi 5 kg phân.") is None
    assert unit_prices.weight_g("bag", "Dứa sấy", "Túi 0 g") is None               # no price per kg at 0 g
    assert unit_prices.weight_g("jar", "Mứt", "Hũ 9999 kg") is None                # nor at ten tonnes
    assert unit_prices.per_kg(55000, 300) == 183333 and unit_prices.per_kg(1, 2000) == 1   # half up, whole dong


@pytest.fixture
def cards(make_farm, make_product):
    farm = make_farm(name="Vườn Bình Minh", village="Ca")
    return {
        "kg": make_product(farm, name="Dứa Queen tươi", unit="kg", price_vnd=25000, orders_count=12),
        "bag": make_product(farm, name="Dứa sấy dẻo", unit="bag", price_vnd=65000, description="Túi 200 g.",
                            category="processed", orders_count=1),
        "box": make_product(farm, name="Dứa Queen thùng 10 kg", unit="box", price_vnd=200000),
        "fruit": make_product(farm, name="Dứa loại 1", unit="fruit", price_vnd=18000,
                              description="Quả từ 1,2 kg trở lên."),
    }


def _card(html: str, name: str) -> str:
    for card in html.split('<li class="card product-card">')[1:]:
        if name in card:
            return _text(card.split("</li>")[0])
    raise AssertionError(f"no card for {name}")


def test_cards_show_the_price_per_kg_where_the_weight_is_known(client, cards):
    html = client.get("/products?lang=vi").get_data(as_text=True)
    assert "325.000 ₫/kg" in _card(html, "Dứa sấy dẻo")           # 65.000 ₫ for 200 g
    assert "20.000 ₫/kg" in _card(html, "thùng 10 kg")              # 200.000 ₫ for 10 kg
    assert "/kg" not in _card(html, "Dứa loại 1")                   # a fruit's weight is not known
    assert _card(html, "Dứa Queen tươi").count("kg") == 1           # already by the kg: no second price
    english = client.get("/products?lang=en").get_data(as_text=True)
    assert "₫325,000 per kg" in _card(english, "Dứa sấy dẻo")


def test_cards_show_how_often_a_product_sold(client, cards):
    html = client.get("/products?lang=vi").get_data(as_text=True)
    assert "Đã bán 12 đơn" in _card(html, "Dứa Queen tươi")
    assert "Đã bán 1 đơn" in _card(html, "Dứa sấy dẻo")
    assert "Đã bán" not in _card(html, "Dứa loại 1")                # nothing sold yet: nothing said
    english = client.get("/products?lang=en").get_data(as_text=True)
    assert "Sold in 12 orders" in _card(english, "Dứa Queen tươi") and "Sold in 1 order" in english


def test_a_search_text_shorter_than_its_farms_name_is_still_searched(make_farm, make_product):
    """Rows written by hand or by an older version may not end with the farm's name: nothing fails (PostgreSQL
    refuses a negative substring length), they are simply not ranked by their own text."""
    farm = make_farm(name="Hợp tác xã dứa Kép rất dài tên", village="Kép")
    product = make_product(farm, name="Trái cây")
    product.search_text = "trai cay thom"
    db.session.commit()
    assert _search(q="dứa") == [product.slug]
