"""The buyer's side: home, catalogue (search and filters), product pages and farm pages."""
from __future__ import annotations

from babel.dates import get_month_names
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale

from accounts.farms import Farm
from core.media import photo_url
from core.pagecache import cached_page
from core.time import to_local, utcnow
from core.urls import public_url
from shop import catalogue, certificates, referrals, reviews, showcase, unit_prices
from shop.models import CATEGORIES, Product

bp = Blueprint("shop", __name__)
bp.before_app_request(referrals.note_arrival)  # ?ref= on any page: an arrival through a farmer's shared link


@bp.app_template_global()
def month_name(month: int) -> str:
    return get_month_names("wide", context="stand-alone", locale=get_locale())[month]


bp.add_app_template_global(catalogue.stock_state, "stock_state")
bp.add_app_template_global(unit_prices.price_per_kg, "price_per_kg")


def _photo_url(key: str) -> str:
    return photo_url(key, external=True)


@bp.route("/")
@cached_page
def home():
    now = utcnow()
    return render_template(
        "shop/home.html", highlights=catalogue.in_season_highlights(to_local(now).month), categories=CATEGORIES,
        farms=catalogue.home_farms(), **showcase.extras("home", now=now))


@bp.route("/products", endpoint="catalogue")
@cached_page
def catalogue_page():
    options = catalogue.filter_options()
    filters = catalogue.parse_filters(request.args, options)
    result = catalogue.search(filters, catalogue.parse_page(request.args.get("page")))
    return render_template("shop/catalogue.html", filters=filters, options=options, result=result,
                           categories=CATEGORIES)


@bp.route("/products/<slug>")
@cached_page
def product(slug: str):
    row = catalogue.public_product(slug, *certificates.product_badge_columns(Product.id, Product.farm_id,
                                                                            certificates.today()),
                                   *reviews.product_rating_columns(Product.id))
    item = row[0] if row else None
    if item is None:
        current = catalogue.redirected_slug(slug)
        if current:
            return redirect(url_for("shop.product", slug=current), 301)
        abort(404)
    url = public_url("shop.product", slug=item.slug)
    json_ld = catalogue.product_json_ld(item, url, [_photo_url(photo.large_key) for photo in item.photos])
    rating = reviews.rating_of(row)
    shown = reviews.product_reviews(item.id, rating)
    if rating:
        json_ld["aggregateRating"] = reviews.aggregate_json_ld(rating)
        json_ld["review"] = [reviews.review_json_ld(review) for review in shown]
    return render_template("shop/product.html", product=item, canonical_url=url, json_ld=json_ld, rating=rating,
                           reviews=shown, badges=certificates.badges_of(row[1], row[2]),
                           og_image=_photo_url(item.photos[0].large_key) if item.photos else None)


@bp.route("/farms/<slug>")
@cached_page
def farm(slug: str):
    row = catalogue.approved_farm(slug, *certificates.farm_badge_columns(Farm.id, certificates.today()),
                                  *reviews.farm_rating_columns(Farm.id))
    if row is None:
        abort(404)
    item, rating = row[0], reviews.rating_of(row)
    products, more = catalogue.farm_products(item)
    return render_template("shop/farm.html", farm=item, products=products, more_products=more,
                           rating=rating, badges=certificates.badges_of(row[1], row[2]),
                           **showcase.extras("farm", farm=item))
