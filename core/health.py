"""``GET /healthz``: 200 when the database answers, 503 otherwise. No secrets, no rate limit, no session."""
from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(select(1))  # a read: nothing to commit, the request's end closes it
    except SQLAlchemyError as error:
        current_app.logger.warning("Health check: the database did not answer: %s", getattr(error, "orig", error))
        db.session.remove()
        return {"status": "unavailable", "database": "down"}, 503, {"Cache-Control": "no-store", "Retry-After": "30"}
    return {"status": "ok", "database": "ok"}, 200, {"Cache-Control": "no-store"}
