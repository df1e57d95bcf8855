"""``flask worker``: a long-running sender of the outbox, so a message leaves seconds after its transaction commits.

On PostgreSQL the worker LISTENs on ``outbox.WAKE_CHANNEL``: a trigger on ``notifications`` (migration
9b4e7d2a6c15) notifies it at the commit of every transaction that queued a message, and it sends at once. Without
a notification it still looks every ``poll_seconds`` (a lost connection, SQLite, a retry falling due), and sooner
when the earliest retry is due before that. Several workers (and the ``flask send-notifications`` timer) may run at
once: each message is claimed by a conditional UPDATE (core/outbox.py ``_take``), so none is sent twice. A failed
message waits ``outbox.retry_after`` before its next try; after ``outbox.MAX_ATTEMPTS`` it is given up on, staff are
told, and the outbox page lists it as failed. SIGTERM or SIGINT lets the message being sent finish, then stops.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from core import outbox
from core.extensions import db
from core.time import utcnow

log = logging.getLogger(__name__)
BATCH = 50


class _Waker:
    """Waits for the next wake-up: a NOTIFY on PostgreSQL (a connection of its own, outside the pool), a timeout
    everywhere. A broken connection is opened again at the next wait."""

    def __init__(self, url, stop: threading.Event):
        self.url, self.stop, self.connection = url, stop, None

    def arm(self) -> None:
        """Listen before the outbox is read, so that a commit between the read and the wait still wakes it."""
        if self.url.get_backend_name() != "postgresql" or (self.connection and not self.connection.closed):
            return
        try:
            import psycopg
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
            self.connection.execute(f"LISTEN {outbox.WAKE_CHANNEL}")
        except Exception as error:  # noqa: BLE001 - the poll still runs; the next round tries again
            log.warning("outbox worker: cannot listen (%s); polling", error)
            self.close()

    def wait(self, seconds: float) -> None:
        if self.connection is None:
            self.stop.wait(seconds)
            return
        try:
            for _ in self.connection.notifies(timeout=seconds, stop_after=1):
                pass
        except Exception as error:  # noqa: BLE001 - the poll still runs; the next round reconnects
            log.warning("outbox worker: listening failed (%s); polling", error)
            self.close()
            self.stop.wait(min(seconds, 1.0))

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


def run(*, poll_seconds: float = 5.0, stop: threading.Event | None = None, sender=None) -> int:
    """Send the outbox until ``stop`` is set; the number of messages sent. Needs an app context."""
    stop = stop or threading.Event()
    waker = _Waker(db.engine.url, stop)
    sent = 0
    try:
        while not stop.is_set():
            waker.arm()
            counts = _send_once(sender)
            sent += counts["sent"]
            if counts["sent"] + counts["failed"] + counts["skipped"] >= BATCH:
                continue  # more may be waiting
            waker.wait(_pause(poll_seconds, outbox.next_due(utcnow())))
    finally:
        waker.close()
        db.session.remove()
    return sent


def _send_once(sender) -> dict[str, int]:
    try:
        return outbox.send_pending(limit=BATCH, sender=sender, due_only=True)
    except Exception:  # noqa: BLE001 - the database was away; the next round tries again
        log.exception("outbox worker: a round failed")
        db.session.rollback()
        return {"sent": 0, "failed": 0, "skipped": 0}


def _pause(poll_seconds: float, due: datetime | None) -> float:
    if due is None:
        return poll_seconds
    return max(0.05, min(poll_seconds, (due - utcnow()).total_seconds()))


@click.command("worker")
@click.option("--poll", "poll_seconds", type=float, default=5.0, show_default=True,
              help="Seconds between looks at the outbox when nothing wakes the worker.")
@with_appcontext
def worker_command(poll_seconds: float) -> None:
    """Send messages as soon as they are queued (runs until stopped)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"outbox worker started ({current_app.config.get('APP_ENV', 'development')})")
    sent = run(poll_seconds=poll_seconds, stop=stop)
    click.echo(f"outbox worker stopped after sending {sent} message(s)")
