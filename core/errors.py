"""Friendly error pages in the user's language."""
from __future__ import annotations

import math
import time

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from core.extensions import db, limiter

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("We could not find this page. It may have been moved or removed.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way. Please use the buttons on the page.")),
    413: (_l("File too large"),
          _l("What you sent is too large. Photos may be at most 15 MB each; please send fewer or smaller photos.")),
    429: (_l("Too many attempts"), _l("Please wait a little and try again.")),
    500: (_l("Something went wrong"),
          _l("Sorry, something went wrong on our side. Nothing was charged; please try again in a moment.")),
}


def _retry_minutes() -> int | None:
    current = limiter.current_limit
    if current is None:
        return None
    # reset_at is one second past the end of the window.
    return max(1, math.ceil((current.reset_at - 1 - time.time()) / 60))


def render_error(code: int, message=None):
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    minutes = _retry_minutes() if code == 429 else None
    wants_json = request.accept_mimetypes.best == "application/json" or request.path.startswith("/payments/")
    if wants_json:
        return {"error": str(message or default_message)}, code
    return render_template("errors/error.html", code=code, title=title,
                           message=message or default_message, retry_minutes=minutes), code


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _l("This form has expired or was not sent from our site. "
                                    "Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code in MESSAGES:
            return render_error(error.code)
        return error

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return render_error(InternalServerError.code)
