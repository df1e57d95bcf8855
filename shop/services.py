"""Product rules: a farm's listings, their photos, slugs and search text.

Every function takes the acting user and the farm; creating, editing, pausing, resuming and deleting also take
``now``, the time written on the product (the caller reads the clock, once per request). The acting user is the
farm's owner (role farmer, farm approved) or commune staff helping them; both are written to the audit log
(staff with ``on_behalf_of`` the owner). Functions ``flush()``; the caller commits once.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import selectinload

from accounts.farms import Farm
from accounts.models import User
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.gallery import Gallery, Upload
from core.media import delete_file_on_commit
from core.text import fold, slugify
from shop.models import (
    CATEGORIES,
    LOW_STOCK,
    MAX_ORDER_QTY_CEILING,
    MAX_PHOTOS,
    MAX_PRICE_VND,
    MAX_STOCK,
    MAX_WEIGHT_G,
    UNITS,
    Product,
    ProductPhoto,
    ProductSlugRedirect,
)
from shop.order_models import OrderLine

MAX_NAME = 120
MAX_DESCRIPTION = 3000
MAX_MIN_ORDER = MAX_STOCK

# action -> (states it may start from, state it leads to, audit action)
_TRANSITIONS = {
    "pause": (("active",), "paused", "product.paused"),
    "resume": (("paused",), "active", "product.resumed"),
    "archive": (("active", "paused"), "archived", "product.archived"),
}


class ProductError(DomainError):
    """A product rule refused the change. ``message`` is for the user; ``field`` names the form field it is about."""


class NotAllowed(ProductError):
    def __init__(self) -> None:
        super().__init__(_l("You cannot change this product."))


class PhotoNotFound(ProductError):
    def __init__(self) -> None:
        super().__init__(_l("This photo no longer exists."))


@dataclass(frozen=True)
class ProductData:
    name: str
    description: str
    category: str
    unit: str
    price_vnd: int
    # Whole units, even for kg: stock is reserved with one guarded integer UPDATE
    # (stock = stock - q WHERE stock >= q), and pineapples are sold by the whole kg.
    stock: int
    min_order_qty: int = 1
    season_start: int | None = None  # months 1..12; both None = all year; may wrap over the new year
    season_end: int | None = None
    max_order_qty: int | None = None  # the most one order may hold; None = the market's default
    name_en: str = ""          # optional English name and description, for visitors reading English
    description_en: str = ""
    shipping_weight_g: int = 1000  # one unit, packed, in grams (parcel fees go by weight)
    local_only: bool = False       # never sent as a parcel: picked up or delivered by the farm itself


# --- who may do what ------------------------------------------------------------------------------------------

def may_manage(user: User, farm: Farm | None) -> bool:
    """The owner of an approved farm (role farmer), or commune staff acting for it."""
    if farm is None or not farm.is_approved or not user.is_active:
        return False
    return user.is_admin or (user.is_farmer and farm.owner_id == user.id)


def _check(actor: User, farm: Farm, product: Product | None = None, *, changing: bool = True) -> None:
    if not may_manage(actor, farm) or (product is not None and product.farm_id != farm.id):
        raise NotAllowed()
    if changing and product is not None and product.status == "archived":
        raise ProductError(_l("This product is archived and can no longer be changed."))


def _audit(action: str, entity_id: int, actor: User, farm: Farm, **fields) -> None:
    on_behalf_of = farm.owner if actor.id != farm.owner_id else None
    audit.record(action, "product", entity_id, actor=actor, on_behalf_of=on_behalf_of, **fields)


def product_was_ordered(product: Product) -> bool:
    """Whether any order ever included this product, paid or not (then it is archived rather than deleted)."""
    return db.session.scalar(select(OrderLine.id).where(OrderLine.product_id == product.id).limit(1)) is not None


# --- reading --------------------------------------------------------------------------------------------------

def farm_products(farm: Farm) -> list[Product]:
    """The farm's products with their photos (two queries however many there are): on sale, paused, archived."""
    status_order = case({"active": 0, "paused": 1}, value=Product.status, else_=2)
    query = (select(Product).where(Product.farm_id == farm.id).options(selectinload(Product.photos))
             .order_by(status_order, Product.created_at.desc(), Product.id.desc()))
    return list(db.session.scalars(query))


# --- checking what was typed ----------------------------------------------------------------------------------

def clean(data: ProductData) -> ProductData:
    """``data`` trimmed and checked; ProductError(field=...) for the first rule it breaks."""
    name = " ".join((data.name or "").split())
    name_en = " ".join((data.name_en or "").split())
    description = _text(data.description)
    description_en = _text(data.description_en)
    if not name:
        raise ProductError(_l("Enter the name of the product."), "name")
    if len(name) > MAX_NAME:
        raise ProductError(_l("The name is too long (at most %(max)d characters).", max=MAX_NAME), "name")
    if len(name_en) > MAX_NAME:
        raise ProductError(_l("The name is too long (at most %(max)d characters).", max=MAX_NAME), "name_en")
    for text, field in ((description, "description"), (description_en, "description_en")):
        if len(text) > MAX_DESCRIPTION:
            raise ProductError(_l("The text is too long (at most %(max)d characters).", max=MAX_DESCRIPTION), field)
    if data.category not in CATEGORIES:
        raise ProductError(_l("Choose a category."), "category")
    if data.unit not in UNITS:
        raise ProductError(_l("Choose how the product is sold."), "unit")
    _check_range(data.price_vnd, 1, MAX_PRICE_VND, "price_vnd",
                 _l("The price must be more than 0 đồng."),
                 _l("The price can be at most 100,000,000 đồng per unit. Please check the number."))
    _check_range(data.stock, 0, MAX_STOCK, "stock",
                 _l("The stock cannot be less than 0."),
                 _l("The stock can be at most 1,000,000 units. Please check the number."))
    _check_range(data.min_order_qty, 1, MAX_MIN_ORDER, "min_order_qty",
                 _l("The minimum order is at least 1."),
                 _l("The minimum order can be at most 1,000,000 units. Please check the number."))
    if data.max_order_qty is not None:
        _check_range(data.max_order_qty, data.min_order_qty, MAX_ORDER_QTY_CEILING, "max_order_qty",
                     _l("The most per order cannot be less than the smallest order (%(min)d).",
                        min=data.min_order_qty),
                     _l("The most per order can be at most %(max)d units. Buyers who want more can call you.",
                        max=MAX_ORDER_QTY_CEILING))
    _check_range(data.shipping_weight_g, 1, MAX_WEIGHT_G, "shipping_weight_g",
                 _l("The weight must be at least 1 gram."),
                 _l("The weight of one unit can be at most 100,000 grams (100 kg). Please check the number."))
    start, end = data.season_start, data.season_end
    if (start is None) != (end is None):
        field = "season_end" if end is None else "season_start"
        raise ProductError(_l("Choose both the first and the last month of the season, or “All year”."), field)
    for month, field in ((start, "season_start"), (end, "season_end")):
        if month is not None and (type(month) is not int or not 1 <= month <= 12):
            raise ProductError(_l("Choose a month."), field)
    return dataclasses.replace(data, name=name, description=description, name_en=name_en,
                               description_en=description_en, local_only=bool(data.local_only))


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_range(value: int, low: int, high: int, field: str, too_low, too_high) -> None:
    if type(value) is not int:  # bool is an int too: refuse it
        raise ProductError(_l("Enter a whole number."), field)
    if value < low:
        raise ProductError(too_low, field)
    if value > high:
        raise ProductError(too_high, field)


# --- products -------------------------------------------------------------------------------------------------

def create_product(actor: User, farm: Farm, data: ProductData, photos: Sequence[Upload] = (), *,
                   now: datetime) -> Product:
    """List a new product, on sale at once. A refused photo refuses the whole product: nothing is stored."""
    _check(actor, farm)
    data = clean(data)
    processed = GALLERY.process(photos, already=0)
    product = Product(farm=farm, slug=_free_slug(slugify(data.name)), status="active", orders_count=0,
                      created_at=now, updated_at=now)
    _apply(product, data, farm)
    db.session.add(product)
    db.session.flush()
    _audit("product.created", product.id, actor, farm, to_state="active", details={"name": product.name})
    _photos_added(actor, farm, product, GALLERY.store(product, processed))
    return product


def update_product(actor: User, farm: Farm, product: Product, data: ProductData, *, now: datetime) -> list[str]:
    """Save the edited fields; returns the names of the fields that changed."""
    _check(actor, farm, product)
    data = clean(data)
    changed = [f.name for f in dataclasses.fields(data) if getattr(product, f.name) != getattr(data, f.name)]
    if not changed:
        return []
    if "name" in changed:
        _rename(product, data.name)
    _apply(product, data, farm)
    product.updated_at = now
    db.session.flush()
    _audit("product.updated", product.id, actor, farm, details={"changed": changed})
    return changed


def _apply(product: Product, data: ProductData, farm: Farm) -> None:
    for field in dataclasses.fields(data):
        setattr(product, field.name, getattr(data, field.name))
    product.search_text = fold(" ".join((data.name, data.description, data.name_en, data.description_en, farm.name,
                                         farm.village)))
    if product.stock > LOW_STOCK:
        product.low_stock_warned_at = None  # the farmer is told again the next time it runs low


def pause_product(actor: User, farm: Farm, product: Product, *, now: datetime) -> bool:
    """Stop selling for a while. False if it was already paused (a repeated click changes nothing)."""
    return _transition(actor, farm, product, "pause", now)


def resume_product(actor: User, farm: Farm, product: Product, *, now: datetime) -> bool:
    return _transition(actor, farm, product, "resume", now)


def delete_product(actor: User, farm: Farm, product: Product, *, now: datetime) -> str:
    """Delete a product never ordered, with its photos ("deleted"); archive one that was ordered ("archived")."""
    _check(actor, farm, product, changing=False)
    if product.status == "archived":
        return "archived"
    if product_was_ordered(product):
        _transition(actor, farm, product, "archive", now)
        return "archived"
    keys = [key for photo in product.photos for key in (photo.large_key, photo.small_key)]
    product_id, name, slug, status = product.id, product.name, product.slug, product.status
    db.session.execute(delete(ProductSlugRedirect).where(ProductSlugRedirect.product_id == product_id))
    db.session.delete(product)  # its photo rows go with it (cascade)
    db.session.flush()
    for key in keys:
        delete_file_on_commit(key)
    _audit("product.deleted", product_id, actor, farm, from_state=status, details={"name": name, "slug": slug})
    return "deleted"


def _transition(actor: User, farm: Farm, product: Product, action: str, now: datetime) -> bool:
    _check(actor, farm, product, changing=action != "archive")
    from_states, to_state, audit_action = _TRANSITIONS[action]
    from_state = product.status
    result = db.session.execute(
        update(Product).where(Product.id == product.id, Product.status.in_(from_states))
        .values(status=to_state, updated_at=now).execution_options(synchronize_session=False))
    db.session.refresh(product)
    if result.rowcount != 1:
        if product.status == to_state:
            return False
        raise ProductError(_l("This product cannot be changed that way now."))
    _audit(audit_action, product.id, actor, farm, from_state=from_state, to_state=to_state)
    return True


# --- slugs ----------------------------------------------------------------------------------------------------

def _slug_free(slug: str, product_id: int | None) -> bool:
    """Neither another product's slug nor another product's old slug (old links keep pointing where they did)."""
    products = select(Product.id).where(Product.slug == slug)
    redirects = select(ProductSlugRedirect.product_id).where(ProductSlugRedirect.slug == slug)
    if product_id is not None:
        products = products.where(Product.id != product_id)
        redirects = redirects.where(ProductSlugRedirect.product_id != product_id)
    return db.session.scalar(select(func.count()).select_from(products.union_all(redirects).subquery())) == 0


def _free_slug(base: str, product_id: int | None = None) -> str:
    slug, n = base, 1
    while not _slug_free(slug, product_id):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _rename(product: Product, name: str) -> None:
    """A new slug for a new name; the old one is kept as a redirect. Renaming back takes the old slug back."""
    base, current = slugify(name), product.slug
    if current == base or (re.fullmatch(re.escape(base) + r"-\d+", current) and not _slug_free(base, product.id)):
        return  # the slug still fits the name
    new = _free_slug(base, product.id)
    db.session.execute(delete(ProductSlugRedirect).where(ProductSlugRedirect.slug.in_((new, current))))
    db.session.add(ProductSlugRedirect(slug=current, product_id=product.id))
    product.slug = new


# --- photos ---------------------------------------------------------------------------------------------------

def _too_many(already: int):
    if already == 0:
        return _l("A product can have at most %(max)d photos. Please choose %(max)d or fewer.", max=MAX_PHOTOS)
    if already >= MAX_PHOTOS:
        return _l("This product already has %(max)d photos. Remove one before adding another.", max=MAX_PHOTOS)
    return _l("A product can have at most %(max)d photos. You can add %(left)d more.",
              max=MAX_PHOTOS, left=MAX_PHOTOS - already)


GALLERY = Gallery(photo_class=ProductPhoto, error=ProductError, too_many=_too_many, max_photos=MAX_PHOTOS,
                  not_found=lambda: PhotoNotFound())


def _photos_added(actor: User, farm: Farm, product: Product, added: list[ProductPhoto]) -> list[ProductPhoto]:
    for row in added:
        _audit("product.photo_added", product.id, actor, farm, details={"photo_id": row.id})
    return added


def add_photos(actor: User, farm: Farm, product: Product, uploads: Sequence[Upload]) -> list[ProductPhoto]:
    """Add photos after the existing ones: all of them or, if one is refused, none."""
    _check(actor, farm, product)
    return _photos_added(actor, farm, product, GALLERY.add(product, uploads, lambda: db.session.execute(
        select(Product.id).where(Product.id == product.id).with_for_update())))


def remove_photo(actor: User, farm: Farm, product: Product, photo_id: int) -> None:
    _check(actor, farm, product)
    GALLERY.remove(product, photo_id)
    _audit("product.photo_removed", product.id, actor, farm, details={"photo_id": photo_id})


def move_photo(actor: User, farm: Farm, product: Product, photo_id: int, to: str) -> bool:
    """Move a photo one place up (``to="up"``) or to the front (``"first"``, the photo buyers see first)."""
    _check(actor, farm, product)
    if not GALLERY.move(product, photo_id, to):
        return False
    _audit("product.photos_reordered", product.id, actor, farm, details={"photo_id": photo_id, "to": to})
    return True
