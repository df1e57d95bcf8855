"""Constant queries per page: the same number of SQL statements with 10 and with 500 products."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from flask import Blueprint
from sqlalchemy import insert, select

from core.extensions import db
from core.text import fold
from core.time import utcnow
from shop.models import Product, ProductPhoto
from tests.helpers import count_queries

MAX_QUERIES = 6
PAGES = [
    "/",
    "/products",
    "/products?q=dua+queen&village=K%C3%A9p&category=fresh&min_price=1000&in_stock=1&sort=price_asc",
    "/products?farm=vuon-dua-chinh&sort=popular",
    "/products/dua-queen-0",
    "/farms/vuon-dua-chinh",
]


@pytest.fixture(autouse=True)
def media_endpoint(app):
    """Photos are served by core/media.py (other work); stand in for its endpoint until it is registered."""
    if "media.photo" not in app.view_functions:
        stub = Blueprint("media", __name__)
        stub.add_url_rule("/media/<path:key>", "photo", lambda key: ("", 404))
        app.register_blueprint(stub)


def _key() -> str:
    name = secrets.token_hex(16)
    return f"{name[:2]}/{name}.webp"


def _add_products(farms, start: int, count: int) -> None:
    """Bulk insert ``count`` products with two photos each: every other one to the first farm, the rest
    spread over all ``farms`` (so a page shows many farms: a farm loaded per product would show)."""
    now = utcnow()
    rows = []
    for n in range(start, start + count):
        farm = farms[0] if n % 2 == 0 else farms[n % len(farms)]
        name = f"Dứa Queen {n}"
        rows.append(dict(farm_id=farm.id, name=name, slug=f"dua-queen-{n}", description="Dứa ngọt.",
                         category="fresh" if n % 3 else "processed", unit="kg", price_vnd=10000 + n * 10,
                         stock=50, min_order_qty=1, season_start=None, season_end=None, status="active",
                         search_text=fold(f"{name} Dứa ngọt. {farm.name} {farm.village}"),
                         orders_count=n % 7, created_at=now - timedelta(minutes=n), updated_at=now))
    db.session.execute(insert(Product), rows)
    ids = db.session.scalars(select(Product.id).where(Product.slug.in_([r["slug"] for r in rows]))).all()
    db.session.execute(insert(ProductPhoto), [
        dict(product_id=pid, position=pos, large_key=_key(), small_key=_key(), width=1200, height=900)
        for pid in ids for pos in (0, 1)])
    db.session.commit()


def _measure(client) -> dict[str, int]:
    counts = {}
    for path in PAGES:
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[path] = len(statements)
    return counts


def test_each_page_runs_the_same_few_queries_with_10_and_500_products(app, client, make_farm, make_tour, make_user):
    from tests.helpers import login_as

    farms = [make_farm(name="Vườn dứa chính", village="Kép")] + [
        make_farm(name=f"Vườn dứa {n}", village=v) for n, v in enumerate(["Kép", "Ca", "Lèo", "Kép 2"])]
    for n in range(3):
        make_tour(farms[0], title=f"Tham quan {n}", slug=f"tham-quan-{n}", price_adult_vnd=80000)
    buyer = app.test_client()
    login_as(buyer, make_user())
    _add_products(farms, 0, 10)
    client.get("/"), buyer.get("/")  # warm up (first request compiles templates)
    few, few_signed_in = _measure(client), _measure(buyer)

    farms += [make_farm(name=f"Trại {n}", village="Kép 5") for n in range(45)]
    _add_products(farms, 10, 490)
    many, many_signed_in = _measure(client), _measure(buyer)

    assert few == many, f"queries grow with the number of products: {few} vs {many}"
    assert few_signed_in == many_signed_in, f"signed in: {few_signed_in} vs {many_signed_in}"
    assert max(many.values()) <= MAX_QUERIES and max(many_signed_in.values()) <= MAX_QUERIES, (many, many_signed_in)
    html = client.get(PAGES[2]).get_data(as_text=True)
    assert html.count('class="card product-card"') == 24, "the filtered search fills a page at 500 products"
