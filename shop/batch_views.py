"""The public page of a harvest batch, where its labels' QR codes lead: who grew it, where and when."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from shop import batches, certificates

bp = Blueprint("batches", __name__)


@bp.route("/batch/<code>")
def batch(code: str):
    found = batches.by_code(code)
    if found is None or found.farm.status != "approved":
        abort(404)
    return render_template("shop/batch.html", batch=found,
                           certificate=batches.certificate_shown(found, certificates.today()))
