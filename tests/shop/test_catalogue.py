"""The catalogue's read side: what is public, search folding and escaping, filters, pages."""
from __future__ import annotations

import pytest

from core.extensions import db
from shop import catalogue
from shop.catalogue import Filters, parse_filters, parse_page, search
from shop.models import ProductSlugRedirect


def _slugs(page) -> list[str]:
    return [p.slug for p in page.products]


def _search(**args) -> list[str]:
    options = catalogue.filter_options()
    return _slugs(search(parse_filters(args, options)))


# --- visibility ---------------------------------------------------------------------------------

def test_only_active_products_of_approved_farms_are_public(make_farm, make_product):
    approved = make_farm()
    shown = make_product(approved, name="Dứa hiện")
    make_product(approved, name="Dứa tạm dừng", status="paused")
    make_product(approved, name="Dứa lưu trữ", status="archived")
    for status in ("pending", "rejected", "suspended"):
        make_product(make_farm(status=status), name=f"Dứa trại {status}")

    assert _search() == [shown.slug]
    assert catalogue.public_product(shown.slug) is not None
    for slug in ("dua-tam-dung", "dua-luu-tru", "dua-trai-pending", "dua-trai-suspended"):
        assert catalogue.public_product(slug) is None
    assert catalogue.filter_options().farm_names == {approved.slug: approved.name}


def test_redirect_from_an_old_slug_only_for_public_products(make_farm, make_product):
    product = make_product(name="Dứa Queen mới")
    paused = make_product(name="Dứa nghỉ", status="paused")
    db.session.add_all([ProductSlugRedirect(slug="dua-cu", product_id=product.id),
                        ProductSlugRedirect(slug="dua-nghi-cu", product_id=paused.id)])
    db.session.commit()
    assert catalogue.redirected_slug("dua-cu") == "dua-queen-moi"
    assert catalogue.redirected_slug("dua-nghi-cu") is None
    assert catalogue.redirected_slug("khong-co") is None


@pytest.mark.parametrize("slug", ["", "Dua", "dua queen", "dua\x00", "../etc", "a" * 141, "dứa"])
def test_malformed_slugs_find_nothing(make_product, slug):
    make_product(name="Dua")
    assert catalogue.public_product(slug) is None
    assert catalogue.redirected_slug(slug) is None
    assert catalogue.approved_farm(slug) is None


# --- search -------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["dua", "DỨA", "dứa", "Dứa", "  đua  ", "DUA"])
def test_search_ignores_diacritics_and_case(make_farm, make_product, q):
    farm = make_farm(name="Vườn Kép")
    pineapple = make_product(farm, name="Dứa Queen tươi", description="Ngọt thanh.")
    make_product(farm, name="Mít Thái", description="Quả to.")
    assert _search(q=q) == [pineapple.slug]


def test_every_word_must_appear_in_any_order(make_product):
    fresh = make_product(name="Dứa Queen tươi", description="Hái buổi sáng.")
    make_product(name="Dứa sấy dẻo", description="Túi 200 g.")
    assert _search(q="tuoi dua") == [fresh.slug]
    assert _search(q="queen sấy") == []


def test_search_finds_the_farm_name(make_farm, make_product):
    farm = make_farm(name="Vườn dứa Anh Ân")
    product = make_product(farm, name="Chồi giống")
    make_product(make_farm(name="Vườn Bình"), name="Mứt")
    assert _search(q="anh an") == [product.slug]


@pytest.mark.parametrize("q", ["%", "_", "%%%___", "\\", "\\%", "a_q", "100%"])
def test_like_wildcards_are_matched_literally(make_product, q):
    make_product(name="Dứa Queen", description="Ngọt.")
    assert _search(q=q) == []


def test_a_literal_percent_or_underscore_is_still_found(make_farm, make_product):
    farm = make_farm(name="Vườn Kép")
    juice = make_product(farm, name="Nước ép 100% dứa", description="Không đường.")
    code = make_product(farm, name="Mã dua_01", description="Lô hàng.")
    make_product(farm, name="Dứa 1000 quả dua-01", description="Ngọt.")
    assert _search(q="100%") == [juice.slug]
    assert _search(q="dua_0") == [code.slug]


def test_long_searches_are_cut_and_control_characters_dropped():
    words = catalogue.search_words("dứa " * 2000 + "\x00mứt")
    assert words == ("dua",)
    assert len(" ".join(catalogue.search_words("x" * 5000))) == catalogue.MAX_QUERY_CHARS
    assert catalogue.search_words("d\x00ứa\tmứt") == ("d", "ua", "mut")


def test_a_huge_search_works_and_finds_nothing(make_product):
    make_product(name="Dứa")
    assert _search(q="%_" * 2500) == []
    assert _search(q="dứa" * 1700) == []


# --- filters ------------------------------------------------------------------------------------

@pytest.fixture
def market(make_farm, make_product):
    kep = make_farm(name="Vườn Kép", village="Kép")
    ca = make_farm(name="Đồi Ca", village="Ca")
    return {
        "fresh": make_product(kep, name="Dứa tươi", price_vnd=25000, orders_count=5),
        "jam": make_product(kep, name="Mứt dứa", category="processed", price_vnd=55000, orders_count=30),
        "seed": make_product(ca, name="Chồi dứa", category="seedlings", price_vnd=3000, stock=0),
        "juice": make_product(ca, name="Nước ép", category="processed", price_vnd=35000, orders_count=1),
    }


def test_filters_narrow_the_list(market):
    assert set(_search(category="processed")) == {"mut-dua", "nuoc-ep"}
    assert set(_search(village="Ca")) == {"choi-dua", "nuoc-ep"}
    assert set(_search(farm="vuon-kep")) == {"dua-tuoi", "mut-dua"}
    assert set(_search(min_price="30000")) == {"mut-dua", "nuoc-ep"}
    assert set(_search(max_price="30.000")) == {"dua-tuoi", "choi-dua"}
    assert set(_search(min_price="20000", max_price="40000")) == {"dua-tuoi", "nuoc-ep"}
    assert set(_search(min_price="40000", max_price="20000")) == {"dua-tuoi", "nuoc-ep"}, "swapped"
    assert "choi-dua" not in _search(in_stock="1")
    assert _search(q="dua", category="processed", village="Kép") == ["mut-dua"]


@pytest.mark.parametrize("args", [
    {"category": "weapons"}, {"category": ""}, {"village": "Hà Nội"}, {"village": "x" * 500},
    {"farm": "no-such-farm"}, {"farm": "<script>"}, {"min_price": "abc"}, {"max_price": "-5"},
    {"min_price": "1e9"}, {"max_price": "0"}, {"min_price": "99999999999999999999"}, {"max_price": "٣٠٠٠٠"},
    {"in_stock": "maybe"}, {"sort": "drop table"}, {"category": ["fresh", "x"]},
])
def test_garbage_filters_are_ignored(market, args):
    filters = parse_filters(args, catalogue.filter_options())
    assert not filters.active and filters.sort == "newest"
    assert filters.args() == {}
    assert len(search(filters).products) == 4


def test_sort_orders(market):
    assert _search(sort="price_asc") == ["choi-dua", "dua-tuoi", "nuoc-ep", "mut-dua"]
    assert _search(sort="price_desc") == ["mut-dua", "nuoc-ep", "dua-tuoi", "choi-dua"]
    assert _search(sort="popular")[:2] == ["mut-dua", "dua-tuoi"]
    assert _search() == ["nuoc-ep", "choi-dua", "mut-dua", "dua-tuoi"], "newest first (ties by id)"


def test_filter_arguments_are_canonical_and_removable(market):
    options = catalogue.filter_options()
    filters = parse_filters({"sort": "price_asc", "in_stock": "on", "q": " dứa  tươi ", "farm": "vuon-kep",
                             "max_price": "90.000", "village": "Kép", "category": "fresh", "junk": "1"}, options)
    assert list(filters.args(page=3).items()) == [
        ("q", "dứa tươi"), ("category", "fresh"), ("village", "Kép"), ("farm", "vuon-kep"), ("max_price", 90000),
        ("in_stock", 1), ("sort", "price_asc"), ("page", 3)]
    assert "page" not in filters.args(page=1)
    assert "category" not in filters.args(category=None)
    assert "q" not in filters.args(words=())
    assert filters.farm_name == "Vườn Kép"


# --- pages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, page", [
    (None, 1), ("", 1), ("1", 1), ("2", 2), ("-1", 1), ("0", 1), ("abc", 1), ("2.5", 1), ("٣", 1),
    ("99999", 99999), ("9" * 5000, catalogue.MAX_PAGE),
])
def test_parse_page(value, page):
    assert parse_page(value) == page


def test_pagination_counts_and_past_the_end(make_farm, make_product):
    farm = make_farm()
    for n in range(5):
        make_product(farm, name=f"Dứa số {n}")
    filters = Filters()
    first = search(filters, page=1, per_page=2)
    assert (first.total, first.pages, len(first.products)) == (5, 3, 2)
    assert first.has_next and not first.has_previous
    last = search(filters, page=3, per_page=2)
    assert len(last.products) == 1 and last.has_previous and not last.has_next
    assert set(_slugs(first)) | set(_slugs(search(filters, 2, 2))) | set(_slugs(last)) == {
        f"dua-so-{n}" for n in range(5)}
    beyond = search(filters, page=99999, per_page=2)
    assert beyond.past_the_end and beyond.products == [] and beyond.total == 5


# --- home ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, month, expected", [
    (None, None, 1, True), (4, 8, 4, True), (4, 8, 8, True), (4, 8, 9, False), (4, 8, 3, False),
    (11, 2, 12, True), (11, 2, 1, True), (11, 2, 2, True), (11, 2, 3, False), (11, 2, 10, False), (6, 6, 6, True),
])
def test_in_season_highlights_follow_the_season(make_product, start, end, month, expected):
    product = make_product(season_start=start, season_end=end)
    assert product.in_season(month) is expected, "the model and the SQL agree"
    assert (catalogue.in_season_highlights(month) == [product]) is expected


def test_highlights_leave_out_what_cannot_be_ordered(make_farm, make_product):
    ok = make_product(name="Dứa còn", stock=5, min_order_qty=5)
    make_product(name="Dứa hết", stock=0)
    make_product(name="Dứa thiếu", stock=4, min_order_qty=5)
    make_product(make_farm(status="suspended"), name="Dứa trại bị khóa")
    assert catalogue.in_season_highlights(6) == [ok]


@pytest.mark.parametrize("stock, min_qty, state", [
    (0, 1, "out"), (4, 5, "out"), (5, 5, "low"), (9, 1, "low"), (10, 1, "in"), (14, 5, "low"), (15, 5, "in")])
def test_stock_state(make_product, stock, min_qty, state):
    assert catalogue.stock_state(make_product(stock=stock, min_order_qty=min_qty)) == state


def test_farm_products_are_capped_with_a_flag(make_farm, make_product):
    farm = make_farm()
    for n in range(3):
        make_product(farm, name=f"Sản phẩm {n}")
    make_product(farm, name="Tạm dừng", status="paused")
    products, more = catalogue.farm_products(farm, limit=2)
    assert len(products) == 2 and more
    products, more = catalogue.farm_products(farm, limit=3)
    assert len(products) == 3 and not more
