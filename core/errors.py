"""Friendly error pages in the user's language."""
from __future__ import annotations

import math
import time

from flask import current_app, g, render_template, request, session
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError,
                            TimeoutError as PoolTimeout)
from werkzeug.exceptions import HTTPException, InternalServerError

from core import transactions
from core.extensions import limiter, login_manager
from core.requestlog import loggable_path

RETRY_AFTER_SECONDS = 30
BUSY_RETRY_AFTER_SECONDS = 5
STATEMENT_TIMEOUT = "57014"  # PostgreSQL cancelled a statement that ran past statement_timeout

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
    503: (_l("The market is briefly unavailable"),
          _l("We could not reach our records for a moment, so this step was not saved. Please try again in a "
             "minute. A payment you have already made is not lost: your order will show it once we are back.")),
}
# Many people changed the same things at once and the retries ran out (a deadlock or a lock wait).
BUSY = (_l("The market is very busy"),
        _l("Many people are doing the same thing right now, so this step was not saved. Please try again in a few "
           "seconds. A payment you have already made is not lost."))


def _retry_minutes() -> int | None:
    current = limiter.current_limit
    if current is None:
        return None
    # reset_at is one second past the end of the window.
    return max(1, math.ceil((current.reset_at - 1 - time.time()) / 60))


def render_error(code: int, message=None, title=None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    title = title or default_title
    minutes = _retry_minutes() if code == 429 else None
    wants_json = request.accept_mimetypes.best == "application/json" or request.path.startswith("/payments/")
    if wants_json:
        return {"error": str(message or default_message)}, code
    return render_template("errors/error.html", code=code, title=title,
                           message=message or default_message, retry_minutes=minutes), code


def _undo_request() -> None:
    """A request that failed changes nothing: its transaction is rolled back, and the browser keeps the
    session it came with (a guest's cart is not emptied by a checkout that was not saved)."""
    transactions.discard_session_changes()
    transactions.restore_session()


def _database_unavailable_page(message=None, title=None, retry_after: int = RETRY_AFTER_SECONDS):
    """The 503 page, rendered without the database if need be (it may be down): the user is shown
    as logged out rather than not at all."""
    try:
        body, code = render_error(503, message, title)
    except SQLAlchemyError:
        _undo_request()
        g._login_user = login_manager.anonymous_user()
        body, code = render_error(503, message, title)
    response = current_app.make_response((body, code))
    response.headers["Retry-After"] = str(retry_after)
    return response


def _busy_page():
    """Lock conflicts that outlasted their retries: "busy, try again" (503, so webhooks are sent again)."""
    title, message = BUSY
    return _database_unavailable_page(message, title, retry_after=BUSY_RETRY_AFTER_SECONDS)


def is_database_unavailable(error: BaseException) -> bool:
    """The database could not be reached, dropped the connection or timed out (not a bug in a query,
    and not a lock conflict: those are retried, see core.transactions)."""
    if transactions.conflict_kind(error) is not None:
        return False
    if isinstance(error, (DisconnectionError, PoolTimeout, OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _l("This form has expired or was not sent from our site. "
                                    "Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if request_ctx.url_adapter is None:  # a Host that is not ours (TRUSTED_HOSTS): no page, no links
            return ("Yêu cầu không hợp lệ: địa chỉ này không thuộc Chợ Dứa Kép.\n"
                    "Bad request: this host is not served here.\n", 400, {"Content-Type": "text/plain; charset=utf-8"})
        if error.code in MESSAGES:
            return render_error(error.code)
        return error

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        kind = transactions.conflict_kind(error)
        if kind is not None:
            app.logger.error("%s on %s %s, still there after %d attempts: %s", kind.capitalize(), request.method,
                             loggable_path(), transactions.ATTEMPTS, getattr(error, "orig", None) or error)
            _undo_request()
            return _busy_page()
        if is_database_unavailable(error):
            what = ("A database statement ran past its timeout" if transactions.sqlstate(error) == STATEMENT_TIMEOUT
                    else "The database could not be reached")
            app.logger.error("%s on %s %s: %s", what, request.method, loggable_path(),
                             getattr(error, "orig", None) or error)
            _undo_request()
            return _database_unavailable_page()
        app.logger.exception("Unhandled error on %s %s", request.method, loggable_path())
        _undo_request()
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return render_error(InternalServerError.code)
