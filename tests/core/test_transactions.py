"""The request's unit of work (core/transactions.py) around savepoints: releasing one (``begin_nested``) is not
the request's commit, so what was written before or inside it is still committed with the request, and calls
queued for after the commit wait for the real one."""
from __future__ import annotations

from sqlalchemy import text

from core import transactions
from core.extensions import db


def test_a_released_savepoint_keeps_the_writes_of_the_request(app, make_user):
    user = make_user()
    db.session.commit()
    with app.test_request_context():
        with db.session.begin_nested():
            db.session.execute(text("UPDATE users SET full_name = 'Nguyễn Văn Savepoint' WHERE id = :id"),
                               {"id": user.id})
        assert transactions._has_writes(db.session()), "the request would end without committing its write"


def test_after_commit_calls_wait_for_the_requests_commit_not_a_savepoints(app, make_user):
    called: list[str] = []
    with app.test_request_context():
        transactions.after_commit(called.append, "message sent")
        with db.session.begin_nested():
            db.session.execute(text("SELECT 1"))
        transactions.discard_session_changes()  # the request fails after the savepoint
        transactions.drain()
    assert called == []
