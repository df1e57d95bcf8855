"""Products and their photos."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.formatting import Shown, in_reader_language
from core.time import utcnow

CATEGORIES = ("fresh", "processed", "seedlings", "other")
UNITS = ("kg", "fruit", "box", "bottle", "bag", "jar", "plant")
PRODUCT_STATUSES = ("active", "paused", "archived")
MAX_PRICE_VND = 100_000_000
MAX_STOCK = 1_000_000
MAX_WEIGHT_G = 100_000  # one unit's shipping weight: at most 100 kg
MAX_PHOTOS = 6
# What one order may hold of a product (so one unpaid order cannot hold a whole harvest for its hold time):
# the farmer's own maximum, at most MAX_ORDER_QTY_CEILING; unset, DEFAULT_MAX_ORDER_QTY. The smallest order
# always fits, so a product whose minimum is larger than the default can still be ordered.
DEFAULT_MAX_ORDER_QTY = 50
MAX_ORDER_QTY_CEILING = 10_000


LOW_STOCK = 5  # units left: the farmer is told once (shop/notices.py) when a paid order leaves this many or fewer


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(f"price_vnd > 0 AND price_vnd <= {MAX_PRICE_VND}", name="price_vnd"),
        CheckConstraint("stock >= 0", name="stock"),
        CheckConstraint("min_order_qty >= 1", name="min_order_qty"),
        CheckConstraint(f"max_order_qty IS NULL OR (max_order_qty >= min_order_qty AND "
                        f"max_order_qty <= {MAX_ORDER_QTY_CEILING})", name="max_order_qty"),
        CheckConstraint("orders_count >= 0", name="orders_count"),
        CheckConstraint(f"shipping_weight_g >= 0 AND shipping_weight_g <= {MAX_WEIGHT_G}", name="shipping_weight_g"),
        CheckConstraint("status IN ('active', 'paused', 'archived')", name="status"),
        CheckConstraint("category IN ('fresh', 'processed', 'seedlings', 'other')", name="category"),
        CheckConstraint("(season_start IS NULL AND season_end IS NULL) OR "
                        "(season_start BETWEEN 1 AND 12 AND season_end BETWEEN 1 AND 12)", name="season"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The farm's English name and description for visitors reading English, both optional.
    name_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(String(12), index=True)
    unit: Mapped[str] = mapped_column(String(10))
    price_vnd: Mapped[int] = mapped_column(BigInteger)
    # Whole units of `unit` (whole kg for fruit sold by weight): stock is reserved with integer UPDATEs.
    stock: Mapped[int] = mapped_column(Integer, default=0)
    min_order_qty: Mapped[int] = mapped_column(Integer, default=1)
    # The most one order may hold, set by the farmer; NULL: the market's default (see order_limit).
    max_order_qty: Mapped[int | None] = mapped_column(Integer)
    # Months of the season, 1..12, wrapping over the new year; both NULL means all year.
    season_start: Mapped[int | None] = mapped_column(SmallInteger)
    season_end: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    # The shipping weight of one unit, packed, in grams (parcel fees go by the parcel's weight).
    shipping_weight_g: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    # Fresh fruit that must not travel by parcel: only picked up or delivered locally by the farm.
    local_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Lower-case, diacritic-free name and description (and farm name) for search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the farmer was told this product runs low (shop/notices.py); cleared when the stock is raised again.
    low_stock_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    farm = relationship("Farm", backref=db.backref("products", lazy="dynamic"))
    photos = relationship("ProductPhoto", order_by="ProductPhoto.position", cascade="all, delete-orphan",
                          back_populates="product")

    @property
    def shown_name(self) -> Shown:
        return in_reader_language(self.name, self.name_en)

    @property
    def shown_description(self) -> Shown:
        return in_reader_language(self.description, self.description_en)

    @property
    def order_limit(self) -> int:
        """The most units one order may hold: the farmer's maximum, else the default, never below the minimum."""
        limit = self.max_order_qty if self.max_order_qty is not None else DEFAULT_MAX_ORDER_QTY
        return max(limit, self.min_order_qty or 1)

    def in_season(self, month: int) -> bool:
        if self.season_start is None or self.season_end is None:
            return True
        if self.season_start <= self.season_end:
            return self.season_start <= month <= self.season_end
        return month >= self.season_start or month <= self.season_end

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.slug}>"


class ProductPhoto(db.Model):
    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    large_key: Mapped[str] = mapped_column(String(80))
    small_key: Mapped[str] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    product = relationship("Product", back_populates="photos")

    def fit_within(self, side: int) -> tuple[int, int]:
        """Display size (width, height) of this photo shrunk to fit a ``side`` x ``side`` box, never enlarged."""
        scale = min(1.0, side / max(self.width, self.height, 1))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))


class ProductSlugRedirect(db.Model):
    """A product's former slug, kept so old links redirect (301) after a rename."""
    __tablename__ = "product_slug_redirects"

    slug: Mapped[str] = mapped_column(String(140), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
