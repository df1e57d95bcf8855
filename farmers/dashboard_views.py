"""The farmer's income: the dashboard, its CSV export and the printable income statement (page and PDF).

A farmer sees their own farm only (a ``?farm=`` they add is ignored); commune staff name the farm with
``?farm=<id>``, which ``url_for`` carries on every link of this blueprint. Every figure comes from
farmers/dashboard.py, which sums the ledger.
"""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core.qr import qr_png_data_uri
from core.time import to_local, utcnow
from core.urls import public_url
from farmers import acting, dashboard, periods, statement_proof
from farmers import statement_pdf as statement_pdf_file
from farmers.dashboard_chart import chart
from shop.payments.reference import reference_for

bp = Blueprint("farmer_dashboard", __name__, url_prefix="/farmer")

# A farm that has sold, even if suspended since, still sees what it earned and is owed.
SHOWN_STATUSES = ("approved", "suspended")
# The CSV's words for the ledger's kinds and sources.
KIND_LABELS = {"sale": _l("Sale"), "fee": _l("Platform fee"), "refund": _l("Refund"),
               "fee_refund": _l("Platform fee returned"), "payout": _l("Payout")}
SOURCE_LABELS = {"produce": _l("Produce"), "tour": _l("Visit"), "delivery": _l("Delivery fee"),
                 "payout": _l("Payout")}


@bp.before_request
@login_required
def load_farm():
    """Whose figures: the farmer's own farm (a suspended farm still sees what it earned and is owed), or for
    staff the farm named by ``?farm=`` — without it they choose from the payouts list."""
    return acting.enter(SHOWN_STATUSES, "farmers/dashboard_unavailable.html",
                        choose=lambda: redirect(url_for("admin_payouts.payouts")))


acting.keep_farm_parameter(bp)


def _period():
    now = utcnow()
    period, problem = periods.from_args(request.args, to_local(now).date())
    return now, period, problem


@bp.route("/dashboard")
def index():
    now, period, problem = _period()
    farm = g.farm
    rows = dashboard.day_rows(farm.id, period)
    summary = dashboard.summarise(rows)
    items = dashboard.by_item(farm.id, period, summary.total.net)
    buckets = dashboard.buckets(rows, period)
    balance, slots = dashboard.balance_and_slots(farm.id, period, now)
    return render_template(
        "farmers/dashboard.html", farm=farm, period=period, problem=problem, summary=summary, items=items,
        units=dashboard.units_sold(items), buckets=buckets, chart=chart(buckets, period.bucket), balance=balance,
        slots=slots, fee_rates=dashboard.fee_rates(rows),
        named_periods=[(key, periods.LABELS[key]) for key in periods.NAMED])


@bp.route("/dashboard.csv")
def export():
    _now, period, problem = _period()
    if problem:  # a hand-typed URL: show the message on the dashboard rather than a file for other dates
        return redirect(url_for("farmer_dashboard.index", **request.args))
    farm = g.farm
    out = io.StringIO()
    out.write("\ufeff")  # the BOM: Excel then reads UTF-8 and shows Vietnamese correctly
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Date"), _("Kind"), _("Source"), _("Product or visit"), _("Quantity"), _("Amount (đồng)"),
                     _("Order"), _("Payout reference"), _("Platform fee rate")])
    kinds = {key: str(label) for key, label in KIND_LABELS.items()}
    sources = {key: str(label) for key, label in SOURCE_LABELS.items()}
    writer.writerows(
        [local_time, kinds.get(kind, kind), sources.get(source, source), _safe_cell(name or ""), quantity or "",
         amount, reference_for(order_id) if order_id else "", _safe_cell(payout_reference or ""), _rate(fee_bp)]
        for local_time, kind, source, name, quantity, amount, order_id, payout_reference, fee_bp
        in dashboard.ledger_lines(farm.id, period))
    filename = f"thu-nhap-{farm.id}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


def _rate(fee_bp: int | None) -> str:
    """A fee rate in basis points as the reader writes a percentage ("5 %", "2,5 %"); "" when not kept."""
    return "" if fee_bp is None else f"{format_decimal(fee_bp / 100)} %"


def _safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a product named "=HYPERLINK(...)" stays text)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/statement")
def statement():
    return render_template("farmers/statement.html", **_statement())


@bp.route("/statement.pdf")
def statement_pdf():
    """The statement as a PDF for the bank: the page's figures (same functions), with a QR code that opens the
    market's verify page (farmers/statement_proof.py)."""
    context = _statement()
    if context["problem"]:  # a hand-typed URL: the page says what is wrong rather than a file for other dates
        return redirect(url_for("farmer_dashboard.statement", **request.args))
    farm, period = context["farm"], context["period"]
    token = statement_proof.issue(current_app.secret_key, farm.id, period, context["summary"].total,
                                  context["issued_at"])
    verify_url = public_url("statements.verify", token=token)
    html = render_template("farmers/statement_pdf.html", verify_url=verify_url,
                           verify_qr=qr_png_data_uri(verify_url), **context)
    filename = f"sao-ke-thu-nhap-{farm.id}-{period.start.isoformat()}-{period.end.isoformat()}.pdf"
    return Response(statement_pdf_file.render(html), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


def _statement() -> dict:
    """What the statement shows, for the page and the PDF alike (issued to the second: the PDF's token says it)."""
    now, period, problem = _period()
    now = now.replace(microsecond=0)
    farm = g.farm
    rows = dashboard.day_rows(farm.id, period)
    return dict(farm=farm, period=period, problem=problem, months=dashboard.buckets(rows, period, "month"),
                summary=dashboard.summarise(rows), payouts=dashboard.payouts_in(farm.id, period),
                balance=dashboard.balance(farm.id, now=now), fee_rates=dashboard.fee_rates(rows), issued_at=now)
