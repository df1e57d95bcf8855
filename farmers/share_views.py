"""The farmer's share kit for a product or a visit, and the public posters that pages show as their preview.

The kit (``/farmer/share/product/<id>``, ``/farmer/share/tour/<id>``): the page's link carrying the farm's referral
code (shop/referrals.py), buttons that open Zalo's and Facebook's share dialogs and the phone's own share sheet,
two posters to download and a caption to copy (in Vietnamese whatever language the farmer reads the kit in: it
is written for the buyers who will read the post; posters too). Only the farm's own farmer opens it, or commune staff
for a farm whose consent is on record (farmers/acting.py); another farm's product or tour is a 404.

Share dialogs, as their providers document them (or do not):

* Facebook documents its Share Dialog as ``https://www.facebook.com/dialog/share?app_id=…&display=popup&href=…``
  (developers.facebook.com/docs/sharing/reference/share-dialog), which needs an app id: with ``FACEBOOK_APP_ID``
  set that is the link. Without one, ``https://www.facebook.com/sharer/sharer.php?u=<url>`` — no longer in
  Facebook's documents, still answered by Facebook and used widely; it reads the page's Open Graph tags.
* Zalo documents a share *plugin* for websites (a ``<div class="zalo-share-button" data-href=… data-oaid=…>``
  made live by Zalo's ``sp.zalo.me/plugins/sdk.js``, which needs an Official Account id) and, for Mini Apps,
  ``openShareSheet``. The plugin's script cannot be loaded here (no outside scripts: our Content-Security-Policy
  and DESIGN.md), so the button is the plain link that plugin opens, ``https://sp.zalo.me/share_inline?url=<url>``.
  Its parameters are not documented beyond ``url`` (unclear); on a phone the button opens Zalo's share page or
  app, and the share sheet (``navigator.share``) lists Zalo too.

Posters (``/share/poster/…``) are public, the same for everyone and without a referral code (the page's
``og:image``, fetched by Facebook's and Zalo's link previews): cached by browsers and proxies for a day, with an
ETag, so a preview fetched again costs a 304. The farmer's downloads carry the referral code in their QR code.
"""
from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, g, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from core import posters
from core.extensions import db
from core.formatting import vnd
from core.labels import UNITS
from core.storage import StorageUnavailable, get_storage
from core.urls import public_url
from farmers import acting
from shop import catalogue, referrals
from shop.models import Product
from tours import services as tour_services
from tours.models import Tour

bp = Blueprint("farmer_share", __name__, url_prefix="/farmer/share")
posters_bp = Blueprint("share_posters", __name__, url_prefix="/share/poster")

PUBLIC_CACHE = "public, max-age=86400"
SIZE = 'any("1080x1080", "1200x630"):size'


@bp.before_request
@login_required
def load_farm():
    return acting.enter(("approved",), "farmers/products_unavailable.html")


acting.keep_farm_parameter(bp)


def _own_product(product_id: int) -> Product:
    product = db.session.scalar(select(Product).where(Product.id == product_id, Product.farm_id == g.farm.id,
                                                      Product.status != "archived"))
    if product is None:
        abort(404)
    return product


def _own_tour(tour_id: int) -> Tour:
    tour = db.session.scalar(select(Tour).where(Tour.id == tour_id, Tour.farm_id == g.farm.id))
    if tour is None:
        abort(404)
    return tour


def _photo_bytes(photos) -> bytes | None:
    if not photos:
        return None
    try:
        return get_storage(current_app).open(photos[0].large_key)
    except (StorageUnavailable, ValueError, OSError):
        return None  # the poster is drawn without the photo rather than not at all


def _product_poster(product: Product, link: str) -> posters.PosterContent:
    farm = product.farm
    with force_locale("vi"):
        return posters.PosterContent(
            title=product.name, price=f"{vnd(product.price_vnd)} / {UNITS.get(product.unit, product.unit)}",
            farm=f"{farm.name} · {farm.village}", link=link, photo=_photo_bytes(product.photos),
            vietgap=bool(farm.vietgap_certified), scan_hint=_("Scan to order"))


def _tour_poster(tour: Tour, link: str) -> posters.PosterContent:
    farm = tour.farm
    with force_locale("vi"):
        return posters.PosterContent(
            title=tour.title, price=_("%(price)s per adult", price=vnd(tour.price_adult_vnd)),
            farm=f"{farm.name} · {farm.village}", link=link, photo=_photo_bytes(tour.photos),
            vietgap=bool(farm.vietgap_certified), scan_hint=_("Scan to book"))


def _dialogs(link: str) -> dict[str, str]:
    app_id = current_app.config.get("FACEBOOK_APP_ID")
    facebook = ("https://www.facebook.com/dialog/share?" + urlencode({"app_id": app_id, "display": "popup",
                                                                      "href": link}) if app_id
                else "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": link}))
    return {"zalo": "https://sp.zalo.me/share_inline?" + urlencode({"url": link}), "facebook": facebook}


def _kit(kind: str, item, link: str, caption: str, title: str):
    return render_template("farmers/share.html", kind=kind, item=item, link=link, caption=caption, title=title,
                           dialogs=_dialogs(link), farm=g.farm)


@bp.route("/product/<int:product_id>")
def product(product_id: int):
    item = _own_product(product_id)
    code = referrals.ensure_code(g.farm)
    link = public_url("shop.product", slug=item.slug, ref=code)
    farm = g.farm
    with force_locale("vi"):
        caption = _("%(name)s, %(price)s per %(unit)s, from %(farm)s in Kep commune.",
                    name=item.name, price=vnd(item.price_vnd), unit=UNITS.get(item.unit, item.unit), farm=farm.name)
        if farm.vietgap_certified:
            caption += " " + _("Grown to VietGAP.")
        caption += " " + _("Order here: %(link)s", link=link)
    return _kit("product", item, link, caption, item.name)


@bp.route("/tour/<int:tour_id>")
def tour(tour_id: int):
    item = _own_tour(tour_id)
    code = referrals.ensure_code(g.farm)
    link = public_url("tours.detail", slug=item.slug, ref=code)
    with force_locale("vi"):
        caption = _("Visit the pineapple hill with %(farm)s in Kep commune: %(title)s, %(price)s per adult.",
                    farm=g.farm.name, title=item.title, price=vnd(item.price_adult_vnd))
        caption += " " + _("Book here: %(link)s", link=link)
    return _kit("tour", item, link, caption, item.title)


def _image(data: bytes, *, download: str | None = None, etag: str | None = None) -> Response:
    response = Response(data, mimetype=posters.MIMETYPE)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
        response.headers["Cache-Control"] = "private, no-store"
    if etag:
        response.set_etag(etag)
        response.headers["Cache-Control"] = PUBLIC_CACHE
        response.make_conditional(request)
    return response


@bp.route(f"/product/<int:product_id>/poster-<{SIZE}>.jpg")
def product_poster(product_id: int, size: str):
    item = _own_product(product_id)
    link = public_url("shop.product", slug=item.slug, ref=referrals.ensure_code(g.farm))
    return _image(posters.draw(_product_poster(item, link), size), download=f"{item.slug}-{size}.jpg")


@bp.route(f"/tour/<int:tour_id>/poster-<{SIZE}>.jpg")
def tour_poster(tour_id: int, size: str):
    item = _own_tour(tour_id)
    link = public_url("tours.detail", slug=item.slug, ref=referrals.ensure_code(g.farm))
    return _image(posters.draw(_tour_poster(item, link), size), download=f"{item.slug}-{size}.jpg")


def _etag(*parts) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


def _public(content: posters.PosterContent, size: str, *version) -> Response:
    etag = _etag(size, content.title, content.price, content.farm, content.link, content.vietgap, *version)
    if request.if_none_match.contains(etag):
        return _image(b"", etag=etag)
    return _image(posters.draw(content, size), etag=etag)


@posters_bp.route(f"/product/<slug>-<{SIZE}>.jpg")
def public_product(slug: str, size: str):
    item = catalogue.public_product(slug)
    if item is None:
        abort(404)
    content = _product_poster(item, public_url("shop.product", slug=item.slug))
    return _public(content, size, item.photos[0].large_key if item.photos else "")


@posters_bp.route(f"/tour/<slug>-<{SIZE}>.jpg")
def public_tour(slug: str, size: str):
    item = tour_services.public_tour(slug)
    if item is None:
        abort(404)
    content = _tour_poster(item, public_url("tours.detail", slug=item.slug))
    return _public(content, size, item.photos[0].large_key if item.photos else "")


@posters_bp.route(f"/farm/<slug>-<{SIZE}>.jpg")
def public_farm(slug: str, size: str):
    farm = catalogue.approved_farm(slug)
    if farm is None:
        abort(404)
    products, _more = catalogue.farm_products(farm, limit=1)
    with_photo = next((p for p in products if p.photos), None)
    with force_locale("vi"):
        content = posters.PosterContent(
            title=farm.name, price=_("Village %(village)s, Kep commune", village=farm.village), farm="",
            link=public_url("shop.farm", slug=farm.slug), photo=_photo_bytes(with_photo.photos if with_photo else []),
            vietgap=bool(farm.vietgap_certified), scan_hint=_("Scan to order"))
    return _public(content, size, with_photo.photos[0].large_key if with_photo else "")
