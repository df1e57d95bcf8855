"""GHN's status webhook: ``POST /shipping/ghn/webhook?token=<GHN_WEBHOOK_TOKEN>``.

GHN posts JSON to the callback URL set for the shop (khachhang.ghn.vn, or asked of GHN's support) each time an
order changes: ``OrderCode``, ``Status`` (ready_to_pick, picking, picked, delivering, delivered…), ``Type``
("create", "switch_status", "update_weight", "update_cod", "update_fee"), ``ShopID``, ``Time``, ``Reason``,
``Fee``, ``TotalFee``, ``Warehouse`` and more. GHN's documents describe no signature or header to authenticate
the call, so the URL carries a secret of our own, GHN_WEBHOOK_TOKEN (long and random; compared in constant
time); a call without it is refused (403), and the endpoint answers 503 while it is unset. A ``ShopID`` other
than ours is refused too. Only the status is read: the fee and weight changes are GHN's and the buyer paid the
quoted fee. An unknown order code is answered 200 (logged), so GHN does not retry it forever.
"""
from __future__ import annotations

import hmac
import re

from flask import Blueprint, current_app, request

from core import inputs
from core.extensions import csrf, limiter
from core.time import utcnow
from shop import shipments
from shop.carriers import ghn
from shop.payments.web import webhook_limit

bp = Blueprint("shipping", __name__, url_prefix="/shipping")
MAX_BODY_BYTES = 64 * 1024
_STATUS = re.compile(r"^[a-z_]{1,40}$")


TRACKING_URLS = {"ghn": "https://donhang.ghn.vn/?order_code={code}"}


@bp.app_context_processor
def shipment_helpers() -> dict:
    return {"shipment_status_label": ghn.status_label,
            "shipment_tracking_url": lambda s: TRACKING_URLS.get(s.carrier, "").format(code=s.code) or None}


def _token_ok(secret: str) -> bool:
    given = request.args.get("token", "")
    return hmac.compare_digest(secret.encode(), given.encode())


@bp.route("/ghn/webhook", methods=["POST"])
@csrf.exempt
@limiter.limit(webhook_limit)
def ghn_webhook():
    secret = current_app.config.get("GHN_WEBHOOK_TOKEN") or ""
    if not secret:
        return {"success": False, "message": "GHN's webhook is not configured"}, 503
    if not _token_ok(secret):
        return {"success": False, "message": "wrong token"}, 403
    try:
        body = inputs.load_json(request.get_data(), max_bytes=MAX_BODY_BYTES, max_depth=6)
    except inputs.BadJSON:
        return {"success": False, "message": "body is not JSON"}, 400
    if not isinstance(body, dict):
        return {"success": False, "message": "body is not a JSON object"}, 400
    code, status, shop_id = body.get("OrderCode"), body.get("Status"), body.get("ShopID")
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        return {"success": False, "message": "no OrderCode"}, 400
    if not isinstance(status, str) or not _STATUS.match(status.strip().lower()):
        return {"success": False, "message": "no Status"}, 400
    if shop_id is not None and str(shop_id).strip() != str(current_app.config.get("GHN_SHOP_ID") or "").strip():
        return {"success": False, "message": "not our shop"}, 403
    found = shipments.update_status(ghn.CODE, code.strip(), status.strip().lower(), utcnow(),
                                    shipped_statuses=ghn.SHIPPED)
    if found is None:
        current_app.logger.info("GHN reported %s for an order code we did not book: %s", status, code)
    return {"success": True}
