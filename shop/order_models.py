"""Carts, orders, farm orders and their lines.

An order is what the buyer placed and pays once; it is split into one farm order
per farm, each with its own status. Lines copy name, unit and price when the
order is placed, so later price changes never touch it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.states import Moves
from core.time import utcnow

ORDER_STATUSES = ("pending_payment", "paid", "expired", "cancelled")
FARM_ORDER_STATUSES = ("pending_payment", "paid", "ready", "completed", "expired", "cancelled")
FULFILMENTS = ("farm_pickup", "commune_pickup", "delivery")
PAYMENT_METHODS = ("vietqr", "card", "credit")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class CartItem(db.Model):
    """A logged-in buyer's cart line (guests keep theirs in the session)."""
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("user_id", "product_id", name="uq_cart_items_user_product"),
        UniqueConstraint("user_id", "slot_id", name="uq_cart_items_user_slot"),
        CheckConstraint("(product_id IS NULL) <> (slot_id IS NULL)", name="one_target"),
        CheckConstraint("quantity >= 0 AND adults >= 0 AND children >= 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("tour_slots.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    adults: Mapped[int] = mapped_column(Integer, default=0)
    children: Mapped[int] = mapped_column(Integer, default=0)
    # The price the buyer saw when adding, to flag a change before checkout.
    seen_price_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    # The waiting-list offer whose held seats this visit line books (its link's token, "w" in the line's values).
    hold_token: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_vnd >= 0", name="total_vnd"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint(_in("payment_method", PAYMENT_METHODS), name="payment_method"),
        # The limits on unpaid orders count pending orders per phone, client address and browser session.
        Index("ix_orders_buyer_phone_status", "buyer_phone", "status"),
        Index("ix_orders_placed_from_status", "placed_from", "status"),
        Index("ix_orders_placed_session_status", "placed_session", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown in URLs; random, so order numbers cannot be walked.
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    # The guest's secret link key (compared in constant time).
    secret: Mapped[str] = mapped_column(String(64))
    # One order per checkout page: a double click finds the order already placed.
    checkout_token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(120))
    buyer_phone: Mapped[str] = mapped_column(String(20))
    buyer_email: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    payment_method: Mapped[str] = mapped_column(String(10), default="vietqr")
    total_vnd: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="pending_payment", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Keyed hashes (HMAC with SECRET_KEY, 32 hex digits) of the client address and of the browser session the
    # order was placed from: enough to count open orders from the same place, not a stored IP address.
    placed_from: Mapped[str | None] = mapped_column(String(32))
    placed_session: Mapped[str | None] = mapped_column(String(32))
    # Where the goods are delivered (a copy taken when the order is placed; all NULL when nothing is
    # delivered): recipient, phone, street and house number, commune and province (core.places codes and names).
    ship_name: Mapped[str | None] = mapped_column(String(120))
    ship_phone: Mapped[str | None] = mapped_column(String(20))
    ship_street: Mapped[str | None] = mapped_column(String(200))
    ship_commune_code: Mapped[int | None] = mapped_column(Integer)
    ship_commune: Mapped[str | None] = mapped_column(String(120))
    ship_province_code: Mapped[int | None] = mapped_column(Integer)
    ship_province: Mapped[str | None] = mapped_column(String(120))

    farm_orders = relationship("FarmOrder", back_populates="order", order_by="FarmOrder.id")
    user = relationship("User")

    @property
    def ship_address(self) -> str:
        """The delivery address on one line, or "" when nothing is delivered."""
        if not self.ship_street:
            return ""
        return ", ".join(part for part in (self.ship_street, self.ship_commune, self.ship_province) if part)

    @property
    def reference(self) -> str:
        """The payment reference the buyer types in the transfer content: KEP + 6 characters + a check
        character (shop/payments/reference.py)."""
        from shop.payments.reference import reference_for  # here: shop.payments' package imports this module
        return reference_for(self.id)

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "pending_payment" and now >= self.expires_at

    def display_status(self, now: datetime) -> str:
        """An overdue unpaid order is shown as expired even before the expiry job runs."""
        return "expired" if self.is_overdue(now) else self.status


class FarmOrder(db.Model):
    __tablename__ = "farm_orders"
    __table_args__ = (
        UniqueConstraint("order_id", "farm_id", name="uq_farm_orders_order_farm"),
        CheckConstraint("subtotal_vnd >= 0 AND delivery_fee_vnd >= 0 AND total_vnd >= 0", name="amounts"),
        CheckConstraint("refunded_vnd >= 0 AND refunded_vnd <= total_vnd", name="refunded_vnd"),
        CheckConstraint(_in("status", FARM_ORDER_STATUSES), name="status"),
        CheckConstraint(_in("fulfilment", FULFILMENTS), name="fulfilment"),
        # A farm's open farm orders, whose ledger entries are still pending (shop/balances.py).
        Index("ix_farm_orders_farm_status", "farm_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending_payment", index=True)
    fulfilment: Mapped[str] = mapped_column(String(20), default="farm_pickup")
    subtotal_vnd: Mapped[int] = mapped_column(BigInteger)
    delivery_fee_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    total_vnd: Mapped[int] = mapped_column(BigInteger)
    refunded_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    # For a delivery: "local" (the farm brings it) or "parcel" (sent by post or a carrier), and the days it
    # was promised to take.
    delivery_method: Mapped[str | None] = mapped_column(String(10))
    delivery_days_min: Mapped[int | None] = mapped_column(SmallInteger)
    delivery_days_max: Mapped[int | None] = mapped_column(SmallInteger)
    # The buyer came through this farm's own shared link (shop/referrals.py): set when the order is placed.
    from_share: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    order = relationship("Order", back_populates="farm_orders")
    farm = relationship("Farm")
    lines = relationship("OrderLine", back_populates="farm_order", order_by="OrderLine.id")


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("(product_id IS NULL) <> (slot_id IS NULL)", name="one_target"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price_vnd >= 0 AND line_total_vnd >= 0", name="amounts"),
        CheckConstraint("adults >= 0 AND children >= 0 AND child_price_vnd >= 0", name="party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_order_id: Mapped[int] = mapped_column(ForeignKey("farm_orders.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("tour_slots.id"), index=True)
    # Snapshots taken when the order is placed.
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(10))
    unit_price_vnd: Mapped[int] = mapped_column(BigInteger)
    # Units of product, or seats (adults + children) of a visit.
    quantity: Mapped[int] = mapped_column(Integer)
    adults: Mapped[int] = mapped_column(Integer, default=0)
    children: Mapped[int] = mapped_column(Integer, default=0)
    child_price_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    line_total_vnd: Mapped[int] = mapped_column(BigInteger)
    # The harvest batch the goods came from (shop/batches.py): "who bought batch X" for a recall.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_batches.id"), index=True)

    farm_order = relationship("FarmOrder", back_populates="lines")
    product = relationship("Product")
    slot = relationship("TourSlot")
    batch = relationship("HarvestBatch")

    @property
    def is_visit(self) -> bool:
        return self.slot_id is not None


# The moves each status may make (core/states.py). A paid-late order goes from expired or cancelled back to
# paid, its farm orders through pending_payment, when its goods could be taken again (shop/payments/confirm.py).
ORDER_MOVES = Moves(Order, [("pending_payment", "paid"), ("pending_payment", "expired"),
                            ("pending_payment", "cancelled"), ("expired", "paid"), ("cancelled", "paid")])
FARM_ORDER_MOVES = Moves(FarmOrder, [
    ("pending_payment", "paid"), ("pending_payment", "expired"), ("pending_payment", "cancelled"),
    ("expired", "pending_payment"), ("cancelled", "pending_payment"),
    ("paid", "ready"), ("ready", "completed"), ("paid", "cancelled"), ("ready", "cancelled")])
# The steps a farmer takes on a paid farm order (cancelling is its own action, with a refund).
FARMER_STEPS = frozenset({("paid", "ready"), ("ready", "completed")})
