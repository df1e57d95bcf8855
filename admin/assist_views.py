"""Assisted mode, staff side: record a farmer's consent, then open their screens."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts import assist
from accounts.farms import Farm
from admin.forms import ConsentForm
from core import transactions
from core.auth import admin_required
from core.extensions import db
from core.time import utcnow

bp = Blueprint("admin_assist", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


def _farm_or_404(farm_id: int) -> Farm:
    farm = db.session.get(Farm, farm_id)
    if farm is None:
        abort(404)
    return farm


@bp.route("/farms/<int:farm_id>/assist", methods=["GET", "POST"])
def assist_farm(farm_id: int):
    farm = _farm_or_404(farm_id)
    form = ConsentForm()
    now = utcnow()
    if form.validate_on_submit():
        try:
            assist.record_consent(farm, current_user, way=form.way.data, note=form.note.data,
                                  days=int(form.days.data), now=now)
        except assist.AssistError as error:
            transactions.fail()
            flash(str(error.message), "error")
        else:
            flash(_("Consent recorded. You can now help %(farm)s; everything you do is shown to the farmer.",
                    farm=farm.name), "success")
            return redirect(url_for("admin_assist.assist_farm", farm_id=farm.id))
    return render_template("admin/assist.html", farm=farm, form=form, consents=assist.consents(farm),
                           active=assist.active_consent(farm, now), now=now)


def _back_to_assist(farm_id: int, **_view_args):
    return redirect(url_for("admin_assist.assist_farm", farm_id=farm_id))


@bp.route("/farms/<int:farm_id>/assist/<int:consent_id>/end", methods=["POST"])
@transactions.on_domain_error(_back_to_assist)
def end_assist(farm_id: int, consent_id: int):
    farm = _farm_or_404(farm_id)
    consent = db.session.get(assist.AssistConsent, consent_id)
    if consent is None or consent.farm_id != farm.id:
        abort(404)
    assist.end_consent(consent, current_user, utcnow())
    flash(_("Assisted mode ended for %(farm)s.", farm=farm.name), "info")
    return redirect(url_for("admin_assist.assist_farm", farm_id=farm.id))
