"""deploy/ followed as an operator would: the settings file from kep.env.example, gunicorn from
deploy/gunicorn.conf.py, nginx from deploy/nginx/kep.conf with a self-signed certificate, and the jobs as the
systemd units run them. The site then logs a user in over TLS, answers /healthz, and the jobs use the database
of the settings file, not a fresh development one.

Only ports of 127.0.0.1 are used; nginx and gunicorn are stopped at the end.
"""
from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.client import HttpSession, csrf_token_from
from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
HOST = "duakep.test"
ADMIN_EMAIL, ADMIN_PASSWORD = "canbo@duakep.test", "Rung-dua-Huong-Son-2026"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (apt-get install nginx; CI installs it)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl"),
]


def settings_file(folder: Path, values: dict[str, str]) -> Path:
    """deploy/kep.env.example with the blanks filled in, as the README tells the operator to do."""
    lines = []
    for line in (DEPLOY / "kep.env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values[name]}" if "=" in line and not line.startswith("#") and name in values
                     else line)
    missing = set(values) - {line.split("=", 1)[0] for line in lines}
    lines += [f"{name}={values[name]}" for name in sorted(missing)]
    path = folder / "kep.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """What systemd gives a service: no settings in the environment except those named."""
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root"), **extra}


def nginx_site(folder: Path, https_port: int, http_port: int, app_port: int, instance: Path) -> Path:
    """deploy/nginx/kep.conf with this machine's ports, names and paths put in."""
    site = (DEPLOY / "nginx" / "kep.conf").read_text()
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("server_name duakep.vn;", f"server_name {HOST};")
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
    site = site.replace("/etc/kep/tls/", f"{folder}/tls/")
    site = site.replace("/var/lib/kep/instance/", f"{instance}/")
    site = site.replace("/var/www/letsencrypt", str(folder / "acme"))
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(f"""
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
""")
    return main


def unit_command(unit: str, job: str, env_file: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart and environment of a systemd unit, as systemd would run it for instance ``job``."""
    text = (DEPLOY / "systemd" / unit).read_text()
    env = clean_env()
    command = None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "EnvironmentFile":
            assert value == "/etc/kep/kep.env"
            env.update(_env_file(env_file))
        elif key == "Environment":
            env.update(pair.split("=", 1) for pair in shlex.split(value))
        elif key == "ExecStart":
            command = value.replace("%i", job).replace("/srv/kep", str(ROOT))
    assert command, f"no ExecStart in {unit}"
    env["KEP_SETTINGS_FILE"] = str(env_file)
    return shlex.split(command), env


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {name: value for name, value in pairs}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deploy")
    instance = folder / "instance"
    (folder / "tls").mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                    "-keyout", str(folder / "tls" / "privkey.pem"), "-out", str(folder / "tls" / "fullchain.pem")],
                   check=True, capture_output=True)
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    env_file = settings_file(folder, {
        "SECRET_KEY": "s3cr3t-" + "k" * 48, "PUBLIC_BASE_URL": f"https://{HOST}:{https_port}",
        "DATABASE_URL": f"sqlite:///{folder / 'kep.sqlite3'}", "RATELIMIT_STORAGE_URI": "memory://",
        "BANK_BIN": "970405", "BANK_NAME": "Agribank", "BANK_ACCOUNT_NUMBER": "2500205777666",
        "BANK_ACCOUNT_NAME": "HTX DUA KEP", "BANK_WEBHOOK_SECRET": "w" * 40, "STAFF_EMAIL": ADMIN_EMAIL,
        "UPLOAD_FOLDER": str(folder / "uploads"), "INSTANCE_PATH": str(instance),
        "GUNICORN_BIND": f"127.0.0.1:{app_port}", "GUNICORN_WORKERS": "2"})
    env = clean_env(KEP_SETTINGS_FILE=str(env_file), FLASK_APP="app")
    # The README's steps: migrate, create the staff account, start the web server (the unit's ExecStart).
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([str(BIN / "flask"), "create-admin", ADMIN_EMAIL], cwd=ROOT, check=True, capture_output=True,
                   env={**env, "ADMIN_PASSWORD": ADMIN_PASSWORD})
    command, web_env = unit_command("kep-web.service", "", env_file)
    log = open(folder / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    gunicorn = subprocess.Popen([str(BIN / "gunicorn"), *command[1:]], cwd=ROOT, env=web_env, stdout=log,
                                stderr=subprocess.STDOUT)
    nginx = subprocess.Popen(["nginx", "-c", str(nginx_site(folder, https_port, http_port, app_port, instance)),
                              "-p", str(folder)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: HttpSession("127.0.0.1", app_port, host_header=HOST).get("/healthz").status == 200,
                   "gunicorn", process=gunicorn)
        wait_until(lambda: HttpSession("127.0.0.1", https_port, scheme="https",
                                       host_header=f"{HOST}:{https_port}").get("/healthz").status == 200, "nginx",
                   process=nginx)
        yield {"folder": folder, "env_file": env_file, "https_port": https_port, "http_port": http_port}
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
        for process in (nginx, gunicorn):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def _browser(site) -> HttpSession:
    return HttpSession("127.0.0.1", site["https_port"], scheme="https", host_header=f"{HOST}:{site['https_port']}")


def test_healthz_answers_through_nginx_over_tls(site):
    answer = _browser(site).get("/healthz")
    assert answer.status == 200 and '"database": "ok"' in answer.text.replace('":"', '": "')


def test_plain_http_is_sent_to_https(site):
    answer = HttpSession("127.0.0.1", site["http_port"], host_header=HOST).get("/login")
    assert answer.status == 301 and answer.location.startswith(f"https://{HOST}")


def test_staff_log_in_over_tls_with_secure_cookies(site):
    browser = _browser(site)
    page = browser.get("/login")
    assert page.status == 200
    answer = browser.post("/login", {"csrf_token": csrf_token_from(page.text), "email": ADMIN_EMAIL,
                                     "password": ADMIN_PASSWORD}, referer="/login")
    assert answer.status == 302, answer.text[:500]
    account = browser.get("/account")
    assert account.status == 200 and ADMIN_EMAIL in account.text


def test_a_host_that_is_not_the_site_is_refused_through_nginx(site):
    answer = HttpSession("127.0.0.1", site["https_port"], scheme="https", host_header="evil.example").get("/login")
    assert answer.status in (400, 404, 421) and "evil.example" not in answer.text


@pytest.mark.parametrize("timer", sorted(p.name for p in (DEPLOY / "systemd").glob("*.timer")))
def test_each_timer_runs_its_job_with_the_database_of_the_settings_file(site, timer):
    text = (DEPLOY / "systemd" / timer).read_text()
    job = re.search(r"^Unit=kep-job@(.+)\.service$", text, re.M).group(1)
    assert re.search(r"^OnCalendar=\S", text, re.M)
    command, env = unit_command("kep-job@.service", job, site["env_file"])
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no such table" not in done.stderr


def test_a_cron_line_with_only_the_settings_file_uses_the_right_database(site):
    env = clean_env(KEP_SETTINGS_FILE=str(site["env_file"]), FLASK_APP="app")
    done = subprocess.run([str(BIN / "flask"), "expire-orders"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "Expired 0 unpaid order(s)." in done.stdout, done.stderr


def test_the_worker_service_runs_until_sigterm_then_stops_cleanly(site):
    command, env = unit_command("kep-worker.service", "", site["env_file"])
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = _first_line(worker, timeout=60)  # the app is loaded and the signal handlers are in place
        assert first == "outbox worker started (production)", first
        time.sleep(1)
        assert worker.poll() is None, worker.communicate()[0]
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0]
    finally:
        worker.kill()
    assert worker.returncode == 0, output
    assert "outbox worker stopped after sending 0 message(s)" in output


def _first_line(process, timeout: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"nothing printed within {timeout} s"
    return process.stdout.readline().strip()
