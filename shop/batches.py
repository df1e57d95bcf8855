"""Harvest batches and their trace labels.

A farmer records a batch (product, harvest day, plot, quantity, the VietGAP certificate number it was grown
under); the label sheet prints its code and a QR code of its public page (shop/batch_views.py). When an order is
paid, each of its product lines records the product's newest batch (the one being sold), so "who bought batch X"
answers at once for a recall (``buyers``).
The public page shows the certificate only while commune staff's check of it holds (``certificate_shown``)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import audit
from core.domain import DomainError
from core.extensions import db
from core.inputs import clean_text, parse_int
from shop import certificates
from shop.batch_models import MAX_PLOT, HarvestBatch
from shop.models import Product
from shop.order_models import FarmOrder, Order, OrderLine

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # as tickets: no 0/O, 1/I/L, 2/Z, 5/S, 8/B
CODE_LENGTH = 8
MAX_QUANTITY = 1_000_000
STICKERS = 24  # one A4 sheet: 3 across, 8 down


class BatchError(DomainError):
    pass


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(HarvestBatch.id).where(HarvestBatch.code == code)) is None:
            return code


def record(farm, user, *, product_id, harvested_on, plot, quantity, vietgap_number) -> HarvestBatch:
    """Store a batch of one of ``farm``'s products after every check; nothing on refusal."""
    product = db.session.get(Product, parse_int(product_id, low=1, high=2**31 - 1) or 0)
    if product is None or product.farm_id != farm.id:
        raise BatchError(_l("Choose one of your products."), "product_id")
    today = certificates.today()
    try:
        day = date.fromisoformat(str(harvested_on or "").strip())
    except ValueError as error:
        raise BatchError(_l("Give the day of the harvest."), "harvested_on") from error
    if day > today or day < today - timedelta(days=365):
        raise BatchError(_l("The harvest day must be within the last year, and not in the future."), "harvested_on")
    plot_text = " ".join(clean_text(str(plot or "")).split())
    if not plot_text or len(plot_text) > MAX_PLOT:
        raise BatchError(_l("Name the plot (at most %(max)d characters), e.g. \"Lô 3, đồi sau nhà\".",
                            max=MAX_PLOT), "plot")
    amount = parse_int(quantity, low=1, high=MAX_QUANTITY)
    if amount is None:
        raise BatchError(_l("Give the quantity as a whole number."), "quantity")
    number = " ".join(clean_text(str(vietgap_number or "")).split())[:60] or None
    batch = HarvestBatch(farm_id=farm.id, product_id=product.id, code=_new_code(), harvested_on=day,
                         plot=plot_text, quantity=amount, vietgap_number=number)
    db.session.add(batch)
    db.session.flush()
    audit.record("batch.record", "batch", batch.id, actor=user,
                 details={"product_id": product.id, "harvested_on": day.isoformat(), "quantity": amount})
    return batch


def of_farm(farm_id: int, limit: int = 200) -> list[HarvestBatch]:
    return list(db.session.scalars(select(HarvestBatch).where(HarvestBatch.farm_id == farm_id)
                                   .options(joinedload(HarvestBatch.product))
                                   .order_by(HarvestBatch.harvested_on.desc(), HarvestBatch.id.desc()).limit(limit)))


def by_code(code: str) -> HarvestBatch | None:
    code = (code or "").strip().upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return db.session.scalar(select(HarvestBatch).where(HarvestBatch.code == code)
                             .options(joinedload(HarvestBatch.product), joinedload(HarvestBatch.farm)))


def certificate_shown(batch: HarvestBatch, today: date):
    """The farm's verified, unexpired VietGAP certificate with the batch's number (None: nothing to show)."""
    if not batch.vietgap_number:
        return None
    return certificates.verified(batch.farm_id, "vietgap", batch.vietgap_number, today)


# -- orders record their batch ---------------------------------------------------------------------------------

def on_order_paid(order: Order, **_) -> None:
    """Each product line of the paid order records its product's newest batch (none recorded: none)."""
    lines = [line for farm_order in order.farm_orders for line in farm_order.lines
             if line.product_id is not None and line.batch_id is None]
    if not lines:
        return
    newest = {}
    for batch in db.session.scalars(select(HarvestBatch).where(HarvestBatch.product_id.in_(
            {line.product_id for line in lines})).order_by(HarvestBatch.harvested_on, HarvestBatch.id)):
        newest[batch.product_id] = batch.id  # the last one per product wins: the newest
    for line in lines:
        line.batch_id = newest.get(line.product_id)


MAX_CHOICES = 20


def choices_for(farm_order: FarmOrder) -> dict[int, list[HarvestBatch]]:
    """Per product of the farm order's lines, the farm's batches of it, newest first (1 query; none without
    product lines): what the farmer may correct a line's batch to."""
    product_ids = {line.product_id for line in farm_order.lines if line.product_id is not None}
    if not product_ids:
        return {}
    found: dict[int, list[HarvestBatch]] = {}
    for batch in db.session.scalars(select(HarvestBatch).where(HarvestBatch.farm_id == farm_order.farm_id,
                                                               HarvestBatch.product_id.in_(product_ids))
                                    .order_by(HarvestBatch.harvested_on.desc(), HarvestBatch.id.desc())):
        kept = found.setdefault(batch.product_id, [])
        if len(kept) < MAX_CHOICES:
            kept.append(batch)
    return found


def own_line(farm, line_id: int) -> OrderLine | None:
    """A product line of one of this farm's paid orders (None: another farm's, unpaid, a visit, or no such id)."""
    if not 0 < line_id < 2**31:
        return None
    return db.session.scalar(
        select(OrderLine).join(OrderLine.farm_order).join(FarmOrder.order)
        .where(OrderLine.id == line_id, FarmOrder.farm_id == farm.id, Order.paid_at.is_not(None),
               OrderLine.product_id.is_not(None)))


def set_line_batch(farm, user, line: OrderLine, batch_id) -> None:
    """The farmer says which batch a paid order line's goods really came from (the newest at payment was not the
    one packed), for the recall list: a batch of the same product of this farm. Raises BatchError (nothing
    changed)."""
    batch = db.session.get(HarvestBatch, parse_int(batch_id, low=1, high=2**31 - 1) or 0)
    if batch is None or batch.farm_id != farm.id or batch.product_id != line.product_id:
        raise BatchError(_l("Choose one of this product's batches from the list."))
    if line.batch_id != batch.id:
        audit.record("order_line.batch_changed", "order_line", line.id, actor=user,
                     details={"from_batch_id": line.batch_id, "to_batch_id": batch.id})
        line.batch_id = batch.id
        db.session.flush()


# -- who bought a batch --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Buyer:
    reference: str
    name: str
    phone: str
    quantity: int
    status: str
    placed_at: object


def buyers(batch: HarvestBatch) -> list[Buyer]:
    """Every paid order line that records ``batch``, with who to call, newest first."""
    rows = db.session.execute(
        select(OrderLine.quantity, FarmOrder.status, Order)
        .join(FarmOrder, OrderLine.farm_order_id == FarmOrder.id).join(Order, FarmOrder.order_id == Order.id)
        .where(OrderLine.batch_id == batch.id).order_by(Order.created_at.desc(), Order.id.desc())).all()
    return [Buyer(order.reference, order.buyer_name, order.buyer_phone, quantity, status, order.created_at)
            for quantity, status, order in rows]
