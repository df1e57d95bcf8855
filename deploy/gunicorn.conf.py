"""gunicorn settings for Chợ Dứa Kép: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

The timeout is set against the longest outside call a request can make, so a slow service gives the friendly
page, never a worker killed mid-answer (gunicorn's bare "Internal Server Error"):

- Stripe, when a buyer starts a card payment: STRIPE_TIMEOUT_SECONDS (8) x 2 attempts, about 17 s at most;
  refunds are never sent from a request (``flask send-refunds`` does it);
- the database: connect 5 s, statement 15 s (config.py), then the friendly 503 page;
- mail is sent by the jobs, not by requests.

So a worker answers within about 20 s; ``timeout`` (60 s) leaves room and still kills a stuck worker.
The settings file (KEP_SETTINGS_FILE, default /etc/kep/kep.env) is read here too, for the bind address and the
number of workers, as the app reads it for everything else.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config import environment as _environment  # noqa: E402  (not "config": a gunicorn setting's name)

_env = _environment()

bind = _env.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(_env.get("GUNICORN_WORKERS", "3"))
worker_class = "sync"
timeout = 60
graceful_timeout = 30
keepalive = 5
# nginx on this machine is the only client; it sets X-Forwarded-*, which the app reads through ProxyFix
# (TRUSTED_PROXY_COUNT). gunicorn itself trusts the scheme header from loopback only.
forwarded_allow_ips = "127.0.0.1"
# One JSON line per request comes from the app (core/requestlog.py); gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = "info"
# Fewer, larger requests: photos are uploaded through the app (nginx buffers them first).
limit_request_line = 8190
proc_name = "kep-web"
