"""One request, one transaction: the view's changes are committed once, side effects run after that commit,
lock conflicts are retried, and the end of a request never fails.

The unit of work. Views and services never commit or roll back: services flush (``begin_nested()`` where a
savepoint is meant), and every view is wrapped so that, when it returns, its transaction is committed if the
answer is a success (status below 400) and rolled back otherwise. A ``DomainError`` that leaves the view
rolls the request back and shows its message (a flash, then the view's ``on_domain_error`` answer, or back to
the page the form was on). A view that shows the error itself (a form re-rendered with the message beside a
field, ``core.forms.show_error``) calls ``fail()``: the request is rolled back and nothing of it is kept.

After the commit. ``after_commit(fn, *args)`` queues a call (a card refund to Stripe, a message to send now)
that runs only once the commit has succeeded, and is dropped with a rollback; jobs run the queue through
``run``, and ``drain()`` runs it anywhere else that commits.

Lock conflicts. PostgreSQL ends a deadlock by aborting one of the transactions in it (SQLSTATE 40P01); it
also aborts on a serialization failure (40001) and when a lock is not granted within ``lock_timeout``
(55P03). SQLite says "database is locked" when its busy timeout runs out. None of these means that the
database cannot be reached, and all of them succeed when the transaction simply runs again:

* every view is run again after a rollback, up to ``ATTEMPTS`` times with a short random pause, before
  anyone sees an error; each retry is logged at WARNING as "<kind>, retried". A view is not re-run once the
  request has committed something (unless it is marked ``@idempotent``: what it committed first is found again,
  not repeated, by the next run), nor when it is marked ``@no_retry`` (it talks to Stripe: a second call
  could double the time the buyer waits). When the attempts run out the error reaches
  ``core.errors``, which shows the "busy, try again" page and logs it as the conflict it is;
* jobs (``flask expire-orders``…) wrap each of their short transactions in ``run``.

The end of a request. Flask-SQLAlchemy removes the session at the end of every request, which rolls back
on its connection; if the database died meanwhile that ROLLBACK raises after the page was made, and
gunicorn answers a bare "Internal Server Error". ``end_session`` (a teardown that runs before
Flask-SQLAlchemy's) closes the session and, when that fails, drops the connection instead of raising.
"""
from __future__ import annotations

import functools
import logging
import random
import sqlite3
import time

from flask import current_app, flash, g, has_request_context, redirect, request, session
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.domain import DomainError
from core.extensions import db
from core.requestlog import loggable_path

ATTEMPTS = 3
RETRYABLE_SQLSTATES = {"40P01": "deadlock", "40001": "serialization failure", "55P03": "lock timeout"}


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (psycopg 3 ``sqlstate``, psycopg 2 ``pgcode``), or None."""
    orig = getattr(error, "orig", None) or error
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def conflict_kind(error: BaseException) -> str | None:
    """"deadlock", "serialization failure" or "lock timeout" when ``error`` is a lock conflict that a new
    attempt of the same transaction can get past; None for anything else."""
    if not isinstance(error, DBAPIError):
        return None
    kind = RETRYABLE_SQLSTATES.get(sqlstate(error) or "")
    if kind is None and isinstance(error.orig, sqlite3.OperationalError) and "database is locked" in str(error.orig):
        kind = "lock timeout"
    return kind


def pause(attempt: int) -> None:
    """A short random wait, growing with each attempt, so two rivals do not collide again at once."""
    time.sleep(random.uniform(0.02, 0.1) * attempt)


log = logging.getLogger(__name__)
_QUEUED, _READY, _WROTE = "after_commit_queued", "after_commit_ready", "wrote"


def after_commit(fn, *args, **kwargs) -> None:
    """Call ``fn(*args, **kwargs)`` once the current transaction has committed; never if it rolls back."""
    db.session().info.setdefault(_QUEUED, []).append((fn, args, kwargs))


@event.listens_for(Session, "after_commit")
def _commit_succeeded(session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the request's transaction is still open
        return
    session.info.pop(_WROTE, None)
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.info.setdefault(_READY, []).extend(queued)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_QUEUED, None)
        session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_flush")
def _flushed(session, _flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if not state.is_select:
        state.session.info[_WROTE] = True


def _has_writes(session) -> bool:
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def drain() -> int:
    """Run the calls whose transaction has committed, each once, in the order they were queued. A call that
    fails is logged and the others still run (each does its own bookkeeping: a card refund that Stripe did
    not take stays pending for ``flask send-refunds``). Returns how many ran."""
    ready = db.session().info.pop(_READY, None) or []
    for fn, args, kwargs in ready:
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - one failed side effect must not undo the committed request
            log.exception("After-commit call %s failed", getattr(fn, "__qualname__", fn))
            discard_session_changes()
    return len(ready)


def fail() -> None:
    """The request failed and keeps nothing: its transaction is rolled back now (so the page the view shows
    next reads what is stored, not the refused change) and nothing more is committed when the view returns.
    For views that show the error themselves, e.g. a form with the message beside a field."""
    discard_session_changes()
    g.request_failed = True


def start_over() -> None:
    """Roll back what the request did so far and go on in a fresh transaction (a unique key taken by a
    concurrent request: read what that one stored, then answer); what follows is committed as usual."""
    discard_session_changes()


def on_domain_error(answer):
    """Decorate a view with the answer to give after a ``DomainError`` (its message is flashed first):
    ``answer(**view_kwargs)`` returns a response, e.g. a redirect to the order's page."""
    def decorate(view):
        view.domain_error_answer = answer
        return view
    return decorate


def run(work, *, what: str, attempts: int = ATTEMPTS):
    """``work()`` is one transaction (it commits); on a lock conflict it is rolled back and run again.
    The last conflict is raised when the attempts run out. Calls queued with ``after_commit`` run after
    the commit."""
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            drain()
            return result
        except DBAPIError as error:
            kind = conflict_kind(error)
            if kind is None or attempt == attempts:
                raise
            db.session.rollback()
            current_app.logger.warning("%s, retried (attempt %d of %d) while %s: %s", kind.capitalize(),
                                       attempt, attempts, what, error.orig)
            pause(attempt)
    raise AssertionError("unreachable")


def no_retry(view):
    """Mark a view that must not be run twice for one request (it calls Stripe before it commits)."""
    view.no_db_retry = True
    return view


def idempotent(view):
    """Mark a view that commits a first step of its own and finds it again when run again (a webhook that stores
    a notification under its unique id before acting on it): a lock conflict after that commit still re-runs
    the view."""
    view.db_retry_after_commit = True
    return view


def restore_session(*, freeze: bool = True) -> None:
    """Put the session back as the request opened it (cart, flashes). ``freeze``: the request failed and
    writes nothing of it; without it the view runs again and its session changes are saved. A server-side
    session (accounts.session_store) knows what it was opened with; a cookie session is read again from the
    cookie."""
    undo = getattr(session, "undo", None)
    if undo is not None:
        undo(freeze=freeze)
        return
    reopened = current_app.session_interface.open_session(current_app, request)
    if reopened is not None:
        session.clear()
        session.update(reopened)


def _rewind_request() -> None:
    """Put the request back as it came in, to run the view again: the session (cart, flashes) and uploads."""
    restore_session(freeze=False)
    for upload in request.files.values():
        try:
            upload.stream.seek(0)
        except (AttributeError, OSError, ValueError):
            pass


def _back_to_form():
    """Where a failed POST goes by default: the page it was sent from, when that is one of ours."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return redirect(referrer, 303)
    return redirect(request.path if request.method == "GET" else request.host_url, 303)


def _domain_error_answer(view, error: DomainError, kwargs):
    discard_session_changes()
    restore_session(freeze=False)
    flash(error.message, "error")
    answer = getattr(view, "domain_error_answer", None)
    return answer(**kwargs) if answer else _back_to_form()


def _finish(response):
    """Commit the request's writes if it succeeded, else roll them back; then run the after-commit queue. A
    request that wrote nothing is left to the end of the request (``end_session``), as reads need no commit."""
    response = current_app.make_response(response)
    session = db.session()
    if g.get("request_failed") or response.status_code >= 400:
        if _has_writes(session):
            discard_session_changes()
    elif _has_writes(session):
        session.commit()
    drain()
    return response


def _unit_of_work(view, *, retry: bool):
    after_commit_too = getattr(view, "db_retry_after_commit", False)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        attempts = ATTEMPTS if retry else 1
        for attempt in range(1, attempts + 1):
            g.db_committed = False
            g.request_failed = False
            try:
                try:
                    response = view(*args, **kwargs)
                except DomainError as error:
                    response = _domain_error_answer(view, error, kwargs)
                return _finish(response)
            except DBAPIError as error:
                kind = conflict_kind(error)
                if kind is None or attempt == attempts or (g.get("db_committed") and not after_commit_too):
                    raise
                discard_session_changes()
                _rewind_request()
                current_app.logger.warning("%s on %s %s, retried (attempt %d of %d): %s", kind.capitalize(),
                                           request.method, loggable_path(), attempt, ATTEMPTS, error.orig)
                pause(attempt)
        raise AssertionError("unreachable")
    return wrapper


def discard_session_changes() -> None:
    """Roll the request's transaction back; if even that fails (the connection is dead), drop the
    connection and start a fresh session."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dead connection cannot roll back; it is thrown away instead
        _drop_session()


def _drop_session() -> None:
    current = db.session()
    try:
        current.invalidate()
    except Exception:  # noqa: BLE001
        current_app.logger.warning("Could not invalidate the database connection", exc_info=True)
    db.session.registry.clear()


def end_session(_error=None) -> None:
    """Teardown: close the session; a failure here (a dead connection) is logged, never raised."""
    if not db.session.registry.has():
        return
    try:
        db.session.remove()
    except Exception as error:  # noqa: BLE001 - the page is already made; a dead connection must not spoil it
        current_app.logger.warning("The end-of-request rollback failed, the connection is dropped: %s",
                                   getattr(error, "orig", None) or error)
        _drop_session()


def _mark_committed(_connection) -> None:
    if has_request_context():
        g.db_committed = True


def init_app(app) -> None:
    """Call after the blueprints are registered (it wraps their views) and after ``db.init_app`` (its
    teardown must run before Flask-SQLAlchemy's, and Flask runs teardowns in reverse order)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _unit_of_work(view, retry=not getattr(view, "no_db_retry", False))
    app.teardown_appcontext(end_session)
    with app.app_context():
        event.listen(db.engine, "commit", _mark_committed)
