"""One canonical address for every link, trusted hosts, production refusals, the settings file, /healthz,
request ids and request logs."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

import config as settings
from app import create_app
from core.extensions import db
from core.outbox import Notification
from tests.helpers import PRODUCTION_SETTINGS


@pytest.fixture
def app_config():
    return {"PUBLIC_BASE_URL": "https://duakep.example",
            "TRUSTED_HOSTS": ["duakep.example", "www.duakep.example", "localhost"]}


def _reset_notes() -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == "password_reset")))


def test_a_spoofed_host_header_is_refused_and_nothing_is_mailed(client, make_user):
    user = make_user(email="an@duakep.vn")
    response = client.post("/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert _reset_notes() == []


def test_reset_links_use_the_public_address_whatever_host_was_asked(client, make_user):
    user = make_user(email="an@duakep.vn")
    response = client.post("/password/forgot", data={"email": user.email}, headers={"Host": "www.duakep.example"})
    assert response.status_code == 302
    [note] = _reset_notes()
    assert "https://duakep.example/password/reset/" in note.body
    assert "www.duakep.example" not in note.body and "localhost" not in note.body


def test_open_graph_and_canonical_links_use_the_public_address(client, make_product):
    product = make_product(name="Dứa Queen Kép")
    html = client.get(f"/products/{product.slug}").get_data(as_text=True)
    assert f'href="https://duakep.example/products/{product.slug}"' in html
    assert "http://localhost/products" not in html


def test_development_trusts_only_the_public_host_and_loopback():
    assert settings.trusted_hosts("http://127.0.0.1:5000", [], production=False) == ["127.0.0.1", "localhost"]
    assert settings.trusted_hosts("https://duakep.vn", ["www.duakep.vn"], production=True) == \
        ["duakep.vn", "www.duakep.vn"]


# -- production refuses what would lose money or links ---------------------------------------------------

def _production(monkeypatch, tmp_path, **changes):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    for name, value in {**PRODUCTION_SETTINGS, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return lambda: create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})


@pytest.mark.parametrize("changes,reason", [
    ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "http://duakep.example"}, "PUBLIC_BASE_URL"),
    ({"BANK_WEBHOOK_SECRET": None}, "BANK_WEBHOOK_SECRET"),
    ({"BANK_WEBHOOK_SECRET": "short"}, "BANK_WEBHOOK_SECRET"),
    ({"STAFF_EMAIL": None}, "STAFF_EMAIL"),
    ({"S3_PUBLIC_BASE_URL": "http://photos.duakep.example"}, "S3_PUBLIC_BASE_URL"),
    ({"BANK_ACCOUNT_NUMBER": None, "BANK_BIN": None, "BANK_ACCOUNT_NAME": None}, "receiving account"),
    ({"BANK_ACCOUNT_NUMBER": settings.DEMO_BANK["BANK_ACCOUNT_NUMBER"]}, "receiving account"),
])
def test_production_refuses_to_start_without_each_setting(monkeypatch, tmp_path, changes, reason):
    start = _production(monkeypatch, tmp_path, **changes)
    with pytest.raises(settings.UnsafeConfiguration, match=reason) as raised:
        start()
    assert "\n" not in str(raised.value), "one line per reason"


def test_production_starts_with_a_receiving_account_staff_saved(monkeypatch, tmp_path, _schema):
    from core.settings_store import Setting

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    for name, value in PRODUCTION_SETTINGS.items():
        monkeypatch.setenv(name, value)
    for name in ("BANK_BIN", "BANK_ACCOUNT_NUMBER", "BANK_ACCOUNT_NAME"):
        monkeypatch.delenv(name)
    config = {"SQLALCHEMY_DATABASE_URI": _schema}
    with pytest.raises(settings.UnsafeConfiguration, match="receiving account"):
        create_app(config)
    app = create_app({**config, "APP_ENV": "development"})
    with app.app_context():
        db.session.add_all([Setting(key="bank_bin", value="970436"), Setting(key="bank_account_number", value="0011001234567"),
                            Setting(key="bank_account_name", value="HTX DUA KEP")])
        db.session.commit()
    try:
        assert create_app(config).config["APP_ENV"] == "production"
    finally:
        with app.app_context():
            db.session.execute(db.delete(Setting))
            db.session.commit()


def test_the_demo_account_is_only_a_development_default(monkeypatch, tmp_path):
    for name in settings.DEMO_BANK:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    assert settings.load(str(tmp_path))["BANK_ACCOUNT_NUMBER"] == settings.DEMO_BANK["BANK_ACCOUNT_NUMBER"]
    monkeypatch.setenv("APP_ENV", "production")
    assert settings.load(str(tmp_path))["BANK_ACCOUNT_NUMBER"] == ""


# -- one settings file for the app, gunicorn and every command --------------------------------------------

def test_the_settings_file_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    env_file = tmp_path / "kep.env"
    env_file.write_text("DATABASE_URL=postgresql://kep@db/kep\nORDER_HOLD_MINUTES=25\nSTAFF_EMAIL=file@duakep.vn\n")
    monkeypatch.setenv("KEP_SETTINGS_FILE", str(env_file))
    monkeypatch.setenv("STAFF_EMAIL", "env@duakep.vn")
    loaded = settings.load(str(tmp_path))
    assert loaded["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kep@db/kep"
    assert loaded["ORDER_HOLD_MINUTES"] == 25
    assert loaded["STAFF_EMAIL"] == "env@duakep.vn"


def test_the_instance_folder_comes_from_the_settings_file_too(monkeypatch, tmp_path):
    env_file = tmp_path / "kep.env"
    env_file.write_text(f"INSTANCE_PATH={tmp_path / 'var-lib-kep'}\nDATABASE_URL=sqlite:///{tmp_path / 'k.db'}\n")
    monkeypatch.setenv("KEP_SETTINGS_FILE", str(env_file))
    monkeypatch.delenv("INSTANCE_PATH", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    assert create_app().instance_path == str(tmp_path / "var-lib-kep")


def test_a_named_settings_file_that_is_missing_stops_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("KEP_SETTINGS_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(settings.UnsafeConfiguration, match="missing.env"):
        settings.load(str(tmp_path))


def test_a_bad_number_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("ORDER_HOLD_MINUTES", "thirty")
    with pytest.raises(settings.UnsafeConfiguration, match="ORDER_HOLD_MINUTES"):
        settings.load(str(tmp_path))


# -- /healthz ----------------------------------------------------------------------------------------------

def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path, instance_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", instance_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "SERVER_NAME": "localhost",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "down"


# -- request ids and request logs ---------------------------------------------------------------------------

def test_each_request_is_logged_once_with_its_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="kep.request"):
        response = client.get("/products?q=secret-key", headers={"X-Request-ID": "nginx-req-12345678"})
    assert response.headers["X-Request-ID"] == "nginx-req-12345678"
    [record] = [r for r in caplog.records if r.name == "kep.request"]
    assert record.fields == {"event": "request", "method": "GET", "path": "/products", "status": 200,
                             "ms": record.fields["ms"], "request_id": "nginx-req-12345678", "ip": "127.0.0.1"}
    assert "secret-key" not in json.dumps(record.fields)


def test_a_request_id_that_is_not_plausible_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>" and len(response.headers["X-Request-ID"]) == 16


def test_the_error_page_shows_the_request_id(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom-for-test", headers={"X-Request-ID": "abcdef0123456789"})
    assert response.status_code == 500
    assert "abcdef0123456789" in response.get_data(as_text=True)


def test_log_lines_are_json_with_the_request_id():
    from core.requestlog import JsonFormatter

    record = logging.LogRecord("kep.request", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"event": "request", "status": 200}
    record.request_id = "r-123"
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "r-123" and line["status"] == 200 and line["level"] == "INFO"


def test_tokens_in_paths_never_reach_the_logs(client, caplog):
    token = "eyJ1IjoxfQ.secret-reset-token-value"
    with caplog.at_level(logging.INFO):
        client.get(f"/password/reset/{token}")
        client.get(f"/no-such-page/{token}")
    lines = [r for r in caplog.records if r.name == "kep.request"]
    assert [r.fields["path"] for r in lines] == ["/password/reset/<token>", "/no-such-page/…"]
    assert not [r for r in caplog.records if token in r.getMessage() or token in json.dumps(getattr(r, "fields", {}))]
