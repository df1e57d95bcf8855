"""Cart, checkout and the buyer's orders: thin views over shop.cart and shop.checkout."""
from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, user_logged_in
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import selectinload

from core import inputs, places, transactions
from core.extensions import db
from core.labels import UNITS
from core.time import utcnow
from core.transactions import on_domain_error
from core.urls import public_url, safe_next
from shop import addresses as addresses_service
from shop import cart as carts
from shop import checkout, checkout_summary, credits, notices
from shop import lines as line_kinds
from shop.models import Product
from shop.order_forms import checkout_form
from shop.order_models import CartItem, FarmOrder, Order, OrderLine
from shop.payments import registry, statement
from shop.payments.providers import credit as credit_provider
from shop.product_lines import PRODUCTS

bp = Blueprint("orders", __name__)

ORDERS_PER_PAGE = 20
TOKENS_KEPT = 5  # checkout pages open at once (tabs) whose token is still accepted


# -- the cart in every page's navigation, and the guest cart at login --------

@bp.app_context_processor
def _cart_count():
    def cart_count() -> int:
        """Lines in the cart: the session for guests, one COUNT for a logged-in buyer."""
        if current_user.is_authenticated:
            try:
                return db.session.scalar(select(func.count()).select_from(CartItem)
                                         .where(CartItem.user_id == current_user.id)) or 0
            except SQLAlchemyError:  # an error page after a failed transaction still renders
                return 0
        items = session.get("cart")
        return len(items) if isinstance(items, dict) else 0
    return {"cart_count": cart_count}


@user_logged_in.connect
def _merge_guest_cart(sender, user, **_extra) -> None:
    """What a guest put in the cart follows them into their account when they log in or register."""
    if session.get("cart"):
        carts.merge_into_account(session, user)  # committed with the login request


def _store():
    return carts.store_for(current_user, session)


# -- cart ----------------------------------------------------------------------

@bp.route("/cart", methods=["GET", "POST"])
def cart():
    store = _store()
    if request.method == "POST":
        if request.form.get("remove"):
            return _remove(store, request.form["remove"])
        errors, entered = _update_quantities(store)
        if errors:
            return render_template("orders/cart.html", cart=carts.load(store, utcnow()), errors=errors,
                                   entered=entered), 400
        return redirect(url_for("orders.cart"))
    return render_template("orders/cart.html", cart=carts.load(store, utcnow()), errors={}, entered={})


def _update_quantities(store) -> tuple[dict, dict]:
    """Apply every changed quantity, or none of them: per-line errors and what was typed, when any fails.

    A line whose quantity is unchanged is left alone, except that a changed price is confirmed.
    """
    saved = session.get("cart")
    errors, entered = {}, {}
    for line in carts.load(store, utcnow()).lines:
        raw = request.form.get(f"quantity-{line.key}")
        if line.product is None or raw is None:
            continue
        entered[line.key] = raw
        if raw.strip() == str(line.quantity) and not line.price_changed:
            continue
        try:
            carts.set_product_quantity(store, line.product.id, raw)
        except carts.CartError as error:
            errors[line.key] = error.message
    if errors:
        transactions.fail()
        if saved is None:
            session.pop("cart", None)
        else:
            session["cart"] = saved
        return errors, entered
    flash(_l("Your cart is updated."), "success")
    return {}, {}


def _remove(store, key: str):
    if key in store.items():
        carts.remove(store, key)
        flash(_l("The line was removed from your cart."), "success")
    return redirect(url_for("orders.cart"))


def _back_to_product():
    return redirect(safe_next(request.form.get("next"), _product_page_or_cart(request.form.get("product_id"))))


@bp.route("/cart/add", methods=["POST"])
@on_domain_error(_back_to_product)  # a CartError: its message, on the page the buyer came from
def add():
    store = _store()
    product_id = request.form.get("product_id")
    product = carts.add_product(store, product_id, request.form.get("quantity"))
    quantity = int(store.items()[line_kinds.key(PRODUCTS, product.id)]["q"])
    flash(_l("%(name)s is in your cart (%(quantity)d %(unit)s).", name=product.name, quantity=quantity,
             unit=UNITS.get(product.unit, product.unit)), "success")
    return redirect(safe_next(request.form.get("next"), url_for("shop.product", slug=product.slug)))


def _product_page_or_cart(product_id) -> str:
    ident = inputs.parse_id(product_id)
    product = db.session.get(Product, ident) if ident is not None else None
    if product is not None and product.status == "active" and product.farm.status == "approved":
        return url_for("shop.product", slug=product.slug)
    return url_for("orders.cart")


@bp.route("/cart/remove", methods=["POST"])
def remove():
    return _remove(_store(), request.form.get("key", ""))


# -- checkout ------------------------------------------------------------------

@bp.route("/checkout", methods=["GET", "POST"])
def checkout_page():
    store = _store()
    cart = carts.load(store, utcnow())
    addresses = saved_addresses(current_user)
    form = checkout_form(cart, providers=_providers(), addresses=addresses, **_contact_defaults())
    if request.method == "GET" and addresses:
        form.address_id.data = str(addresses[-1].id)  # the newest saved address, until another is chosen
    if request.method == "POST":
        token = form.checkout_token.data or ""
        if token not in session.get("checkout_tokens", []):
            flash(_l("This checkout page is out of date. Please check your order and confirm again."), "error")
            return redirect(url_for("orders.checkout_page"))
        placed = checkout.find_by_token(token)
        if placed is not None:  # a double click, a refresh, or an answer lost: the order is already there
            pay_url = _pay_url(placed)
            store.clear()  # a guest's cart comes back with the session when the first answer was an error
            return redirect(pay_url)
    if cart.is_empty:
        flash(_l("Your cart is empty."), "info")
        return redirect(url_for("orders.cart"))
    if cart.has_problems:
        flash(_l("Some lines of your cart changed. Please check them before paying."), "error")
        return redirect(url_for("orders.cart"))
    if request.method == "GET" or request.form.get("recalculate"):
        return _render_checkout(form, cart, addresses)
    valid = form.validate_on_submit()
    summary = checkout_summary.summarize(cart, form, addresses)
    if "delivery" in summary.chosen.values() and form.address_id.data in (None, "", "new"):
        valid = not form.place_errors() and valid
    if not valid:
        return _render_checkout(form, cart, addresses), 400
    return _place(store, form, summary, addresses)


@bp.route("/checkout/quote", methods=["POST"])
def checkout_quote():
    """The live summary for the choices in the posted checkout form (static/js/checkout.js): JSON, nothing
    stored. An empty or changed cart answers 409 and the page's own submit takes over."""
    cart = carts.load(_store(), utcnow())
    if cart.is_empty or cart.has_problems:
        return {"error": "cart"}, 409
    addresses = saved_addresses(current_user)
    form = checkout_form(cart, providers=_providers(), addresses=addresses)
    return checkout_summary.as_json(cart, checkout_summary.summarize(cart, form, addresses))


def _providers() -> list:
    """The ways to pay offered: the enabled providers, and visit credit for a signed-in buyer who has some (it is
    taken only when it covers the whole order: shop/credits.py)."""
    offered = registry.enabled()
    if current_user.is_authenticated and credits.balance(current_user.id, utcnow()).amount_vnd > 0:
        offered = [*offered, registry.get(credit_provider.CODE)]
    return offered


def saved_addresses(user) -> list:
    return addresses_service.of(user)


def _place(store, form, summary, addresses):
    farms = form.receiving_farms
    token = form.checkout_token.data
    buyer = checkout.Buyer(name=form.name.data.strip(), phone=form.phone.data, email=(form.email.data or "").strip(),
                           note=(form.note.data or "").strip(), locale=str(get_locale()))
    try:
        order = checkout.place_order(
            store, buyer=buyer, fulfilments=form.chosen_fulfilments(farms), payment_method=form.payment_method.data,
            shown_total=form.confirmed_total(farms), checkout_token=token,
            user=current_user if current_user.is_authenticated else None, now=utcnow(),
            hold_minutes=current_app.config["ORDER_HOLD_MINUTES"], origin=_origin(),
            limits=checkout.UnpaidLimits.from_config(current_app.config), destination=summary.destination)
        if order.payment_method == credit_provider.CODE:  # paid at once, or nothing is placed
            credits.pay_order(order, current_user.id if current_user.is_authenticated else None, utcnow())
        if form.save_address.data and current_user.is_authenticated and form.address_id.data in (None, "", "new") \
                and order.ship_street and len(addresses) < addresses_service.MAX_ADDRESSES:
            addresses_service.keep(current_user, summary.destination)
        notices.order_placed(order)
        reference, pay_url = order.reference, _pay_url(order)
    except checkout.CheckoutError as error:
        transactions.start_over()
        if error.reason == "unpaid_limit":
            placed = checkout.find_by_token(token)  # the same page submitted twice at once: the other placed it
            if placed is not None:
                store.clear()
                return redirect(_pay_url(placed))
            flash(_unpaid_limit_message(error), "error")
            return _render_checkout(form, carts.load(store, utcnow()), addresses), 409
        flash(error.message, "error")
        if error.reason in ("empty", "stale", "sold_out"):
            return redirect(url_for("orders.cart"))
        if error.reason == "total_changed":  # the confirm step: the page again, the final total on its button
            return _render_checkout(form, carts.load(store, utcnow()), addresses, confirm=True), 409
        return _render_checkout(form, carts.load(store, utcnow()), addresses), 400
    except IntegrityError:  # the same page submitted twice at once: the other request placed the order
        transactions.start_over()
        order = checkout.find_by_token(token)
        if order is None:
            raise
        store.clear()
        return redirect(_pay_url(order))
    flash(_l("Thank you! Your order %(ref)s is placed. Please pay within %(minutes)d minutes.",
             ref=reference, minutes=current_app.config["ORDER_HOLD_MINUTES"]), "success")
    return redirect(pay_url)


def _origin() -> checkout.Origin:
    """The client address (made proxy-aware by ProxyFix) and this browser session's own random key."""
    key = session.get("order_origin")
    if not isinstance(key, str) or not key:
        key = session["order_origin"] = secrets.token_urlsafe(16)
    return checkout.Origin(address=request.remote_addr or "", session=key)


def _unpaid_limit_message(error: checkout.CheckoutError) -> Markup:
    """The refusal, with a link to the buyer's own open order when there is one they may open."""
    message = Markup.escape(error.message)
    if error.open_order is None:
        return message
    link = Markup('<a href="{}">{}</a>').format(_pay_url(error.open_order),
                                                _("Open order %(ref)s", ref=error.open_order.reference))
    return message + Markup(" ") + link


def _contact_defaults() -> dict:
    if not current_user.is_authenticated:
        return {}
    return {"name": current_user.full_name, "phone": current_user.phone, "email": current_user.email}


def _render_checkout(form, cart, addresses, *, confirm: bool = False):
    token = secrets.token_urlsafe(24)
    session["checkout_tokens"] = [*session.get("checkout_tokens", []), token][-TOKENS_KEPT:]
    summary = checkout_summary.summarize(cart, form, addresses)
    form.show(cart, token, summary.quoted)
    return render_template("orders/checkout.html", form=form, cart=cart, summary=summary,
                           per_farm=summary.per_farm, total=summary.total, addresses=addresses, confirm=confirm,
                           places=places, days_text=checkout_summary.days_text,
                           button_text=checkout_summary.button_text,
                           unavailable=[p for p in registry.offered() if not p.enabled()])


def _pay_url(order: Order) -> str:
    endpoint = "payments.pay" if "payments.pay" in current_app.view_functions else "orders.detail"
    return url_for(endpoint, public_id=order.public_id, key=order.secret)


# -- the buyer's orders ----------------------------------------------------------

def viewable_order(public_id: str, key: str | None, user) -> Order | None:
    """The order if ``user`` owns it, is staff, or holds the secret link key; else None.

    Farm orders, their farms and lines come with it (a constant number of queries).
    """
    order = db.session.scalar(
        select(Order).where(Order.public_id == public_id)
        .options(selectinload(Order.farm_orders).joinedload(FarmOrder.farm),
                 selectinload(Order.farm_orders).selectinload(FarmOrder.lines).joinedload(OrderLine.slot),
                 selectinload(Order.farm_orders).selectinload(FarmOrder.lines).joinedload(OrderLine.batch)))
    if order is None:
        return None
    if user is not None and user.is_authenticated and (user.is_admin or order.user_id == user.id):
        return order
    if key_matches(order, key):
        return order
    return None


def key_matches(order: Order, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(str(key).encode(), order.secret.encode())


def _order_or_404(public_id: str) -> tuple[Order, str | None]:
    """The order and the key to keep in its links (only when it was opened through the secret link)."""
    key = request.values.get("key")
    order = viewable_order(public_id, key, current_user)
    if order is None:
        abort(404)
    return order, key if key_matches(order, key) else None


@bp.route("/orders")
@login_required
def mine():
    page = inputs.parse_page(request.args.get("page"), high=9_999)
    orders = db.session.scalars(
        select(Order).where(Order.user_id == current_user.id)
        .options(selectinload(Order.farm_orders).joinedload(FarmOrder.farm))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(ORDERS_PER_PAGE + 1).offset((page - 1) * ORDERS_PER_PAGE)).all()
    return render_template("orders/list.html", orders=orders[:ORDERS_PER_PAGE], page=page,
                           has_more=len(orders) > ORDERS_PER_PAGE, now=utcnow())


@bp.route("/orders/<public_id>")
def detail(public_id: str):
    order, key = _order_or_404(public_id)
    now = utcnow()
    payable = order.status == "pending_payment" and not order.is_overdue(now)
    pay_url = url_for("payments.pay", public_id=order.public_id, key=key) \
        if payable and "payments.pay" in current_app.view_functions else None
    guest_link = public_url("orders.detail", public_id=order.public_id, key=key) \
        if key and order.user_id is None else None
    money = statement.order_money(order)
    return render_template("orders/detail.html", order=order, key=key, now=now, payable=payable,
                           pay_url=pay_url, guest_link=guest_link, money=money, status=money.status(order, now),
                           show_reference=registry.get(order.payment_method).transfer_reference)


@bp.route("/orders/<public_id>/receipt")
def receipt(public_id: str):
    order, key = _order_or_404(public_id)
    if order.status != "paid":
        abort(404)
    return render_template("orders/receipt.html", order=order, key=key)
