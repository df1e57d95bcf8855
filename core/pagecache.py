"""A short-lived cache of public pages as anonymous visitors see them.

Public pages (home, catalogue, product, farm, visits) are the same for every visitor who is not
logged in, has an empty cart and no message waiting, so their HTML is kept for a few seconds
(PAGE_CACHE_SECONDS; 0 turns it off) per address and language. Anything personal stays out of
the cached HTML: the CSRF token of the visitor's session is put in at every request. Stock and
prices may show up to that many seconds late; the cart and checkout always read the database.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

_TOKEN_MARK = "\x00csrf-token\x00"
MAX_PAGES = 2000


class PageCache:
    def __init__(self, max_pages: int = MAX_PAGES):
        self._pages: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_pages = max_pages

    def get(self, key: tuple, now: float) -> str | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None or entry[0] <= now:
                return None
            self._pages.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, html: str, expires: float) -> None:
        with self._lock:
            self._pages[key] = (expires, html)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def _anonymous_and_plain() -> bool:
    return (request.method in ("GET", "HEAD") and not current_user.is_authenticated
            and not session.get("cart") and not session.get("_flashes"))


def cached_page(view):
    """Serve ``view``'s HTML from the cache for anonymous visitors (see the module's notes)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config.get("PAGE_CACHE_SECONDS", 0)
        if not seconds or not _anonymous_and_plain():
            return view(*args, **kwargs)
        cache: PageCache = current_app.extensions["page_cache"]
        key = (request.host, request.full_path, str(get_locale()))  # host: absolute links in the page
        now = time.monotonic()
        html = cache.get(key, now)
        if html is None:
            g.page_cache_render = True
            try:
                result = view(*args, **kwargs)
            finally:
                g.page_cache_render = False
            if not isinstance(result, str):
                return result  # a redirect, an error page or a response with its own status: not cached
            html = result
            cache.put(key, html, now + seconds)
        return html.replace(_TOKEN_MARK, generate_csrf()) if _TOKEN_MARK in html else html
    return wrapper


def _csrf_token() -> str:
    """The templates' ``csrf_token()``: a mark while a page is rendered for the cache."""
    return _TOKEN_MARK if g.get("page_cache_render") else generate_csrf()


def init_page_cache(app) -> None:
    app.extensions["page_cache"] = PageCache()
    # Flask-WTF offers ``csrf_token`` both as a global and from a context processor: replace both
    # (this runs after CSRFProtect.init_app, so this context processor wins).
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.context_processor(lambda: {"csrf_token": _csrf_token})
