"""The database dies while a request ends, or hangs: the real WSGI app still answers with a page (the one it made,
or the friendly 503 in Vietnamese), never with an exception that gunicorn turns into a bare English
"Internal Server Error", and a hanging database gives that 503 in seconds, not at the worker timeout.

The WSGI app is called as gunicorn calls it (werkzeug's plain test Client, production error handling: no
TESTING, exceptions not propagated).
"""
from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest
from werkzeug.test import Client

from app import create_app
from core.extensions import db
from tests.faults.conftest import silent_server
from tests.helpers import requires_postgres
from tests.shop.test_cart_views import page

UNAVAILABLE_VI = "Chợ tạm thời gián đoạn"


def serve(app, url: str):
    """One request as a server makes it: in a thread of its own (no app context of the test's to share, so the
    request's own app context, its session and its teardown are the app's), errors handled as in production.
    An exception that escapes the WSGI app is raised here."""
    outcome = {}

    def run():
        try:
            outcome["response"] = Client(app).get(url, headers={"Host": "localhost"})
        except BaseException as error:  # noqa: BLE001 - what gunicorn would turn into a bare 500
            outcome["error"] = error

    db.session.commit()  # the test holds no transaction (nor lock) while the request runs
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


@pytest.fixture
def wsgi(app):
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    return lambda url: serve(app, url)


def assert_unavailable_vi(response) -> None:
    assert response.status_code == 503, response.status
    assert response.headers["Retry-After"] == "30"
    assert UNAVAILABLE_VI in page(response)


def test_a_rollback_that_fails_at_the_end_of_a_request_does_not_spoil_the_page(wsgi, market, faults, caplog):
    caplog.set_level(logging.WARNING)
    with faults.fail_rollback() as fired:
        response = wsgi("/")
    assert fired, "the request ended without a rollback"
    assert response.status_code == 200 and market.products[0].name in page(response)
    assert any("end-of-request rollback failed" in record.getMessage() for record in caplog.records)
    assert wsgi("/").status_code == 200


def test_the_database_dying_at_any_statement_gives_the_vietnamese_503_even_when_rollback_fails(
        wsgi, market, faults):
    """Every statement of the product page in turn: the connection dies as it runs, and every ROLLBACK after
    it (the error page's, the end of the request's) fails too."""
    url = f"/products/{market.products[0].slug}"
    failures = 0
    for n in itertools.count(1):
        assert n < 100
        with faults.fail_statement(n) as fired, faults.fail_rollback():
            response = wsgi(url)
        if not fired:
            break
        assert_unavailable_vi(response)
        failures += 1
    assert failures >= 2 and response.status_code == 200
    assert wsgi(url).status_code == 200


@requires_postgres
def test_a_database_that_accepts_but_never_answers_gives_the_503_within_seconds(app, instance_path):
    """A connection that hangs (the server accepts it and says nothing): connect_timeout, not a worker timeout."""
    with silent_server(delay=20) as (_server, address):
        port = address.rsplit(":", 1)[1]
        hanging = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://kep@127.0.0.1:{port}/kep",
                              "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                              "DB_CONNECT_TIMEOUT_SECONDS": 1, "RATELIMIT_ENABLED": False})
        started = time.monotonic()
        response = serve(hanging, "/")
        elapsed = time.monotonic() - started
    assert_unavailable_vi(response)
    assert elapsed < 5, f"the visitor waited {elapsed:.1f} s"


@requires_postgres
class TestStatementTimeout:
    @pytest.fixture
    def app_config(self):
        return {"DB_STATEMENT_TIMEOUT_SECONDS": 1, "DB_LOCK_TIMEOUT_SECONDS": 0}

    def test_a_statement_that_hangs_gives_the_503_within_seconds(self, wsgi, market, rival, caplog):
        caplog.set_level(logging.ERROR)
        url = f"/products/{market.products[0].slug}"
        db.session.commit()
        rival.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")  # every read of products now waits
        release = threading.Timer(15, rival.release)  # old code would wait for this
        release.start()
        try:
            started = time.monotonic()
            response = wsgi(url)
            elapsed = time.monotonic() - started
        finally:
            release.cancel()
            rival.release()
        assert_unavailable_vi(response)
        assert elapsed < 5, f"the visitor waited {elapsed:.1f} s"
        assert any("ran past its timeout" in record.getMessage() for record in caplog.records)
