"""Configuration, migrations, pages, headers, errors."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import config as settings
from app import create_app
from core.extensions import db
from tests.helpers import PRODUCTION_SETTINGS


def test_production_refuses_missing_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(settings.UnsafeConfiguration, match="SECRET_KEY"):
        create_app()
    assert not (tmp_path / "secret_key").exists(), "production must not invent a secret"


@pytest.mark.parametrize("secret", ["changeme", "short-secret", "dev"])
def test_production_refuses_weak_secret(monkeypatch, tmp_path, secret):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(settings.UnsafeConfiguration):
        create_app()


def test_production_refuses_debug(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(settings.UnsafeConfiguration, match="debug"):
        create_app()


def test_production_with_safe_settings_sets_secure_cookies(monkeypatch, tmp_path):
    for name, value in PRODUCTION_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/login", base_url="https://duakep.example")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_development_secret_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    first = settings.load(str(tmp_path))["SECRET_KEY"]
    second = settings.load(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_urls_use_psycopg3():
    assert settings.database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert settings.database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert settings.database_url("sqlite:///x") == "sqlite:///x"


def test_migrations_match_the_models(app):
    """The schema built by the migrations is exactly what the models describe."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"


def test_home_page_in_vietnamese_by_default(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="vi">' in html
    assert "Dứa đồi Kép, mua thẳng từ nhà vườn" in html
    assert "Đăng nhập" in html


def test_language_switch_is_remembered(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html, "the choice must be remembered"
    html = client.get("/login?lang=vi").get_data(as_text=True)
    assert "Đăng nhập" in html
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    assert '<html lang="vi">' in client.get("/?lang=xx").get_data(as_text=True)


def test_switcher_links_keep_the_page_and_its_query(client):
    html = client.get("/login?next=/account").get_data(as_text=True)
    assert 'href="/login?next=%2Faccount&amp;lang=en"' in html


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/does-not-exist"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_static_files_have_hashed_names_and_are_served(client):
    html = client.get("/").get_data(as_text=True)
    import re
    href = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html).group(1)
    response = client.get(href, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"].startswith("text/css")


def test_static_files_are_cached_long_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({**PRODUCTION_SETTINGS, "SECRET_KEY": "y" * 48, "STATIC_MAX_AGE": 31536000,
                      "TRUSTED_HOSTS": ["duakep.example"],
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    client = app.test_client()
    url = app.jinja_env.globals["static_url"]("css/site.css")
    cache = client.get(url, base_url="https://duakep.example").headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache


@pytest.mark.parametrize("lang,title", [("vi", "Không tìm thấy trang"), ("en", "Page not found")])
def test_404_page_in_both_languages(client, lang, title):
    response = client.get(f"/nothing-here?lang={lang}")
    assert response.status_code == 404
    assert title in response.get_data(as_text=True)


def test_405_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Không được phép" in response.get_data(as_text=True)


def test_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"email": "a" * 4096})
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)


def test_500_page_and_rollback(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom?lang=en")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_vnd_formatting_vietnamese_way(app):
    from flask_babel import force_locale

    from core.formatting import vnd
    with app.test_request_context():
        with force_locale("vi"):
            assert vnd(150000).replace("\xa0", " ") == "150.000 ₫"
            assert vnd(25000000).replace("\xa0", " ") == "25.000.000 ₫"
            assert vnd(0).replace("\xa0", " ") == "0 ₫"
        with force_locale("en"):
            assert vnd(150000) == "₫150,000"


def test_dates_are_shown_in_ho_chi_minh_time(app):
    from datetime import datetime

    from flask_babel import force_locale

    from core.formatting import datetime_local
    with app.test_request_context():
        with force_locale("vi"):
            # 17:30 UTC is 00:30 the next day in Vietnam (UTC+7).
            shown = datetime_local(datetime(2026, 11, 21, 17, 30))
            assert "00:30" in shown and "22" in shown


def test_dates_are_day_first_with_a_24_hour_clock_in_both_languages(app):
    from datetime import date, datetime

    from flask_babel import force_locale

    from core.formatting import date_local, datetime_local, party
    with app.test_request_context():
        with force_locale("en"):
            # 22:16 UTC on 1 December is 05:16 on 2 December in Vietnam; never "12/2/26, 5:16 AM".
            assert datetime_local(datetime(2026, 12, 1, 22, 16)) == "2 Dec 2026, 05:16"
            assert date_local(date(2026, 12, 2)) == "2 Dec 2026"
            assert (party(1, 0), party(2, 1), party(1, 3)) == ("1 adult", "2 adults, 1 child", "1 adult, 3 children")
        with force_locale("vi"):
            assert datetime_local(datetime(2026, 12, 1, 22, 16)) == "05:16, 02/12/2026"
            assert date_local(date(2026, 12, 2)) == "02/12/2026"
            assert party(2, 1) == "2 người lớn, 1 trẻ em"


def test_every_string_in_the_code_has_a_vietnamese_translation():
    """Extract the messages from the code now, and find each in the Vietnamese catalogue."""
    from pathlib import Path

    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)
    found = set()
    for folder in ("accounts", "admin", "core", "farmers", "shop", "tours", "templates"):
        method_map = [("**.html", "jinja2"), ("**.txt", "jinja2")] if folder == "templates" else [("**.py", "python")]
        for _, _, message, _, _ in extract_from_dir(root / folder, method_map, keywords=keywords):
            found.add(message if isinstance(message, str) else message[0])
    with open(root / "translations" / "vi" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale="vi")
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog
                  if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string])
                  and not m.fuzzy}
    assert len(found) > 100
    assert sorted(found - translated) == [], "run `make i18n-extract` and translate these in vi/messages.po"


def test_messages_with_user_text_are_escaped(app, client):
    """A translated message that carries user text (a farm name) must not become HTML."""
    from flask import flash, render_template_string
    from flask_babel import lazy_gettext

    @app.route("/flash-test")
    def flash_test():
        flash(lazy_gettext("%(farm)s is approved and can now sell.", farm="<script>alert(1)</script>"))
        return render_template_string("{% for m in get_flashed_messages() %}{{ m }}{% endfor %}"
                                      "|{{ msg }}", msg=lazy_gettext("Reason:") + " <b>")

    html = client.get("/flash-test").get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html
