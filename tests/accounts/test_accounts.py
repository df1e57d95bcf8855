"""Registration, login, logout, password change, rate limits, CSRF, create-admin."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.models import User
from core.audit import AuditEntry
from core.extensions import db
from tests.helpers import PASSWORD, csrf_token_from, login, register, registration_link

GOOD = {"email": "Lan.Nguyen@Example.vn", "full_name": "Nguyễn Thị Lan", "phone": "+84 912 345 678",
        "password": "dua-ngot-2026", "confirm": "dua-ngot-2026"}


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_register_creates_a_buyer_and_logs_in(client):
    response = register(client, GOOD)
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert user.email == "lan.nguyen@example.vn"
    assert user.phone == "0912345678"
    assert user.role == "buyer"
    assert user.password_hash.startswith("scrypt:") and "dua-ngot-2026" not in user.password_hash
    assert "Tài khoản của tôi" in client.get("/").get_data(as_text=True)
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "Hãy nhập email hợp lệ"),
    ("phone", "12345", "Hãy nhập số điện thoại di động Việt Nam"),
    ("phone", "0212345678", "Hãy nhập số điện thoại di động Việt Nam"),
    ("password", "short", "Mật khẩu phải có từ 8 đến 128 ký tự."),
    ("confirm", "different-password", "Hai mật khẩu không giống nhau."),
    ("full_name", "", "Hãy nhập họ và tên."),
])
def test_register_rejects_bad_input_in_vietnamese(client, field, value, message):
    data = dict(GOOD, **{field: value})
    if field == "password":
        data["confirm"] = value
    response = client.post("/register", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _users() == 0


def test_register_messages_in_english(client):
    response = client.post("/register?lang=en", data=dict(GOOD, phone="123"))
    assert "Enter a Vietnamese mobile number" in response.get_data(as_text=True)


def test_register_duplicate_email_any_case(client, make_user):
    """The page does not say the address has an account; its owner is told by e-mail instead."""
    make_user(email="lan.nguyen@example.vn")
    response = client.post("/register", data=GOOD)
    assert (response.status_code, response.headers["Location"]) == (302, "/register/sent")
    assert _users() == 1


@pytest.mark.parametrize("raw,expected", [
    ("0912345678", "0912345678"), ("+84912345678", "0912345678"), ("84 912 345 678", "0912345678"),
    ("091.234.5678", "0912345678"), ("0312-345-678", "0312345678"),
    ("091234567", None), ("09123456789", None), ("0112345678", None), ("abc", None), ("", None),
])
def test_vietnamese_mobile_numbers(raw, expected):
    from core.validators import normalize_vn_mobile
    assert normalize_vn_mobile(raw) == expected


def test_login_and_logout(client, make_user):
    user = make_user()
    login(client, user)
    assert "Đăng xuất" in client.get("/").get_data(as_text=True)
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_login_wrong_password_says_so_and_does_not_log_in(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_unknown_email_gives_the_same_message(client):
    response = client.post("/login", data={"email": "nobody@example.vn", "password": "whatever-123"})
    assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_login_is_case_insensitive_on_email(client, make_user):
    user = make_user(email="hoa@example.vn")
    response = client.post("/login", data={"email": "HOA@Example.VN", "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user(active=False)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200


def test_login_redirects_only_to_local_next(client, make_user):
    user = make_user()
    response = client.post("/login?next=/account", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/login", query_string={"next": evil},
                               data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"] == "/", evil
        client.post("/logout")


def test_remember_me_sets_a_lasting_cookie(client, make_user):
    """A persistent session cookie (the row expires with it), not a separate remember-me cookie."""
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") and "Expires=" in c for c in cookies), cookies
    assert not any("remember_token" in c for c in cookies), cookies


def test_session_changes_at_login_but_keeps_language(client, make_user):
    user = make_user()
    client.get("/?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "attacker value"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"


def test_change_password(client, make_user):
    user = make_user()
    login(client, user)
    response = client.post("/account", data={"current": PASSWORD, "password": "new-password-1",
                                              "confirm": "new-password-1"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("new-password-1")
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    assert client.post("/login", data={"email": user.email, "password": "new-password-1"}).status_code == 302


def test_change_password_wrong_current_changes_nothing(client, make_user):
    user = make_user()
    login(client, user)
    before = user.password_hash
    response = client.post("/account", data={"current": "not-it-at-all", "password": "new-password-1",
                                              "confirm": "new-password-1"})
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user()
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user)
    login(laptop, user)
    phone.post("/account", data={"current": PASSWORD, "password": "new-password-1", "confirm": "new-password-1"})
    assert phone.get("/account").status_code == 200
    assert laptop.get("/account").status_code == 302, "the old session must stop working"


def test_registration_is_audited(client):
    register(client, GOOD)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.registered"))
    assert entry is not None and entry.to_state == "buyer"


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "canbo@kep.vn", "--password", "staff-password-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "canbo@kep.vn"))
    assert user.role == "admin" and user.check_password("staff-password-1")
    # Running it again promotes/updates instead of duplicating.
    result = runner.invoke(args=["create-admin", "canbo@kep.vn", "--password", "staff-password-2"])
    assert result.exit_code == 0
    assert _users() == 1


def test_create_admin_refuses_short_password(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "canbo@kep.vn", "--password", "short"])
    assert result.exit_code != 0
    assert _users() == 0


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_post_without_csrf_token_is_refused_and_changes_nothing(self, client):
        response = client.post("/register", data=GOOD)
        assert response.status_code == 400
        assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
        assert _users() == 0

    def test_post_with_the_token_from_the_page_works(self, client):
        token = csrf_token_from(client.get("/register").get_data(as_text=True))
        response = client.post("/register", data=dict(GOOD, csrf_token=token))
        assert response.status_code == 302
        link = registration_link(GOOD["email"])
        assert client.post(link).status_code == 400, "the button needs the token too"
        token = csrf_token_from(client.get(link).get_data(as_text=True))
        assert client.post(link, data={"csrf_token": token}).status_code == 302
        assert _users() == 1

    def test_logout_needs_csrf(self, client, make_user):
        user = make_user()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert client.post("/logout").status_code == 400
        assert client.get("/account").status_code == 200


class TestRateLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_FREE_FAILURES": 3,
                "LOGIN_LIMIT_PER_IP": "6 per 15 minutes", "RATELIMIT_STORAGE_URI": "memory://"}

    def test_the_account_waits_from_this_address_with_try_again_message(self, client, make_user):
        user = make_user()
        for _ in range(4):
            assert client.post("/login", data={"email": user.email, "password": "bad-guess-1"}).status_code == 200
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        html = response.get_data(as_text=True)
        assert "Sai mật khẩu quá nhiều lần" in html and "Vui lòng thử lại sau 1 phút." in html
        # Another account from the same address is not slowed by this account's failures.
        other = make_user()
        assert client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 302

    def test_per_ip_limit_across_accounts(self, client, make_user):
        for n in range(6):
            client.post("/login", data={"email": f"guess{n}@example.vn", "password": "bad-guess-1"})
        response = client.post("/login", data={"email": "guess99@example.vn", "password": "bad-guess-1"})
        assert response.status_code == 429

    def test_successful_logins_do_not_count(self, client, make_user):
        user = make_user()
        for _ in range(7):  # more than the 6 attempts the address may fail
            login(client, user)
            client.post("/logout")
        assert client.post("/login", data={"email": user.email, "password": "bad-guess-1"}).status_code == 200

    def test_limits_work_with_redis_storage(self, app, make_user):
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip("Redis is not running on 127.0.0.1:6379")
        from app import create_app
        config = dict(app.config, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15", RATELIMIT_ENABLED=True,
                      LOGIN_FREE_FAILURES=1)
        redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
        redis_app = create_app(config)
        redis_app.test_client_class = app.test_client_class
        client = redis_app.test_client()
        user = make_user()
        for _ in range(2):
            client.post("/login", data={"email": user.email, "password": "bad-guess-1"})
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
        keys = redis.Redis.from_url("redis://127.0.0.1:6379/15").keys()
        assert any(b"kep-login/" in key for key in keys), keys
        assert not any(user.email.encode() in key for key in keys), "no e-mail in the keys"
        assert 50 <= redis.Redis.from_url("redis://127.0.0.1:6379/15").ttl(
            next(key for key in keys if key.endswith(b"/wait"))) <= 60


@pytest.mark.parametrize("raw,expected", [
    ("0912 345 678", "0912345678"), ("+84 912 345 678", "0912345678"), ("+44 7700 900123", "+447700900123"),
    ("0044 7700 900123", "+447700900123"), ("+1 (415) 555-0100", "+14155550100"),
    ("+0123456789", None), ("+12", None), ("12345", None), ("+1234567890123456", None), ("", None),
])
def test_checkout_phone_accepts_numbers_from_abroad(raw, expected):
    from core.validators import normalize_any_mobile
    assert normalize_any_mobile(raw) == expected
