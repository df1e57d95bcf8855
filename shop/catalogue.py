"""The buyer's catalogue, read side: what the public may see, search, filters and pages.

Only active products of approved farms are public. Every function runs a fixed number of
queries whatever the number of products: the farm is joined (``contains_eager``), photos come
in one ``selectinload`` query, pagination counts in one query.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from math import ceil

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.sql import Select

from accounts.farms import VILLAGES, Farm
from core.extensions import db
from core.text import fold
from shop import search_terms
from shop.models import CATEGORIES, MAX_PRICE_VND, Product, ProductSlugRedirect

PER_PAGE = 24
MAX_QUERY_CHARS = 100  # of the folded search text
HIGHLIGHTS = 8
HOME_FARMS = 12
FARM_PAGE_PRODUCTS = 48
LOW_STOCK = 10
SORTS = ("newest", "price_asc", "price_desc", "popular")
MAX_PAGE = 1_000_000  # any page past the last one is simply "past the end"

_SLUG = re.compile(r"[a-z0-9-]{1,140}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_ORDER = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price_vnd.asc(), Product.id.desc()),
    "price_desc": (Product.price_vnd.desc(), Product.id.desc()),
    "popular": (Product.orders_count.desc(), Product.id.desc()),
}


def is_slug(value: str) -> bool:
    """Slugs are made by core.text.slugify; anything else cannot name a product or farm."""
    return bool(_SLUG.fullmatch(value or ""))


def _public_conditions() -> tuple:
    return Product.status == "active", Farm.status == "approved"


def _public_products(*conditions) -> Select:
    """Public products matching ``conditions``, with their farm (same query) and photos (one more query)."""
    return (select(Product).join(Product.farm).where(*_public_conditions(), *conditions)
            .options(contains_eager(Product.farm), selectinload(Product.photos)))


def _orderable():
    """Enough stock for the smallest order (which implies stock > 0)."""
    return Product.stock >= Product.min_order_qty


def in_season_condition(month: int):
    """SQL for Product.in_season(month): all year, or a season that may wrap over the new year."""
    return or_(
        Product.season_start.is_(None),
        and_(Product.season_start <= Product.season_end,
             Product.season_start <= month, Product.season_end >= month),
        and_(Product.season_start > Product.season_end,
             or_(Product.season_start <= month, Product.season_end >= month)),
    )


def stock_state(product: Product) -> str:
    """"out" when the smallest order can no longer be filled, "low" when few are left, else "in"."""
    if product.stock < product.min_order_qty:
        return "out"
    if product.stock < max(LOW_STOCK, 3 * product.min_order_qty):
        return "low"
    return "in"


# --- Home ------------------------------------------------------------------------------------

def in_season_highlights(month: int, limit: int = HIGHLIGHTS) -> list[Product]:
    stmt = (_public_products(in_season_condition(month), _orderable())
            .order_by(Product.orders_count.desc(), Product.created_at.desc(), Product.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def home_farms(limit: int = HOME_FARMS) -> list[Farm]:
    return list(db.session.scalars(select(Farm).where(Farm.status == "approved").order_by(Farm.slug).limit(limit)
                                   .options(joinedload(Farm.owner))))


# --- Catalogue: filters, search, pages -----------------------------------------------------------

@dataclass(frozen=True)
class FilterOptions:
    """What the filters accept: villages (offered in the form) and farm slugs with their names (a farm
    filter comes from a link, such as the farm page's; hundreds of farms would not fit a phone's list)."""
    villages: list[str]
    farm_names: dict[str, str]


def filter_options() -> FilterOptions:
    """Approved farms that have at least one active product, and their villages (one light query)."""
    has_products = exists().where(Product.farm_id == Farm.id, Product.status == "active")
    rows = db.session.execute(select(Farm.slug, Farm.name, Farm.village)
                              .where(Farm.status == "approved", has_products)).all()
    known = {name: i for i, name in enumerate(VILLAGES)}
    villages = sorted({village for _, _, village in rows}, key=lambda v: (known.get(v, len(known)), fold(v)))
    return FilterOptions(villages=villages, farm_names={slug: name for slug, name, _ in rows})


@dataclass(frozen=True)
class Filters:
    q: str = ""
    words: tuple[str, ...] = ()
    category: str | None = None
    village: str | None = None
    farm: str | None = None  # slug
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "newest"
    farm_name: str | None = field(default=None, compare=False)

    @property
    def active(self) -> bool:
        """Whether anything narrows the list (the sort order does not)."""
        return bool(self.words or self.category or self.village or self.farm or self.min_price is not None
                    or self.max_price is not None or self.in_stock)

    @property
    def uses_form(self) -> bool:
        """Whether a filter or sort order of the form's folded part is in use (it opens then)."""
        return bool(self.category or self.village or self.min_price is not None or self.max_price is not None
                    or self.in_stock or self.sort != "newest")

    def args(self, page: int = 1, **changes) -> dict[str, str | int]:
        """Query arguments of this search, in a fixed order, valid values only; ``changes`` set or
        (with None/False) drop one: ``filters.args(category=None)`` is the same search without it."""
        f = replace(self, **changes) if changes else self
        args: dict[str, str | int] = {}
        for name, value in (("q", f.q if f.words else ""), ("category", f.category), ("village", f.village),
                            ("farm", f.farm), ("min_price", f.min_price), ("max_price", f.max_price),
                            ("in_stock", 1 if f.in_stock else None),
                            ("sort", f.sort if f.sort != "newest" else None), ("page", page if page > 1 else None)):
            if value is not None and value != "":
                args[name] = value
        return args


def _clean(text: str, limit: int) -> str:
    """Printable characters only (a NUL byte is refused by PostgreSQL), spaces collapsed, cut at ``limit``."""
    printable = "".join(ch if ch.isprintable() else " " for ch in (text or "")[:10 * limit])
    return " ".join(printable.split())[:limit]


def search_words(q: str) -> tuple[str, ...]:
    """The distinct folded words of a search, at most MAX_QUERY_CHARS characters in all."""
    folded = fold(_clean(q, MAX_QUERY_CHARS))[:MAX_QUERY_CHARS]
    return tuple(dict.fromkeys(folded.split()))


def _parse_vnd(value: str | None) -> int | None:
    """A price typed as 25000, 25.000 or 25,000; anything else (or 0, or above any price) is ignored."""
    cleaned = (value or "").strip().replace(".", "").replace(",", "").replace(" ", "")
    if not _DIGITS.fullmatch(cleaned):
        return None
    amount = int(cleaned)
    return amount if 0 < amount <= MAX_PRICE_VND else None


def parse_filters(args: Mapping[str, str], options: FilterOptions) -> Filters:
    """Read the catalogue's query arguments; unknown or malformed values are ignored."""
    q = _clean(args.get("q") or "", MAX_QUERY_CHARS)
    category = args.get("category")
    village = args.get("village")
    farm = args.get("farm")
    sort = args.get("sort")
    min_price, max_price = _parse_vnd(args.get("min_price")), _parse_vnd(args.get("max_price"))
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
    return Filters(
        q=q, words=search_words(q),
        category=category if category in CATEGORIES else None,
        village=village if village in options.villages else None,
        farm=farm if farm in options.farm_names else None, farm_name=options.farm_names.get(farm or ""),
        min_price=min_price, max_price=max_price,
        in_stock=args.get("in_stock") in ("1", "on", "true"),
        sort=sort if sort in SORTS else "newest",
    )


def parse_page(value: str | None) -> int:
    """``?page=``: a positive whole number, else 1."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit():
        return 1
    return max(1, min(int(value[:8]), MAX_PAGE))


def _conditions(filters: Filters) -> list:
    """The filters as SQL conditions (on top of the public ones)."""
    conditions = [search_terms.matches(Product.search_text, group) for group in search_terms.groups(filters.words)]
    if filters.category:
        conditions.append(Product.category == filters.category)
    if filters.village:
        conditions.append(Farm.village == filters.village)
    if filters.farm:
        conditions.append(Farm.slug == filters.farm)
    if filters.min_price is not None:
        conditions.append(Product.price_vnd >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Product.price_vnd <= filters.max_price)
    if filters.in_stock:
        conditions.append(_orderable())
    return conditions


@dataclass(frozen=True)
class CataloguePage:
    products: list[Product]
    total: int
    page: int
    pages: int  # at least 1

    @property
    def past_the_end(self) -> bool:
        return self.total > 0 and self.page > self.pages

    @property
    def has_previous(self) -> bool:
        return 1 < self.page <= self.pages

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search(filters: Filters, page: int = 1, per_page: int = PER_PAGE) -> CataloguePage:
    """One page of public products matching ``filters``: a COUNT, the page, its photos. A search in the default
    order lists first what is about its words (shop/search_terms.relevance), newest first among equals."""
    conditions = _conditions(filters)
    total = db.session.scalar(select(func.count(Product.id)).join(Product.farm)
                              .where(*_public_conditions(), *conditions)) or 0
    pages = max(1, ceil(total / per_page))
    products: list[Product] = []
    if total and page <= pages:
        order = _ORDER[filters.sort]
        if filters.words and filters.sort == "newest":
            order = (search_terms.relevance(search_terms.groups(filters.words)).desc(), *order)
        stmt = (_public_products(*conditions).order_by(*order)
                .limit(per_page).offset((page - 1) * per_page))
        products = list(db.session.scalars(stmt))
    return CataloguePage(products=products, total=total, page=page, pages=pages)


# --- Product and farm pages ----------------------------------------------------------------------

def public_product(slug: str, *columns):
    """The public product of ``slug`` (or None); with ``columns``, the row (product, *columns) in the same query."""
    if not is_slug(slug):
        return None
    stmt = _public_products(Product.slug == slug)
    if columns:
        return db.session.execute(stmt.add_columns(*columns)).first()
    return db.session.scalars(stmt).first()


def redirected_slug(old_slug: str) -> str | None:
    """The current slug of a public product once known as ``old_slug``."""
    if not is_slug(old_slug):
        return None
    return db.session.scalar(
        select(Product.slug).join(Product.farm).join(ProductSlugRedirect, ProductSlugRedirect.product_id == Product.id)
        .where(ProductSlugRedirect.slug == old_slug, *_public_conditions()))


def approved_farm(slug: str, *columns):
    """The approved farm of ``slug`` (None if there is none); with ``columns``, the row (farm, *columns), so a page
    folds its figures (the farm's rating) into this one query."""
    if not is_slug(slug):
        return None
    stmt = select(Farm, *columns).where(Farm.slug == slug, Farm.status == "approved")
    return db.session.execute(stmt).first() if columns else db.session.scalar(stmt)


def farm_products(farm: Farm, limit: int = FARM_PAGE_PRODUCTS) -> tuple[list[Product], bool]:
    """The active products of an approved ``farm``, newest first, and whether there are more than ``limit``.
    (Each product's ``farm`` is the one already loaded: no join, no query.)"""
    stmt = (select(Product).where(Product.farm_id == farm.id, Product.status == "active")
            .options(selectinload(Product.photos)).order_by(*_ORDER["newest"]).limit(limit + 1))
    products = list(db.session.scalars(stmt))
    return products[:limit], len(products) > limit


def product_json_ld(product: Product, url: str, image_urls: list[str]) -> dict:
    """schema.org Product data; the template serialises it with |tojson (which escapes ``<``)."""
    availability = "OutOfStock" if stock_state(product) == "out" else "InStock"
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "description": product.description,
        "sku": str(product.id),
        "url": url,
        "brand": {"@type": "Brand", "name": product.farm.name},
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": product.price_vnd,
            "priceCurrency": "VND",
            "availability": f"https://schema.org/{availability}",
            "seller": {"@type": "Organization", "name": product.farm.name},
        },
    }
    if image_urls:
        data["image"] = image_urls
    return data
