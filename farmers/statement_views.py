"""The public page a bank opens from the QR code of an income statement PDF: /statements/verify/<token>.

Anyone with the token may see it (the token is the key, as a refund link is): the farm's name and village, the
period, the time of issue and the totals as issued, and whether today's ledger gives the same totals. Nothing
else: no bank account, no buyers, no products. A token the market did not sign is a 404 page that says so.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from farmers import statement_proof

bp = Blueprint("statements", __name__)


@bp.route("/statements/verify/<token>")
def verify(token: str):
    issued = statement_proof.read(current_app.secret_key, token)
    farm = statement_proof.farm_of(issued) if issued else None
    if farm is None:
        return render_template("farmers/statement_unknown.html"), 404
    today = statement_proof.figures_today(issued)
    response = current_app.make_response(render_template(
        "farmers/statement_verify.html", issued=issued, farm=farm, figures=issued.figures, today=today,
        still_matches=today == issued.figures))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
