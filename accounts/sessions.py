"""A user's sessions: the list on the account page, and ending them.

Ending a session deletes its row (accounts/session_store.py): its cookie, wherever it is, opens nothing any
more. These functions write through the request's ``db.session`` (the request commits them, with the audit entry)
and never touch the request: the view says which session is the current one (``current_key``).

"Place" is the IP address the session was last used from, partly hidden (the market has no GeoIP
database to turn it into a town).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from accounts.session_store import StoredSession
from core import audit
from core.extensions import db


@dataclass(frozen=True)
class DeviceSession:
    id: int
    device: str
    place: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def _clean(family: str | None) -> str:
    words = [word for word in (family or "").replace("Mobile Safari", "Safari").split()
             if word not in ("Mobile", "WebView", "iOS")]
    return " ".join(words)


@lru_cache(maxsize=512)
def device_name(user_agent: str) -> str:
    """A readable name for a browser, e.g. "Chrome trên Android" (ua-parser's rules)."""
    from ua_parser import parse

    result = parse(user_agent or "")
    browser = _clean(result.user_agent.family) if result.user_agent else ""
    system = result.os.family if result.os else ""
    system = {"Mac OS X": "macOS", "Other": ""}.get(system, system)
    if browser in ("", "Other"):
        browser = ""
    if browser and system:
        return str(_l("%(browser)s on %(system)s", browser=browser, system=system))
    return browser or system or str(_l("An unknown browser"))


def masked_ip(address: str) -> str:
    """The address with its last part hidden: 203.113.•.• or 2001:ee0:4f12:…"""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return str(_l("unknown"))
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:2] + ["•", "•"])
    return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address).rstrip(":") + ":…"


def active_sessions(user_id: int, *, now: datetime, current_key: str | None) -> list[DeviceSession]:
    """The user's sessions that have not expired, the most recently used first."""
    rows = db.session.scalars(select(StoredSession).where(StoredSession.user_id == user_id,
                                                          StoredSession.expires_at > now)
                              .order_by(StoredSession.last_seen_at.desc(), StoredSession.id.desc()))
    return [DeviceSession(id=row.id, device=device_name(row.user_agent), place=masked_ip(row.ip_address),
                          created_at=row.created_at, last_seen_at=row.last_seen_at, current=row.key == current_key)
            for row in rows]


def end_session(user, session_id: int, *, actor=None) -> bool:
    """End one of ``user``'s sessions (False when it is not theirs or already ended)."""
    ended = db.session.execute(delete(StoredSession).where(StoredSession.id == session_id,
                                                           StoredSession.user_id == user.id)).rowcount
    if ended:
        audit.record("user.session_ended", "user", user.id, actor=actor or user, details={"session": session_id})
    return bool(ended)


def end_sessions(user, *, keep_key: str | None = None, actor=None, reason: str = "logout_all") -> int:
    """End every session of ``user`` but the one keyed ``keep_key``; returns how many ended."""
    query = delete(StoredSession).where(StoredSession.user_id == user.id)
    if keep_key is not None:
        query = query.where(StoredSession.key != keep_key)
    ended = db.session.execute(query).rowcount
    audit.record("user.sessions_ended", "user", user.id, actor=actor or user,
                 details={"ended": ended, "kept_this_one": keep_key is not None, "why": reason})
    return ended
