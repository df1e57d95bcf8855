"""The ``payments`` blueprint and what its pages share: who may see an order, its secret-link key, no caching,
and messages sent once the payment has committed. The pay page is in shop/payment_views.py; each provider
adds its own routes (webhook, return page) to this blueprint, and each bank-notification service (banks/) its
endpoint."""
from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from core import outbox
from core.extensions import db
from core.transactions import after_commit
from shop.order_models import Order

bp = Blueprint("payments", __name__)

MAIL_BUDGET_SECONDS = 10  # mail sent at the end of a request stops starting new messages after this


def webhook_limit() -> str:
    return current_app.config["WEBHOOK_LIMIT_PER_IP"]


def order_for_viewer(public_id: str) -> Order:
    """The order, if the viewer may see it: its buyer, commune staff, or whoever has its secret
    link (``?key=``, compared in constant time). Anyone else gets 404, as if it did not exist."""
    order = db.session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None:
        abort(404)
    if current_user.is_authenticated and (current_user.is_admin or order.user_id == current_user.id):
        return order
    if _key_matches(order):
        return order
    abort(404)


def _key_matches(order: Order) -> bool:
    key = request.args.get("key", "")
    return bool(key) and hmac.compare_digest(key.encode(), order.secret.encode())


def key_args(order: Order) -> dict:
    """Carry the secret link key on to the next page, when the viewer came with it."""
    return {"key": order.secret} if _key_matches(order) else {}


def no_store(response):
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def deliver_after_commit() -> None:
    """Once the request that moved money has committed, send the outbox when mail is configured, within a time
    budget. Refunds are not sent from the request (``flask send-refunds`` sends them, so a slow provider never
    holds the page); what is not sent stays queued for ``flask send-notifications``. Where ``flask worker`` runs
    (OUTBOX_WORKER), the request leaves it to the worker."""
    after_commit(_send_outbox)


def _send_outbox() -> None:
    if current_app.config.get("MAIL_SERVER") and not current_app.config.get("OUTBOX_WORKER"):
        outbox.send_pending(limit=20, time_budget_seconds=MAIL_BUDGET_SECONDS)
