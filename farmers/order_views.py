"""The farmer's orders to prepare: the list by status, one order with its next steps, and packing lists.

Whose orders: the farmer's own approved farm, or for commune staff the farm named by ``?farm=<farm id>`` (the pattern
of the product screens, farmers/product_views.py; ``url_for`` carries it on every link and form of this blueprint).
Staff may also act for a suspended farm, whose paid orders still have to be prepared or cancelled and refunded.
Staff steps are audit-logged with ``on_behalf_of`` the farm's owner.

Orders not paid yet (waiting for payment, expired, or cancelled before payment) are not the farm's business: they
are neither listed nor shown. The steps themselves (ready, completed, cancelled with a refund) are the rules of
shop.payments; these views check that the order is still at the step the button is for (a second click or a
stale page changes nothing and says where the order is), call one service, commit once, and say what happened.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from accounts.farms import Farm
from core import inputs
from core.extensions import db
from core.labels import ORDER_STATUSES
from core.time import utcnow
from core.transactions import on_domain_error
from farmers import acting
from farmers.order_forms import CANCEL_REASONS, CancelForm, StepForm
from shop import batches, carriers, payments, shipments
from shop.order_models import FarmOrder, Order, OrderLine
from shop.payment_models import Payment, Refund

bp = Blueprint("farmer_orders", __name__, url_prefix="/farmer/orders")

# The tabs, in the order the farmer works through them.
TABS = ("paid", "ready", "completed", "cancelled")
TAB_LABELS = {"paid": _l("To prepare"), "ready": _l("Ready"), "completed": _l("Completed"),
              "cancelled": _l("Cancelled")}
PER_PAGE = 30
# Farms staff may act for: approved ones, and suspended ones that may still have paid orders to settle.
STAFF_FARM_STATUSES = ("approved", "suspended")
# Endpoints about one farm order: staff arriving without ``?farm=`` (from a notice link) are sent to its farm.
_ONE_ORDER_ENDPOINTS = {"farmer_orders.detail", "farmer_orders.packing_list", "farmer_orders.cancel"}


# --- whose orders ----------------------------------------------------------------------------------------------

@bp.before_request
@login_required
def load_farm():
    """The farm in hand: the farmer's own, or for staff the one named by ``?farm=``."""
    return acting.enter(("approved",), "farmers/orders_unavailable.html", choose=_staff_without_farm,
                        staff_statuses=STAFF_FARM_STATUSES)


acting.keep_farm_parameter(bp)


def _staff_without_farm():
    if request.endpoint == "farmer_orders.index":
        farms = db.session.scalars(select(Farm).where(Farm.status.in_(STAFF_FARM_STATUSES))
                                   .order_by(Farm.name)).all()
        return render_template("farmers/orders_farms.html", farms=farms)
    farm_order_id = (request.view_args or {}).get("farm_order_id")
    if request.method == "GET" and request.endpoint in _ONE_ORDER_ENDPOINTS and farm_order_id is not None:
        farm_id = db.session.scalar(select(FarmOrder.farm_id).where(FarmOrder.id == farm_order_id))
        if farm_id is not None:
            return redirect(url_for(request.endpoint, farm_order_id=farm_order_id, farm=farm_id))
    abort(404)


@bp.context_processor
def template_helpers() -> dict:
    return {"tab_label": lambda tab: TAB_LABELS.get(tab, tab),
            "cancel_reason_label": _cancel_reason_label}


def _cancel_reason_label(reason: str | None) -> str:
    code = (reason or "").removeprefix("farm_")
    return str(CANCEL_REASONS.get(code, "")) if code else ""


def _actor():
    return current_user._get_current_object()


def _on_behalf_of():
    """The farm's owner when staff act for the farm (for the audit log); None when the farmer acts."""
    return g.farm.owner if g.acting_for_farm is not None else None


# --- reading -------------------------------------------------------------------------------------------------

def _visible():
    """Farm orders of the farm in hand that were paid: the ones the farmer has to know about."""
    return (FarmOrder.farm_id == g.farm.id, FarmOrder.status.in_(TABS), Order.paid_at.is_not(None))


def _farm_order(farm_order_id: int, *, with_lines: bool = False) -> FarmOrder:
    """The farm order if it is the farm's and was paid; 404 otherwise (other farms' orders do not exist here)."""
    query = (select(FarmOrder).join(FarmOrder.order).options(contains_eager(FarmOrder.order))
             .where(FarmOrder.id == farm_order_id, *_visible()))
    if with_lines:
        query = query.options(selectinload(FarmOrder.lines).joinedload(OrderLine.slot))
    farm_order = db.session.scalar(query)
    if farm_order is None:
        abort(404)
    return farm_order


def _tab_counts() -> dict[str, int]:
    rows = db.session.execute(select(FarmOrder.status, func.count()).join(FarmOrder.order)
                              .where(*_visible()).group_by(FarmOrder.status)).all()
    counts = dict.fromkeys(TABS, 0)
    counts.update({status: count for status, count in rows})
    return counts


def _page_of(tab: str, page: int) -> list[tuple[FarmOrder, int]]:
    """One page of the tab's farm orders with their number of lines, in one query.

    To prepare and ready: the oldest payment first (the order to work in). Completed and cancelled: the latest
    change first."""
    line_count = (select(func.count(OrderLine.id)).where(OrderLine.farm_order_id == FarmOrder.id)
                  .correlate(FarmOrder).scalar_subquery())
    if tab in ("paid", "ready"):
        order_by = (Order.paid_at.asc(), FarmOrder.id.asc())
    else:
        order_by = (FarmOrder.updated_at.desc(), FarmOrder.id.desc())
    query = (select(FarmOrder, line_count).join(FarmOrder.order).options(contains_eager(FarmOrder.order))
             .where(*_visible(), FarmOrder.status == tab).order_by(*order_by)
             .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return [(farm_order, count) for farm_order, count in db.session.execute(query).all()]


def _orders_to_prepare() -> list[FarmOrder]:
    return list(db.session.scalars(
        select(FarmOrder).join(FarmOrder.order).options(contains_eager(FarmOrder.order),
                                                        selectinload(FarmOrder.lines).joinedload(OrderLine.slot))
        .where(*_visible(), FarmOrder.status == "paid").order_by(Order.paid_at, FarmOrder.id)))


@dataclass
class PackingTotal:
    """One product over every order to prepare."""
    name: str
    unit: str
    quantity: int = 0
    orders: set[int] = field(default_factory=set)


def _packing_totals(farm_orders: list[FarmOrder]) -> list[PackingTotal]:
    """Quantities per product (visits are not packed: they have their own list of guests in the tour pages)."""
    totals: dict[tuple[int | None, str], PackingTotal] = {}
    for farm_order in farm_orders:
        for line in farm_order.lines:
            if line.is_visit:
                continue
            total = totals.setdefault((line.product_id, line.unit), PackingTotal(line.name, line.unit))
            total.quantity += line.quantity
            total.orders.add(farm_order.id)
    return sorted(totals.values(), key=lambda total: total.name.lower())


# --- pages ---------------------------------------------------------------------------------------------------

@bp.route("", strict_slashes=False)
def index():
    tab = request.args.get("status", "paid")
    if tab not in TABS:
        tab = "paid"
    counts = _tab_counts()
    pages = max(1, math.ceil(counts[tab] / PER_PAGE))
    page = min(inputs.parse_page(request.args.get("page")), pages)
    return render_template("farmers/orders.html", farm=g.farm, tab=tab, tabs=TABS, counts=counts,
                           rows=_page_of(tab, page), page=page, pages=pages)


@bp.route("/<int:farm_order_id>")
def detail(farm_order_id: int):
    farm_order = _farm_order(farm_order_id, with_lines=True)
    refund = None
    if farm_order.status == "cancelled":
        refund = db.session.scalar(select(Refund).where(Refund.farm_order_id == farm_order.id)
                                   .order_by(Refund.id.desc()).limit(1))
    return render_template("farmers/orders_detail.html", farm=g.farm, farm_order=farm_order,
                           order=farm_order.order, refund=refund, step_form=StepForm(),
                           batch_choices=batches.choices_for(farm_order) if g.acting_for_farm is None else {},
                           shipment=shipments.shipment_of(farm_order),
                           can_ship=carriers.configured() is not None and shipments.bookable(farm_order))


@bp.route("/<int:farm_order_id>/packing-list")
def packing_list(farm_order_id: int):
    farm_order = _farm_order(farm_order_id, with_lines=True)
    return render_template("farmers/orders_packing.html", farm=g.farm, farm_orders=[farm_order],
                           totals=None, single=True, printed_at=utcnow())


@bp.route("/packing-list")
def packing_list_all():
    farm_orders = [fo for fo in _orders_to_prepare() if any(not line.is_visit for line in fo.lines)]
    return render_template("farmers/orders_packing.html", farm=g.farm, farm_orders=farm_orders,
                           totals=_packing_totals(farm_orders), single=False, printed_at=utcnow())


# --- steps -----------------------------------------------------------------------------------------------------

def _back(farm_order_id: int):
    return redirect(url_for(".detail", farm_order_id=farm_order_id))


def _no_longer_possible(farm_order: FarmOrder) -> None:
    """A second click, a stale page or a step that does not follow: say where the order is; nothing changes."""
    flash(_l("This order is now “%(status)s”, so that step is not possible. Nothing was changed.",
             status=ORDER_STATUSES.get(farm_order.status, farm_order.status)), "error")


def _move(farm_order_id: int, from_state: str, to_state: str, done_message):
    farm_order = _farm_order(farm_order_id)  # the CSRF token is checked by CSRFProtect before any view
    if farm_order.status != from_state:
        _no_longer_possible(farm_order)
    else:
        payments.move_farm_order(farm_order, to_state, _actor(), utcnow(), on_behalf_of=_on_behalf_of())
        flash(done_message, "success")
    return _back(farm_order_id)


@bp.route("/<int:farm_order_id>/ready", methods=["POST"])
@on_domain_error(lambda farm_order_id: _back(farm_order_id))
def ready(farm_order_id: int):
    return _move(farm_order_id, "paid", "ready",
                 _l("Marked ready. The buyer gets a message that the order can be picked up or is on its way."))


@bp.route("/<int:farm_order_id>/complete", methods=["POST"])
@on_domain_error(lambda farm_order_id: _back(farm_order_id))
def complete(farm_order_id: int):
    return _move(farm_order_id, "ready", "completed", _l("Done: the order is picked up or delivered."))


@bp.route("/<int:farm_order_id>/ship", methods=["POST"])
@on_domain_error(lambda farm_order_id: _back(farm_order_id))
def ship(farm_order_id: int):
    """Book the carrier's pickup of a paid parcel (shop.shipments); a refusal books nothing and says why."""
    farm_order = _farm_order(farm_order_id, with_lines=True)
    shipment = shipments.book(farm_order, _actor(), utcnow(), on_behalf_of=_on_behalf_of())
    flash(_l("Booked with %(carrier)s: tracking code %(code)s. Have the parcel packed for the pickup.",
             carrier=shipment.carrier.upper(), code=shipment.code), "success")
    return _back(farm_order_id)


@bp.route("/<int:farm_order_id>/cancel", methods=["GET", "POST"])
@on_domain_error(lambda farm_order_id: _back(farm_order_id))
def cancel(farm_order_id: int):
    """A confirmation page with a required reason; the buyer is refunded in full."""
    farm_order = _farm_order(farm_order_id, with_lines=True)
    if farm_order.status != "paid":
        _no_longer_possible(farm_order)
        return _back(farm_order_id)
    form = CancelForm()
    if form.validate_on_submit():
        refund = payments.cancel_paid_farm_order(farm_order, _actor(), utcnow(), form.refund_reason,
                                                 on_behalf_of=_on_behalf_of())
        flash(payments.registry.refund_message(refund, "farm_order_cancelled"), "success")
        return _back(farm_order_id)
    paid_with = db.session.scalar(select(Payment.provider).where(Payment.order_id == farm_order.order_id,
                                                                 Payment.status == "succeeded").order_by(Payment.id))
    refund_note = payments.registry.get(paid_with).refund_wording["before_cancelling"] if paid_with else None
    return render_template("farmers/orders_cancel.html", farm=g.farm, farm_order=farm_order,
                           order=farm_order.order, form=form, refund_note=refund_note)
