"""``POST /messages/zalo/webhook``: Zalo tells the market a ZNS message reached the recipient's phone.

The callback URL registered on the Zalo app (README "Connecting Zalo"). Zalo signs each event: the header
``X-ZEvent-Signature`` is ``mac=`` followed by the hex SHA-256 of ``app_id + raw body + timestamp + OA secret key``
(ZALO_OA_SECRET_KEY), with ``app_id`` and ``timestamp`` read from the body. Zalo's page shows the header with the
``mac=`` prefix while some integrations compare it without; both forms are accepted (the digest is the same).
An event older or newer than a day is refused (a replayed body). Only ``user_received_message`` is acted on: the
outbox row named by its ``tracking_id`` ("kep-<id>", as the Zalo channel sends it), or else by Zalo's ``msg_id``,
gets its ``delivered_at``. Every other event is answered 200 and ignored. Zalo expects an answer within 2 seconds.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, request
from sqlalchemy import or_, update

from core import inputs
from core.extensions import csrf, db, limiter
from core.outbox import Notification
from core.time import utcnow

bp = Blueprint("zalo_webhook", __name__)
MAX_BODY_BYTES = 64 * 1024
FRESH = timedelta(days=1)


def signature_ok(raw: bytes, body: dict, header: str, secret: str) -> bool:
    supplied = header.strip()
    supplied = supplied[4:] if supplied.lower().startswith("mac=") else supplied
    signed = f"{body.get('app_id', '')}".encode() + raw + f"{body.get('timestamp', '')}{secret}".encode()
    return bool(supplied) and hmac.compare_digest(supplied.lower(), hashlib.sha256(signed).hexdigest())


def _when(milliseconds) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(milliseconds) / 1000, UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@bp.route("/messages/zalo/webhook", methods=["POST"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["WEBHOOK_LIMIT_PER_IP"])
def zalo_event():
    secret = current_app.config.get("ZALO_OA_SECRET_KEY")
    if not secret:
        return {"error": "Zalo is not configured"}, 503
    raw = request.get_data()
    try:
        body = inputs.load_json(raw, max_bytes=MAX_BODY_BYTES, max_depth=6)
    except inputs.BadJSON:
        return {"error": "body is not JSON"}, 400
    if not isinstance(body, dict) or not signature_ok(raw, body, request.headers.get("X-ZEvent-Signature", ""),
                                                      secret):
        return {"error": "bad signature"}, 401
    sent_at = _when(body.get("timestamp"))
    if sent_at is None or abs(utcnow() - sent_at) > FRESH:
        return {"error": "stale or missing timestamp"}, 401
    if body.get("event_name") != "user_received_message":
        return {"ok": True}
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    tracking, msg_id = str(message.get("tracking_id") or ""), str(message.get("msg_id") or "")
    row_id = int(tracking[4:]) if tracking.startswith("kep-") and tracking[4:].isdigit() else None
    match = [Notification.provider_message_id == msg_id] if msg_id else []
    if row_id is not None:
        match.append(Notification.id == row_id)
    if match:
        db.session.execute(update(Notification).where(Notification.channel == "zalo", or_(*match),
                                                      Notification.delivered_at.is_(None))
                           .values(delivered_at=_when(message.get("delivery_time")) or utcnow())
                           .execution_options(synchronize_session=False))
        db.session.commit()
    return {"ok": True}
