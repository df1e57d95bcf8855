"""Language choice: ``?lang=`` switches and is remembered in the session."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape

from core.extensions import db

# Flask-Babel's lazy strings call themselves safe HTML (``__html__`` returns the text as is), so a
# lazy message with a farm or product name in it would reach the page unescaped. Escape instead:
# our messages never carry markup, and escaping plain text changes nothing.
LazyString.__html__ = lambda self: str(escape(str(self)))


def remember_choice() -> None:
    """``before_request``: keep a ``?lang=`` choice in the session and on the account."""
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"] and session.get("lang") != chosen:
        session["lang"] = chosen
        if current_user.is_authenticated and current_user.locale != chosen:
            current_user.locale = chosen
            db.session.commit()  # before the view: the choice is kept even when the page then fails


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in languages:
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def lang_url(code: str) -> str:
    """The current page in another language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def register(app) -> None:
    app.before_request(remember_choice)
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()), lang_url=lang_url)
