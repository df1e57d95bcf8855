"""gunicorn settings for Chợ Dứa Kép: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

The timeout is set against the longest outside call a request can make, so a slow service gives the friendly
page, never a worker killed mid-answer (gunicorn's bare "Internal Server Error"):

- Stripe, when a buyer starts or returns from a card payment: STRIPE_TIMEOUT_SECONDS (8) x 2 attempts plus
  under 2 s of back-off, about 18 s, one call per request; card refunds are never sent from a request
  (``flask send-refunds`` does it), except the staff "send now" button, which stops starting new ones after
  15 s (so at most about 33 s);
- the database: connect 5 s, one statement 15 s, one lock wait 5 s, retried 3 times (config.py), then the
  friendly 503 page;
- mail at the end of a request stops starting new messages after 10 s (MAIL_TIMEOUT_SECONDS 5 each).

So a worker answers well within ``timeout`` (60 s), which still kills a stuck one; ``graceful_timeout`` (40 s)
lets a request in flight finish on restart.
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
graceful_timeout = 40
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
