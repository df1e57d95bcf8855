"""Fault injection for the fault tests: a database that drops its connection or refuses new ones,
a Stripe that does not answer, an SMTP server that refuses mail or works again.

The database faults are real on PostgreSQL (the connection's server process is terminated with
``pg_terminate_backend`` from another connection) and simulated on SQLite (the driver's own
``OperationalError`` is raised where the statement would have run), so SQLAlchemy, the pool and the
app's error pages go through the same code as in production.
"""
from __future__ import annotations

import socketserver
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop.models import Product
from shop.order_models import CartItem, FarmOrder, Order, OrderLine
from shop.payment_models import Payment
from tests.helpers import count, free_port
from tours.models import TourSlot

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class DatabaseFaults:
    """Breaks the app's database under it, on demand."""

    def __init__(self, engine, session):
        self.engine = engine
        self.session = session  # the test's own session: it lets go of its connection before a fault
        self.postgres = engine.dialect.name == "postgresql"
        self._admin = (create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
                       if self.postgres else None)

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()

    def _kill(self, dbapi_connection) -> None:
        """Terminate one connection's server process, and wait until it is gone."""
        with self._admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                         {"pid": dbapi_connection.info.backend_pid})

    def kill_idle_connections(self) -> int:
        """Every connection of the app's database is terminated (as when PostgreSQL restarts)."""
        self.session.rollback()
        with self._admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())

    @contextmanager
    def fail_statement(self, n: int):
        """The ``n``-th SQL statement (1-based, not counting BEGIN/COMMIT) of the requests made inside the
        block fails as if the server had gone away. Yields a list that holds the failed statement once it has fired."""
        seen = {"count": 0}
        fired: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if fired or not has_request_context() or statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
                return
            seen["count"] += 1
            if seen["count"] != n:
                return
            fired.append(statement)
            if self.postgres:
                self._kill(conn.connection.dbapi_connection)  # the statement now runs on a dead connection
            else:
                raise sqlite3.OperationalError("disk I/O error")

        event.listen(self.engine, "before_cursor_execute", before)
        try:
            yield fired
        finally:
            event.remove(self.engine, "before_cursor_execute", before)

    @contextmanager
    def fail_commit(self, *, after_commit: bool = False):
        """The next COMMIT of a request fails: before it reaches the server, or (``after_commit``) after the server has
        committed but before the answer arrives, so the app cannot know that it was saved."""
        dialect = self.engine.dialect
        real_commit = dialect.do_commit
        fired: list[bool] = []

        def do_commit(dbapi_connection):
            if fired or not has_request_context():
                return real_commit(dbapi_connection)
            fired.append(True)
            if after_commit:
                real_commit(dbapi_connection)
            if self.postgres:
                raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)  # under the pool's proxy
                self._kill(raw)
                raw.execute("SELECT 1")  # raises psycopg's OperationalError: the server is gone
            raise sqlite3.OperationalError("disk I/O error")

        dialect.do_commit = do_commit
        try:
            yield fired
        finally:
            del dialect.do_commit

    @contextmanager
    def fail_rollback(self):
        """Every ROLLBACK made inside the block by another thread than the test's (the app's requests, run in
        threads as a server runs them: the end-of-request rollback, the error page's own) fails as on a dead
        connection. Yields a list that holds one item per failed rollback."""
        dialect = self.engine.dialect
        real_rollback = dialect.do_rollback
        fired: list[bool] = []
        test_thread = threading.get_ident()

        def do_rollback(dbapi_connection):
            if threading.get_ident() == test_thread:
                return real_rollback(dbapi_connection)
            fired.append(True)
            if self.postgres:
                raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)  # under the pool's proxy
                if not raw.closed:
                    self._kill(raw)
                raw.rollback()  # raises psycopg's OperationalError: the server is gone
            raise sqlite3.OperationalError("disk I/O error")

        dialect.do_rollback = do_rollback
        try:
            yield fired
        finally:
            del dialect.do_rollback

    @contextmanager
    def down(self):
        """The database is down: pooled connections are dropped and new ones are refused."""
        def refuse(dialect, conn_rec, cargs, cparams):
            if self.postgres:
                import psycopg

                raise psycopg.OperationalError("connection failed: Connection refused")
            raise sqlite3.OperationalError("unable to open database file")

        self.session.rollback()
        if self.postgres:
            self.kill_idle_connections()
        event.listen(self.engine, "do_connect", refuse)
        self.engine.dispose()  # pooled connections are gone; those checked out now are not reused
        try:
            yield
        finally:
            event.remove(self.engine, "do_connect", refuse)


class Rival:
    """A second connection of the test, outside the app, that takes locks the app's requests will meet."""

    def __init__(self, engine):
        self.engine = create_engine(engine.url, poolclass=NullPool)
        self.connection = self.engine.connect()

    def execute(self, sql: str, **params):
        return self.connection.execute(text(sql), params)

    def release(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


@pytest.fixture
def rival(app):
    holder = Rival(db.engine)
    yield holder
    holder.close()


@pytest.fixture
def faults(app):
    injector = DatabaseFaults(db.engine, db.session)
    yield injector
    injector.close()


# -- what the market holds, to compare before and after a fault ----------------------------------------

@dataclass
class Market:
    products: list
    slot: TourSlot
    farms: list = field(default_factory=list)


@pytest.fixture
def market(make_farm, make_product, make_slot):
    farm_a, farm_b = make_farm(name="Vườn dứa An"), make_farm(name="Vườn dứa Bình", offers_delivery=True,
                                                                delivery_fee_vnd=30000)
    pineapples = make_product(farm=farm_a, name="Dứa Queen", price_vnd=25000, stock=40)
    jam = make_product(farm=farm_b, name="Mứt dứa", price_vnd=55000, stock=9, unit="jar")
    starts = (utcnow() + timedelta(days=5)).replace(hour=1, minute=0, second=0, microsecond=0)
    slot = make_slot(farm=farm_a, starts_at=starts, title="Hái dứa trên đồi", slug="hai-dua-tren-doi")
    return Market(products=[pineapples, jam], slot=slot, farms=[farm_a, farm_b])


def snapshot(client=None, user=None) -> dict:
    """Everything a checkout writes: rows, stock and seats, and the cart it empties."""
    db.session.commit()  # a fresh transaction: what the requests wrote, not an older snapshot
    state = {model.__name__: count(model) for model in (Order, FarmOrder, OrderLine, Payment, Notification,
                                                        AuditEntry)}
    state["stock"] = dict(db.session.execute(select(Product.id, Product.stock).order_by(Product.id)).all())
    state["seats"] = dict(db.session.execute(select(TourSlot.id, TourSlot.seats_taken)).all())
    if user is not None:
        state["cart"] = count(CartItem, CartItem.user_id == user.id)
    elif client is not None:
        with client.session_transaction() as session:
            state["cart"] = dict(session.get("cart") or {})
    return state


# -- Stripe that does not answer -------------------------------------------------------------------------

class _SilentHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        self.server.requests += 1
        time.sleep(self.server.delay)  # never answers within the client's timeout


class _SilentServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def silent_server(delay: float = 5.0):
    """An HTTP address that accepts connections and never answers in time: Stripe is slow."""
    server = _SilentServer(("127.0.0.1", 0), _SilentHandler)
    server.requests = 0
    server.delay = delay
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- an SMTP server for the outbox ---------------------------------------------------------------------------

class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        self.reply("220 sink.test ESMTP")
        sender, recipients = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            verb = raw.decode("utf-8", "replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink.test")
            elif verb == "MAIL":
                sender, recipients = raw, []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(raw.decode().split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                message = b"".join(lines).decode("utf-8", "replace")
                time.sleep(server.delay)  # a slow server widens the window in which two senders overlap
                with server.lock:
                    refuse = server.refuse_next > 0
                    if refuse:
                        server.refuse_next -= 1
                    else:
                        server.messages.append((recipients, message))
                self.reply("451 4.3.0 Try again later" if refuse else "250 OK queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_sink():
    """A local SMTP server that keeps what it receives (``.messages``); ``.refuse_next = n`` makes it
    answer the next n messages with a temporary failure (451); ``.delay`` slows each message down."""
    server = _SMTPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages, server.refuse_next, server.delay, server.lock = [], 0, 0.0, threading.Lock()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port of 127.0.0.1 on which nothing listens."""
    return free_port()
