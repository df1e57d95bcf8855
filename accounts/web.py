"""What the account pages share: the blueprint and the session steps of logging in and out."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

bp = Blueprint("accounts", __name__)

# Session keys that survive logging in (everything else is dropped, so the session changes); "shares": the farms'
# shared links the visitor came through (shop/referrals.py), so logging in to order keeps the farmer's credit.
KEPT_AT_LOGIN = ("lang", "cart", "shares")


def _new_session_id() -> None:
    """The session gets a new id when it is saved (its old row is deleted): no session fixation."""
    regenerate = getattr(session, "regenerate", None)
    if regenerate is not None:
        regenerate()


def _start_session(user, remember: bool) -> None:
    """Log ``user`` in on a new session id. "Remember me" is a persistent session cookie whose row expires
    with it (no separate remember-me cookie that would outlive a logout); a fresh CSRF secret comes with it."""
    kept = {key: session[key] for key in KEPT_AT_LOGIN if key in session}
    session.clear()
    session.update(kept)
    _new_session_id()
    session.permanent = bool(remember)
    login_user(user)
    g.pop("csrf_token", None)
    generate_csrf()


def _current_key() -> str | None:
    return getattr(session, "key", None)


def _forget_current_row() -> None:
    forget = getattr(session, "forget_row", None)
    if forget is not None:
        forget()


def _password_reset_done(user):
    """After a new password: the session that chose it ends too if it was the account's own (every other one
    ended with the old password), and the person logs in with the new one."""
    if current_user.is_authenticated and current_user.id == user.id:
        _forget_current_row()
        logout_user()
        _new_session_id()
    flash(_l("Your new password is saved. Log in with it now."), "success")
    return redirect(url_for("accounts.login"))


def _no_store(response):
    """The reset pages carry a token in their address: not cached, not sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
