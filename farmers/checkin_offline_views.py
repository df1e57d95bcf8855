"""Check-in without signal (tours/offline_checkin.py): the page that works offline, the day's list it keeps,
the sync of its queued check-ins (routes of farmer_tours), and the service worker that keeps the page.

The service worker is served from /farmer/checkin/sw.js by a blueprint of its own, without a login: the
browser fetches it again to look for updates, also after the farmer's session has ended, and a redirect to
the login page would make that fetch fail. It holds no data, only the addresses of the page and its files.
It is registered twice, for /farmer/checkin/ (the page) and /checkin/ (the QR codes' address, so a QR code
scanned with the phone's camera without signal opens the cached page), hence ``Service-Worker-Allowed``.
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from core.time import utcnow
from farmers.tour_views import actor, bp
from tours import offline_checkin

sw_bp = Blueprint("checkin_sw", __name__)

# What the page needs besides itself, cached by the service worker (static_url gives their hashed names).
PAGE_FILES = ("css/site.css", "img/favicon.svg", "js/checkin-offline.js")


@bp.route("/farmer/checkin/offline")
def checkin_offline():
    return render_template("tours/checkin_offline.html", farm=g.farm)


@bp.route("/farmer/checkin/today.json")
def checkin_today():
    body = offline_checkin.day_list(g.farm, utcnow())
    body["csrf"] = generate_csrf()  # a fresh one: the page may have been opened offline hours ago
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/farmer/checkin/sync", methods=["POST"])
def checkin_sync():
    """The phone's queued check-ins, as JSON; the CSRF token comes in the X-CSRFToken header."""
    events = offline_checkin.parse_events(request.get_json(silent=True))
    if events is None:
        return jsonify(error=_("These check-ins could not be read. Open the check-in page again while you "
                               "have signal.")), 400
    answers = offline_checkin.sync(actor(), g.farm, events, utcnow())
    response = jsonify(answers=[answer.as_json() for answer in answers])
    response.headers["Cache-Control"] = "no-store"
    return response


@sw_bp.route("/farmer/checkin/sw.js")
def service_worker():
    static_url = current_app.jinja_env.globals["static_url"]
    files = [static_url(name) for name in PAGE_FILES]
    version = hashlib.sha256(" ".join(files).encode()).hexdigest()[:12]
    body = render_template("tours/checkin_sw.js", files=files, version=version,
                           page=url_for("farmer_tours.checkin_offline"))
    return body, 200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache",
                       "Service-Worker-Allowed": "/"}
