"""Wrong passwords slow the guesser down, not the owner.

Counters live in the rate limiter's storage (``limiter.storage``: memory by default, Redis in production, so
every app instance sees the same counts). Keys carry a keyed hash of what the person logs in with (the e-mail,
or the phone number normalized to 0xxxxxxxxx), never the e-mail or number itself.

- Per (account, address) pair: the first LOGIN_FREE_FAILURES wrong passwords cost nothing; after that each
  one makes the pair wait 1, 2, 4, 8... minutes, at most LOGIN_MAX_WAIT_MINUTES, before the next try is
  even checked. The count is forgotten a day after the first failure, or at once on a successful login from
  that address. Other addresses are never slowed by it: the owner on another network logs in as usual.
- Per address, across accounts: LOGIN_LIMIT_PER_IP failures (the ``@limiter.limit`` on the login view).
- Per account, from any address: LOGIN_ALERT_FAILURES failures within an hour tell the staff, at most once
  an hour (an outbox message to STAFF_EMAIL and an audit entry). Nothing is locked.

An e-mail without an account is throttled exactly like one with an account, so the answers tell nothing.
With RATELIMIT_ENABLED off (tests, benchmarks) nothing is counted.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import time
from datetime import datetime

from flask import current_app

from core import audit
from core.extensions import limiter
from core.messages import Recipient, notify

PAIR_MEMORY_SECONDS = 24 * 3600
ALERT_WINDOW_SECONDS = 3600
FIRST_WAIT_SECONDS = 60


class Throttled(Exception):
    """This account may not be tried from this address for ``seconds`` more."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def _on() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _account(email: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def _keys(email: str, address: str | None) -> tuple[str, str]:
    pair = f"kep-login/{_account(email)}/{address or '-'}"
    return pair + "/failures", pair + "/wait"


def wait_seconds_for_failures(failures: int, free: int, max_minutes: int) -> int:
    """How long a pair waits after its ``failures``-th wrong password (0 while still free).

    >>> [wait_seconds_for_failures(n, free=5, max_minutes=15) // 60 for n in (1, 5, 6, 7, 8, 9, 10, 30)]
    [0, 0, 1, 2, 4, 8, 15, 15]
    """
    over = failures - free
    if over <= 0:
        return 0
    return min(max_minutes * 60, FIRST_WAIT_SECONDS * 2 ** min(over - 1, 20))


def check(email: str, address: str | None) -> None:
    """Raise Throttled while this pair must wait; checked before the password is."""
    if not _on():
        return
    _, wait_key = _keys(email, address)
    storage = limiter.storage
    if storage.get(wait_key) > 0:
        left = math.ceil(storage.get_expiry(wait_key) - time.time())
        if left > 0:
            raise Throttled(left)


def failed(email: str, address: str | None, *, user=None, now: datetime) -> int:
    """Count a wrong password for this pair (and for the account); returns the wait it now has, in seconds.
    ``user`` is the account with this e-mail, if there is one (only real accounts alert the staff)."""
    if not _on():
        return 0
    storage = limiter.storage
    failures_key, wait_key = _keys(email, address)
    failures = storage.incr(failures_key, PAIR_MEMORY_SECONDS)
    config = current_app.config
    wait = wait_seconds_for_failures(failures, free=int(config.get("LOGIN_FREE_FAILURES", 5)),
                                     max_minutes=int(config.get("LOGIN_MAX_WAIT_MINUTES", 15)))
    if wait:
        storage.clear(wait_key)
        storage.incr(wait_key, wait)
    if user is not None:
        _count_for_alert(user, now=now)
    return wait


def succeeded(email: str, address: str | None) -> None:
    """The right password from this address: its pair starts again from nothing."""
    if not _on():
        return
    for key in _keys(email, address):
        limiter.storage.clear(key)


def _count_for_alert(user, *, now: datetime) -> None:
    account = _account(user.email or user.phone)
    threshold = int(current_app.config.get("LOGIN_ALERT_FAILURES", 20))
    storage = limiter.storage
    failures = storage.incr(f"kep-login/{account}/hour", ALERT_WINDOW_SECONDS)
    if threshold <= 0 or failures < threshold:
        return
    if storage.incr(f"kep-login/{account}/told", ALERT_WINDOW_SECONDS) != 1:
        return  # already told this hour
    _tell_staff(user, failures, now=now)


def _tell_staff(user, failures: int, *, now: datetime) -> None:
    audit.record("user.login_failures_burst", "user", user.id, actor_label="login-throttle",
                 details={"failures": failures, "within_minutes": ALERT_WINDOW_SECONDS // 60,
                          "at": now.isoformat(timespec="seconds")})
    notify("staff_login_burst", Recipient.by_email(current_app.config.get("STAFF_EMAIL", "")), user=user,
           failures=failures, minutes=ALERT_WINDOW_SECONDS // 60)
