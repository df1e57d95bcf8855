"""Wrong passwords slow the guesser (one account from one address), never the owner on another address;
a looser limit per address across accounts; the client's address through trusted proxies only; staff told
of a burst on one account; an unknown or suspended e-mail costs one scrypt check like a real one."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from accounts import services, throttle
from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.helpers import PASSWORD

_ips = itertools.count(10)
WAIT = "Sai mật khẩu quá nhiều lần"  # "Too many wrong passwords"
BASE = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "LOGIN_FREE_FAILURES": 3,
        "LOGIN_MAX_WAIT_MINUTES": 15, "LOGIN_LIMIT_PER_IP": "50 per 15 minutes", "LOGIN_ALERT_FAILURES": 6,
        "STAFF_EMAIL": "canbo@duakep.vn"}


@pytest.fixture
def app_config():
    return dict(BASE)


def _address():
    return f"10.1.0.{next(_ips)}"


def _login(client, email, password, address, **kwargs):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, **kwargs)


def _alerts() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "staff_login_burst"))


def test_the_owner_logs_in_from_another_address_after_a_strangers_failures(client, make_user):
    owner = make_user()
    stranger = _address()
    for _ in range(8):
        _login(client, owner.email, "wrong-guess-1", stranger)
    refused = _login(client, owner.email, PASSWORD, stranger)
    assert refused.status_code == 429, "the stranger's address waits, even with the right password"
    assert WAIT in refused.get_data(as_text=True)
    assert _login(client, owner.email, PASSWORD, _address()).status_code == 302


def test_the_wait_grows_and_is_told_in_minutes(client, make_user):
    user = make_user()
    address = _address()
    for _ in range(3):  # free
        assert _login(client, user.email, "wrong-guess-1", address).status_code == 200
    assert _login(client, user.email, "wrong-guess-1", address).status_code == 200  # 4th: now a wait of 1 min
    response = _login(client, user.email, PASSWORD, address)
    assert response.status_code == 429
    assert "Vui lòng thử lại sau 1 phút." in response.get_data(as_text=True)
    # While it waits, tries are not even checked, so they do not make the wait longer.
    assert "Vui lòng thử lại sau 1 phút." in _login(client, user.email, "wrong", address).get_data(as_text=True)
    with client.application.test_request_context():
        waits = [throttle.failed(user.email, "10.2.0.1", now=utcnow()) // 60 for _ in range(10)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 15, 15, 15]


def test_a_success_starts_the_pair_again(client, make_user):
    user = make_user()
    address = _address()
    for _ in range(3):
        _login(client, user.email, "wrong-guess-1", address)
    assert _login(client, user.email, PASSWORD, address).status_code == 302
    client.post("/logout")
    for _ in range(3):
        assert _login(client, user.email, "wrong-guess-1", address).status_code == 200, "free again"


def test_an_unknown_email_is_throttled_the_same_way(client):
    address = _address()
    answers = [_login(client, "nobody@example.vn", "wrong-guess-1", address).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]


class TestPerAddress:
    @pytest.fixture
    def app_config(self):
        return dict(BASE, LOGIN_LIMIT_PER_IP="4 per 15 minutes")

    def test_many_accounts_from_one_address(self, client, make_user):
        address = _address()
        for n in range(4):
            assert _login(client, f"guess{n}@example.vn", "wrong-guess-1", address).status_code == 200
        user = make_user()
        assert _login(client, user.email, PASSWORD, address).status_code == 429
        assert _login(client, user.email, PASSWORD, _address()).status_code == 302


def _guess_through_the_proxy(client, forwarded_for: str):
    return _login(client, "guess@example.vn", "wrong-guess-1", "192.168.0.2",
                  headers={"X-Forwarded-For": forwarded_for})


class TestBehindOneTrustedProxy:
    @pytest.fixture
    def app_config(self):
        return dict(BASE, TRUSTED_PROXY_COUNT=1, LOGIN_LIMIT_PER_IP="2 per 15 minutes")

    def test_the_forwarded_address_is_the_one_limited(self, client, make_user):
        for _ in range(2):
            assert _guess_through_the_proxy(client, "203.0.113.7").status_code == 200
        assert _guess_through_the_proxy(client, "203.0.113.7").status_code == 429
        user = make_user()
        response = _login(client, user.email, PASSWORD, "192.168.0.2", headers={"X-Forwarded-For": "198.51.100.9"})
        assert response.status_code == 302, "another visitor behind the same proxy is not blocked"


class TestWithoutTrustedProxies:
    @pytest.fixture
    def app_config(self):
        return dict(BASE, TRUSTED_PROXY_COUNT=0, LOGIN_LIMIT_PER_IP="2 per 15 minutes")

    def test_a_forged_forwarded_for_does_not_dodge_the_limit(self, client):
        for n in range(2):
            assert _guess_through_the_proxy(client, f"203.0.113.{n}").status_code == 200
        assert _guess_through_the_proxy(client, "203.0.113.99").status_code == 429


def test_staff_are_told_once_of_a_burst_on_one_account(client, make_user):
    user = make_user()
    for _ in range(3):  # from three addresses, none of them made to wait
        for _ in range(2):
            _login(client, user.email, "wrong-guess-1", _address())
    assert _alerts() == 1
    note = db.session.scalar(select(Notification).where(Notification.kind == "staff_login_burst"))
    assert note.to_address == "canbo@duakep.vn" and user.email in note.body and "6" in note.body
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.login_failures_burst"))
    assert entry.entity_id == user.id and entry.actor_label == "login-throttle"
    for _ in range(4):
        _login(client, user.email, "wrong-guess-1", _address())
    assert _alerts() == 1, "once an hour"
    for _ in range(8):
        _login(client, "nobody@example.vn", "wrong-guess-1", _address())
    assert _alerts() == 1, "an address without an account alerts nobody"


@pytest.fixture
def hash_checks(monkeypatch):
    """Every password check authenticate makes: (hash method, password)."""
    checks = []
    real = services.check_password_hash

    def spy(pwhash, password):
        checks.append((pwhash.split("$")[0], password))
        return real(pwhash, password)
    monkeypatch.setattr(services, "check_password_hash", spy)
    return checks


def test_unknown_and_suspended_emails_cost_one_scrypt_check_too(app, make_user, hash_checks):
    user = make_user()
    services.dummy_hash.cache_clear()
    suspended = make_user(active=False)
    method = user.password_hash.split("$")[0]
    assert services.authenticate(user.email, "wrong-guess-1") is None
    assert services.authenticate("nobody@example.vn", "wrong-guess-2") is None
    assert services.authenticate(suspended.email, PASSWORD) is None
    assert services.authenticate(user.email, PASSWORD) == user
    assert hash_checks == [(method, "wrong-guess-1"), (services.dummy_hash().split("$")[0], "wrong-guess-2"),
                           (services.dummy_hash().split("$")[0], PASSWORD), (method, PASSWORD)]
    assert services.dummy_hash().startswith("scrypt:32768:8:1$"), "made like real hashes, as slow to check"
