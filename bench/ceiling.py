"""The ceiling: a bare Flask app returning a short page, served with the same gunicorn settings.

No database, no templates, no extensions: what 2 sync workers can do at best on this machine.
"""
from __future__ import annotations

from flask import Flask

PAGE = "<!doctype html><html lang=\"vi\"><title>Chợ Dứa Kép</title><p>Xin chào!</p></html>"

app = Flask(__name__)


@app.route("/")
def index() -> str:
    return PAGE
