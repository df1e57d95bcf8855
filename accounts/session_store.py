"""Server-side sessions: the cookie holds a random id, the database holds the session.

Invariants:

- The ``session`` cookie holds only a random id of 256 bits; the table keys the row by the SHA-256 of it, so
  a copy of the table gives no cookie. Deleting a row ends that session everywhere (logout, "log out of all
  devices", a password change or reset, staff suspending the account): the next request with its cookie is
  a visitor's.
- A visitor who only browses has no row and no ``session`` cookie. Only the CSRF secret (while there is no
  row), flash messages and a copy of the language choice travel in a small signed ``visitor`` cookie (see
  ``LIGHT_KEYS``); anything else in the session (a cart, a language choice, a login) makes a row.
- The logged-in user is read in the same query as the row and handed to Flask-Login (``user_of_session``):
  a logged-in page costs no query more than with cookie sessions. Flask-Login's remember-me cookie is not
  used: "remember me" is a persistent session cookie whose row expires at the same moment
  (SESSION_REMEMBER_DAYS after the last use); otherwise the cookie lasts the browser session and the row
  SESSION_IDLE_MINUTES after the last use (a guest's cart or language: SESSION_GUEST_DAYS).
- Rows are read on their own short connection, never through the request's ``db.session``. A change to the
  session is written in the request's own transaction when the view commits (so a guest's cart is emptied
  exactly when the order is saved, or not at all), otherwise on its own short transaction at the end of
  the request; saving never commits a view's work. ``last_seen_at`` is written at most every
  SESSION_TOUCH_MINUTES, not on every request.
- If the row cannot be read (the database is down), the request is answered by the error handlers (the
  friendly 503 page) with the visitor shown as logged out, and the cookie is left as it is.
"""
from __future__ import annotations

import copy
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from flask.globals import request_ctx
from flask.sessions import SessionInterface, SessionMixin, session_json_serializer
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import DateTime, ForeignKey, String, Text, bindparam, delete, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import CallbackDict

from accounts.models import User
from core import transactions
from core.extensions import BigIntPK, db
from core.time import utcnow

VISITOR_COOKIE = "visitor"
LIGHT_KEYS = ("csrf_token", "_flashes", "lang")
# Keys that never justify a row on their own (Flask-Login's bookkeeping, the CSRF secret, messages).
NOT_WORTH_A_ROW = {"csrf_token", "_flashes", "_remember", "_remember_seconds", "_fresh", "_id", "_permanent"}
NOT_STORED = {"_flashes", "_remember", "_remember_seconds"}
MAX_COOKIE_LENGTH = 128
USER_AGENT_LENGTH = 255


class StoredSession(db.Model):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the cookie's id
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text)  # Flask's tagged JSON of the session
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_LENGTH), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")


def key_of(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


def _dumps(data: dict) -> str:
    return session_json_serializer.dumps({k: v for k, v in data.items() if k not in NOT_STORED})


class ServerSession(CallbackDict, SessionMixin):
    """The session of one request and what is known of its row."""

    def __init__(self, initial=None, *, key=None, user=None, last_seen_at=None, stored=None, light=None,
                 unavailable=None, ended=False):
        def on_update(self):
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.key = key                    # the row's key, or None: no row (yet)
        self.user = user                  # the row's user, read with it (detached from any ORM session)
        self.last_seen_at = last_seen_at
        self.stored = stored              # the data as the row holds it (tagged JSON)
        self.light = copy.deepcopy(light or {})  # what the visitor cookie held (a copy: flash() appends in place)
        self.unavailable = unavailable    # the error met reading the row
        self.ended = ended                # a cookie came whose row is gone (ended or expired)
        self.rotate = False
        self.frozen = unavailable is not None
        self.new_id: str | None = None    # the id to send when a row was made
        self.touched = False
        self._opened = (copy.deepcopy(dict(initial or {})), key, stored, ended)
        self.modified = False
        self.accessed = False

    def regenerate(self) -> None:
        """A new id for this session when it is saved (at login and logout: no session fixation)."""
        self.rotate = True
        self.modified = True

    def forget_row(self) -> None:
        """The request deleted this session's row itself (e.g. "log out of all devices")."""
        self.key, self.stored, self.ended = None, None, True

    def undo(self, *, freeze: bool = True) -> None:
        """Back to the session the request came with. ``freeze``: the request failed, so nothing of it is
        written and the browser keeps its cookie; without it (a view about to be run again after a deadlock)
        the run that succeeds saves its changes as usual."""
        data, self.key, self.stored, self.ended = self._opened
        self.clear()
        self.update(copy.deepcopy(data))
        self.frozen = freeze
        self.rotate, self.new_id = False, None
        self.modified = self.touched = False

    def worth_a_row(self) -> bool:
        return any(key not in NOT_WORTH_A_ROW for key in self)


def _lifetime(data) -> timedelta:
    config = current_app.config
    if "_user_id" not in data:
        return timedelta(days=config["SESSION_GUEST_DAYS"])
    if data.get("_permanent"):
        return timedelta(days=config["SESSION_REMEMBER_DAYS"])
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"])


def _user_id(data) -> int | None:
    ident = str(data.get("_user_id") or "").partition(":")[0]
    return int(ident) if ident.isdigit() else None


def _where_from() -> dict:
    return {"user_agent": (request.headers.get("User-Agent") or "")[:USER_AGENT_LENGTH],
            "ip_address": (request.remote_addr or "")[:45]}


def needs_write(session: ServerSession, now: datetime) -> bool:
    """Whether ``persist`` has anything to write (so that no transaction is opened for nothing)."""
    if session.frozen:
        return False
    worth = session.worth_a_row()
    if session.key is None:
        return worth
    if session.rotate or not worth:
        return True
    touch_every = timedelta(minutes=current_app.config["SESSION_TOUCH_MINUTES"])
    return _dumps(session) != session.stored or now - session.last_seen_at >= touch_every


def persist(conn, session: ServerSession, now: datetime) -> None:
    """Write what changed of ``session`` through ``conn`` (call it when ``needs_write``)."""
    table = StoredSession.__table__
    worth = session.worth_a_row()
    if session.key is not None and (session.rotate or not worth):
        conn.execute(delete(table).where(table.c.key == session.key))
        session.forget_row()
    session.rotate = False
    if not worth:
        return
    blob, lifetime = _dumps(session), _lifetime(session)
    if session.key is None:
        raw = secrets.token_urlsafe(32)
        conn.execute(insert(table).values(key=key_of(raw), user_id=_user_id(session), data=blob, created_at=now,
                                          last_seen_at=now, expires_at=now + lifetime, **_where_from()))
        session.key, session.new_id, session.stored, session.last_seen_at = key_of(raw), raw, blob, now
        session.ended = False
        return
    result = conn.execute(update(table).where(table.c.key == session.key).values(
        user_id=_user_id(session), data=blob, last_seen_at=now, expires_at=now + lifetime, **_where_from()))
    if result.rowcount == 0:  # ended meanwhile (from another device): it stays ended
        session.forget_row()
        session.frozen = True
        return
    session.stored, session.last_seen_at, session.touched = blob, now, True


def _light_serializer(app) -> URLSafeSerializer:
    return URLSafeSerializer(app.secret_key, salt="kep.visitor-cookie", serializer=session_json_serializer,
                             signer_kwargs={"digest_method": hashlib.sha256})


# Built once: the row of a session and its user, in one query (every request with a session cookie runs it).
_ROW_AND_USER = (select(StoredSession, User).outerjoin(User, User.id == StoredSession.user_id)
                 .where(StoredSession.key == bindparam("key")))


class DatabaseSessionInterface(SessionInterface):
    def _read_light(self, app, request) -> dict:
        raw = request.cookies.get(VISITOR_COOKIE)
        if not raw:
            return {}
        try:
            data = _light_serializer(app).loads(raw)
        except BadSignature:
            return {}
        return {k: v for k, v in data.items() if k in LIGHT_KEYS} if isinstance(data, dict) else {}

    def open_session(self, app, request) -> ServerSession:
        light = self._read_light(app, request)
        raw = request.cookies.get(self.get_cookie_name(app))
        without_row = {k: v for k, v in light.items() if k != "lang"}
        if not raw or len(raw) > MAX_COOKIE_LENGTH:
            return ServerSession(without_row, light=light, ended=bool(raw))
        key, now = key_of(raw), utcnow()
        try:
            # Read through the request's own database session: one connection and one transaction for the
            # whole request, as when Flask-Login read the user (the row's writes go their own way, below).
            found = db.session.execute(_ROW_AND_USER, {"key": key}).first()
            if found is not None and found[0].expires_at <= now:
                with db.engine.begin() as conn:  # met expired: deleted now (flask purge-sessions does the rest)
                    conn.execute(delete(StoredSession.__table__).where(StoredSession.key == key,
                                                                       StoredSession.expires_at <= now))
                found = None
        except SQLAlchemyError as error:
            app.logger.error("The session could not be read: %s", getattr(error, "orig", None) or error)
            transactions.discard_session_changes()
            return ServerSession(light, light=light, unavailable=error)
        if found is None:
            return ServerSession(without_row, light=light, ended=True)
        row, user = found
        data = session_json_serializer.loads(row.data)
        if "_flashes" in light:
            data["_flashes"] = light["_flashes"]
        return ServerSession(data, key=key, user=user, last_seen_at=row.last_seen_at, stored=row.data, light=light)

    def save_session(self, app, session: ServerSession, response) -> None:
        if session.unavailable is not None:
            return  # the row could not be read: the browser keeps its cookie as it is
        if session.accessed:
            response.vary.add("Cookie")
        now = utcnow()
        try:
            if needs_write(session, now):
                with db.engine.begin() as conn:
                    persist(conn, session, now)
        except SQLAlchemyError as error:
            app.logger.error("The session could not be saved: %s", getattr(error, "orig", None) or error)
            return
        self._set_cookies(app, session, response)

    def _set_cookies(self, app, session: ServerSession, response) -> None:
        name = self.get_cookie_name(app)
        options = dict(domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
                       secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app),
                       httponly=self.get_cookie_httponly(app))
        permanent = bool(session.get("_permanent"))
        expires = (session.last_seen_at + _lifetime(session)) if permanent and session.last_seen_at else None
        if session.new_id:
            response.set_cookie(name, session.new_id, expires=expires, **options)
        elif session.key is None and name in request.cookies:
            response.delete_cookie(name, domain=options["domain"], path=options["path"])
        elif session.touched and permanent:
            response.set_cookie(name, request.cookies[name], expires=expires, **options)
        light = {k: session[k] for k in LIGHT_KEYS if k in session and session[k]}
        if session.key is not None:
            light.pop("csrf_token", None)  # it is in the row
        if light != session.light:
            if light:
                response.set_cookie(VISITOR_COOKIE, _light_serializer(app).dumps(light), **options)
            else:
                response.delete_cookie(VISITOR_COOKIE, domain=options["domain"], path=options["path"])
        remember = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if remember in request.cookies:  # the old remember-me cookies log no one in any more: tidy them away
            response.delete_cookie(remember, domain=app.config.get("REMEMBER_COOKIE_DOMAIN"),
                                   path=app.config.get("REMEMBER_COOKIE_PATH", "/"))


def _current_server_session() -> ServerSession | None:
    if not has_request_context():
        return None
    candidate = request_ctx.session
    return candidate if isinstance(candidate, ServerSession) else None


def _write_with_the_request(orm_session) -> None:
    """``before_commit`` of the request's ``db.session``: the session's changes join that commit."""
    session = _current_server_session()
    if session is None or session.frozen or session.rotate or orm_session is not db.session():
        return
    now = utcnow()
    if needs_write(session, now):
        persist(orm_session.connection(), session, now)


def _raise_if_unavailable() -> None:
    """First ``before_request``: a session that could not be read makes the error handlers answer."""
    session = _current_server_session()
    if session is not None and session.unavailable is not None:
        raise session.unavailable


def user_of_session(user_id: str) -> User | None:
    """Flask-Login's user loader: the user read with this session's row, only if the session names them
    (so an old remember-me cookie, or an id the row does not hold, logs no one in) and they may log in."""
    session = _current_server_session()
    user = session.user if session is not None else None
    if user is None or session.get("_user_id") != user_id or user.get_id() != user_id or not user.is_active:
        return None
    return db.session.merge(user, load=False)


_listening = False


def init_sessions(app) -> None:
    global _listening
    app.session_interface = DatabaseSessionInterface()
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_if_unavailable)
    if not _listening:
        event.listen(db.session, "before_commit", _write_with_the_request)
        _listening = True


def purge_expired(now: datetime) -> int:
    """Delete the rows of sessions that have expired (safe to run twice, or at once)."""
    with db.engine.begin() as conn:
        return conn.execute(delete(StoredSession.__table__).where(StoredSession.expires_at <= now)).rowcount
