"""One log line per request, and a request id that ties it to error logs and error pages.

Each request gets an id: the proxy's ``X-Request-ID`` when it sends a plausible one (deploy/nginx sets it to
``$request_id``), else a new random one. The id is sent back in ``X-Request-ID``, shown on error pages
(``g.request_id``) and put on every log record made during the request, so the line a buyer reads to staff
("mã lỗi 3f9c…") finds the traceback. Lines are JSON, one per request, on the ``kep.request`` logger:

    {"event": "request", "method": "GET", "path": "/products", "status": 200, "ms": 12.4,
     "request_id": "3f9c...", "ip": "203.0.113.7"}

Paths are logged as their route (``/password/reset/<token>``, ``/orders/<public_id>``), never with the values
in them, and the query string is left out: both can carry a reset or registration token, a ticket code or a
guest's order key, which would let anyone who reads the logs use them (``loggable_path``).
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time

from flask import Flask, g, has_request_context, request

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_LOGGER = "kep.request"


def loggable_path() -> str:
    """The request's path for a log line: the route it matched, with no token in it; an address that matched
    no route is cut to its first part."""
    rule = request.url_rule
    if rule is not None:
        return rule.rule
    return "/" + request.path.lstrip("/").split("/", 1)[0][:40] + ("/…" if request.path.count("/") > 1 else "")


def _request_id() -> str:
    offered = request.headers.get("X-Request-ID", "")
    return offered if _REQUEST_ID.fullmatch(offered) else secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                "logger": record.name, "request_id": getattr(record, "request_id", "-")}
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _configure_logging(app: Flask) -> None:
    """JSON lines on stderr for the app's and the request logger (once per process), instead of Flask's
    default handler."""
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    for logger in (app.logger, logging.getLogger(REQUEST_LOGGER)):
        if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def init_request_log(app: Flask) -> None:
    if not app.testing:
        _configure_logging(app)
    log = logging.getLogger(REQUEST_LOGGER)

    @app.before_request
    def _start() -> None:
        g.request_id = _request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        request_id = getattr(g, "request_id", None) or _request_id()
        response.headers["X-Request-ID"] = request_id
        started = getattr(g, "request_started", None)
        elapsed = round((time.perf_counter() - started) * 1000, 1) if started else None
        log.info("request", extra={"fields": {
            "event": "request", "method": request.method, "path": loggable_path(), "status": response.status_code,
            "ms": elapsed, "request_id": request_id, "ip": request.remote_addr}})
        return response
