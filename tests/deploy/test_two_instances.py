"""Two app instances side by side, as production runs them on several machines: two gunicorns (from
deploy/gunicorn.conf.py, two workers each) sharing one PostgreSQL database, one Redis and one object store
(moto's S3 server). A browser logs in on one and carries on on the other, a photo uploaded on one is served by
the other, logging out (or out of every device) on one ends the session on both, and the login limit counts
failures made on either.

Needs PostgreSQL (TEST_DATABASE_URL; the test makes its own database from it) and Redis on 127.0.0.1:6379.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

import config as settings
from bench.client import HttpSession, csrf_token_from
from tests.deploy.test_deployment import clean_env
from tests.helpers import free_port, requires_postgres, wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "duakep.test"
FARMER, PASSWORD = "an.nguyen@duakep.vn", "dua-kep-2026"  # from demo_data.py
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:  # noqa: BLE001 - any failure means: not here
        return False


pytestmark = [pytest.mark.slow, requires_postgres,
              pytest.mark.skipif(not _redis_answers(), reason="needs Redis on 127.0.0.1:6379 (CI starts it)")]


@pytest.fixture(scope="module")
def database():
    base = make_url(settings.database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"{base.database}_two_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, database):
    from tests import s3_server

    folder = tmp_path_factory.mktemp("two")
    endpoint, stop_moto = s3_server.start_moto()
    bucket = s3_server.make_bucket(endpoint)
    ports = [free_port(), free_port()]
    env = clean_env(**settings.local_production_settings(f"https://{HOST}"), FLASK_APP="app", KEP_SETTINGS_FILE="",
                    DATABASE_URL=database, RATELIMIT_STORAGE_URI=REDIS_URL,
                    RATELIMIT_KEY_PREFIX=f"kep-two-{secrets.token_hex(6)}", LOGIN_LIMIT_PER_IP="4 per 15 minutes",
                    **{name: str(value) for name, value in s3_server.app_config(endpoint, bucket).items()})
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([str(BIN / "flask"), "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    servers, logs = [], []
    try:
        for n, port in enumerate(ports):
            log = open(folder / f"gunicorn-{n}.log", "w")  # noqa: SIM115 - closed below
            logs.append(log)
            servers.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "app:create_app()"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**env, "INSTANCE_PATH": str(folder / f"instance-{n}"), "GUNICORN_BIND": f"127.0.0.1:{port}",
                     "GUNICORN_WORKERS": "2"}))
        for port, server in zip(ports, servers):
            wait_until(lambda port=port: HttpSession("127.0.0.1", port, host_header=HOST).get("/healthz").status == 200,
                       f"the instance on port {port}", seconds=60, process=server)
        yield {"ports": ports, "endpoint": endpoint, "bucket": bucket, "database": database}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        for log in logs:
            log.close()
        stop_moto()


def on(browser: HttpSession, port: int) -> HttpSession:
    """The same browser (its cookies), talking to the instance on ``port``."""
    browser.port = port
    return browser


def log_in(browser: HttpSession, email: str = FARMER, password: str = PASSWORD):
    page = browser.get("/login")
    return browser.post("/login", {"csrf_token": csrf_token_from(page.text), "email": email, "password": password},
                        referer="/login")


def _sessions_of(database: str, email: str) -> int:
    from accounts.models import User
    from accounts.session_store import StoredSession

    engine = create_engine(settings.database_url(database))
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(StoredSession).join(User)
                                .where(User.email == email)).scalar_one()
    finally:
        engine.dispose()


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (240, 200, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_log_in_on_one_instance_and_carry_on_on_the_other(cluster):
    a, b = cluster["ports"]
    browser = HttpSession("127.0.0.1", a, host_header=HOST)
    assert log_in(browser).status == 302
    account = on(browser, b).get("/account")
    assert account.status == 200 and FARMER in account.text
    assert on(browser, a).get("/farmer/products").status == 200


def test_a_photo_uploaded_on_one_instance_is_served_by_the_other(cluster):
    from tests import s3_server

    a, b = cluster["ports"]
    browser = HttpSession("127.0.0.1", a, host_header=HOST)
    assert log_in(browser).status == 302
    listing = browser.get("/farmer/products").text
    product_id = re.search(r"/farmer/products/(\d+)/edit", listing).group(1)
    edit = browser.get(f"/farmer/products/{product_id}/edit")
    before = set(s3_server.object_keys(cluster["endpoint"], cluster["bucket"]))
    answer = browser.post(f"/farmer/products/{product_id}/photos",
                          {"csrf_token": csrf_token_from(edit.text, f"/farmer/products/{product_id}/photos")},
                          referer=f"/farmer/products/{product_id}/edit",
                          files={"photos": ("doi-dua.jpg", _jpeg(), "image/jpeg")})
    assert answer.status == 302, answer.text[:300]
    added = set(s3_server.object_keys(cluster["endpoint"], cluster["bucket"])) - before
    assert added, "the photo is in the shared bucket"
    page = on(browser, b).get(f"/farmer/products/{product_id}/edit").text
    shown = [path for path in re.findall(r'src="(/media/[^"]+)"', page) if path.removeprefix("/media/") in added]
    assert shown, "the other instance shows the new photo"
    photo = HttpSession("127.0.0.1", b, host_header=HOST).get(shown[0])
    assert photo.status == 200 and photo.content_type == "image/webp" and photo.body[:4] == b"RIFF"


def test_logging_out_on_one_instance_logs_out_on_both(cluster):
    a, b = cluster["ports"]
    browser = HttpSession("127.0.0.1", a, host_header=HOST)
    assert log_in(browser).status == 302
    copied = dict(browser.cookies)
    home = browser.get("/account")
    assert browser.post("/logout", {"csrf_token": csrf_token_from(home.text, "/logout")},
                        referer="/account").status == 302
    thief = HttpSession("127.0.0.1", b, host_header=HOST)
    thief.cookies = copied
    for port in (a, b):
        answer = on(thief, port).get("/account")
        assert answer.status == 302 and "/login" in answer.location


def test_log_out_of_all_devices_on_one_instance_ends_every_session_on_both(cluster):
    a, b = cluster["ports"]
    phone, laptop = HttpSession("127.0.0.1", a, host_header=HOST), HttpSession("127.0.0.1", b, host_header=HOST)
    assert log_in(phone).status == 302 and log_in(laptop).status == 302
    before = _sessions_of(cluster["database"], FARMER)
    assert before >= 2
    account = laptop.get("/account")
    assert laptop.post("/account/sessions/end-all",
                       {"csrf_token": csrf_token_from(account.text, "/account/sessions/end-all")},
                       referer="/account").status == 302
    assert _sessions_of(cluster["database"], FARMER) == 0
    for browser in (phone, laptop):
        for port in (a, b):
            assert on(browser, port).get("/account").status == 302
    print(f"\nsessions revoked by one 'log out of all devices' on instance B: {before}")


def test_the_login_limit_counts_failures_on_both_instances(cluster):
    a, b = cluster["ports"]
    stranger = HttpSession("127.0.0.1", a, host_header=HOST)
    answers = [log_in(on(stranger, port), email=f"khach{n}@example.vn", password="sai-mat-khau").status
               for n, port in enumerate((a, b, a, b))]
    assert answers == [200, 200, 200, 200]  # four failures (LOGIN_LIMIT_PER_IP is 4 per 15 minutes), two on each
    for port in (a, b):
        assert log_in(on(stranger, port), email="khach9@example.vn", password="sai-mat-khau").status == 429
