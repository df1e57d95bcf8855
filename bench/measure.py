"""What one page weighs (HTML + its CSS and JS) and how many SQL queries it makes."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from flask import Flask
from sqlalchemy import event

from bench.client import BenchError, HttpSession, csrf_token_from
from bench.pages import SERVER_TIME_RUNS, Page
from core.extensions import db


class _AssetLinks(HTMLParser):
    """Stylesheets and scripts a page makes the browser download (photos, icons, fonts aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (css|js, href as written)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        rel = attributes.get("rel", "").lower().split()
        if tag == "script" and attributes.get("src"):
            self.links.append(("js", attributes["src"]))
        elif tag == "link" and attributes.get("href"):
            if "stylesheet" in rel or ("preload" in rel and attributes.get("as") == "style"):
                self.links.append(("css", attributes["href"]))
            elif "modulepreload" in rel or ("preload" in rel and attributes.get("as") == "script"):
                self.links.append(("js", attributes["href"]))


def asset_links(html: str, page_url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Same-origin ``(kind, absolute url)`` pairs, each once, and the other-origin urls (not counted)."""
    parser = _AssetLinks()
    parser.feed(html)
    origin = urlsplit(page_url)[:2]
    own: list[tuple[str, str]] = []
    foreign: list[str] = []
    for kind, href in parser.links:
        url = urljoin(page_url, href)
        if urlsplit(url)[:2] != origin:
            foreign.append(url)
        elif (kind, url) not in own:
            own.append((kind, url))
    return own, foreign


@dataclass
class Weight:
    html: int = 0
    css: int = 0
    js: int = 0
    assets: list[dict] = field(default_factory=list)
    other_origin: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.html + self.css + self.js


def page_weight(session: HttpSession, body: bytes, path: str) -> Weight:
    """Bytes of the page's HTML plus every same-origin stylesheet and script it links, uncompressed."""
    weight = Weight(html=len(body))
    own, weight.other_origin = asset_links(body.decode("utf-8", errors="replace"), session.base_url + path)
    for kind, url in own:
        parts = urlsplit(url)
        response = session.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if response.status != 200:
            raise BenchError(f"{kind} file {parts.path} linked by {path} answered {response.describe()}")
        setattr(weight, kind, getattr(weight, kind) + len(response.body))
        weight.assets.append({"kind": kind, "path": parts.path, "bytes": len(response.body)})
    return weight


# Transaction control is not a query (and SQLite's explicit BEGIN would count one more than PostgreSQL).
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass
class QueryCount:
    status: int
    queries: int
    statements: list[str]
    server_ms: float = 0.0  # median time of one request, in-process, after the counted one


def _test_client_login(client, email: str, password: str) -> None:
    page = client.get("/login")
    # The test client speaks PREFERRED_URL_SCHEME (https in production): Flask-WTF then wants a Referer.
    answer = client.post("/login", headers={"Referer": page.request.url},
                         data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "email": email,
                               "password": password})
    if answer.status_code not in (302, 303):
        raise BenchError(f"in-process login as {email} failed: HTTP {answer.status_code}")


def count_queries(app: Flask, pages: list[Page], password: str) -> dict[str, QueryCount]:
    """Queries of one request per page, in-process with the test client, after one warm-up request."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    clients = {}
    counts: dict[str, QueryCount] = {}
    try:
        for page in pages:
            client = clients.get(page.login)
            if client is None:
                client = clients[page.login] = app.test_client()
                if page.login:
                    _test_client_login(client, page.login, password)
            client.get(page.path)  # warm-up
            statements.clear()
            response = client.get(page.path)
            queries = [sql for sql in statements if sql.upper() not in _TRANSACTION_CONTROL]
            timings = []
            for _ in range(SERVER_TIME_RUNS):
                started = time.perf_counter()
                client.get(page.path)
                timings.append((time.perf_counter() - started) * 1000)
            counts[page.name] = QueryCount(response.status_code, len(queries), queries, statistics.median(timings))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return counts
