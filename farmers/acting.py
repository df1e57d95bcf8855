"""Which farm a farmer screen works on.

A farmer works on their own farm. Commune staff work on the farm named by ``?farm=<id>``
(assisted mode), only while that farmer's consent is on record (accounts.assist); every link and
form of the blueprint then carries ``farm=`` so they stay on that farm.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, render_template, request
from flask_login import current_user

from accounts import assist
from accounts.farms import Farm
from core import inputs
from core.extensions import db
from core.time import utcnow


@dataclass
class FarmInHand:
    farm: Farm | None
    acting: bool = False
    # None (go on), "choose" (staff without ?farm=), "no_consent" or "unavailable" (farm not in a usable state).
    refusal: str | None = None


def resolve(statuses: tuple[str, ...] = ("approved",), staff_statuses: tuple[str, ...] | None = None) -> FarmInHand:
    """The farm for this request, or why there is none. Aborts 403/404 for wrong accounts and farms.

    ``statuses``: farm states in which the screens work; ``staff_statuses`` may widen them for staff
    (e.g. to settle a suspended farm's paid orders)."""
    if current_user.is_admin:
        raw = request.args.get("farm", "")
        if not raw.strip():
            return FarmInHand(None, acting=True, refusal="choose")
        farm_id = inputs.parse_id(raw)
        farm = db.session.get(Farm, farm_id) if farm_id is not None else None
        if farm is None:
            abort(404)
        if assist.active_consent(farm, utcnow()) is None:
            return FarmInHand(farm, acting=True, refusal="no_consent")
        usable = farm.status in (staff_statuses or statuses)
        return FarmInHand(farm, acting=True, refusal=None if usable else "unavailable")
    farm = current_user.farm
    if farm is None:
        if not current_user.is_farmer:
            abort(403)  # a buyer who never applied to sell
        return FarmInHand(None, refusal="unavailable")
    if farm.status in statuses:
        if not current_user.is_farmer:
            abort(403)
        return FarmInHand(farm)
    return FarmInHand(farm, refusal="unavailable")


def enter(statuses: tuple[str, ...], unavailable_template: str, choose=None,
          staff_statuses: tuple[str, ...] | None = None):
    """The body of a farmer blueprint's ``before_request``: sets ``g.farm`` or returns the refusal page."""
    hand = resolve(statuses, staff_statuses)
    g.acting_for_farm = hand.farm.id if hand.acting and hand.farm is not None else None
    g.farm = None
    if hand.refusal == "choose":
        return choose() if choose is not None else abort(404)
    if hand.refusal == "no_consent":
        return render_template("farmers/assist_needed.html", farm=hand.farm), 403
    if hand.refusal == "unavailable":
        return render_template(unavailable_template, farm=hand.farm), 403
    g.farm = hand.farm
    return None


def keep_farm_parameter(bp) -> None:
    """Carry ``farm=`` on every URL the blueprint builds while staff act for a farm."""
    @bp.url_defaults
    def _keep(endpoint: str, values: dict) -> None:
        if g.get("acting_for_farm") is not None:
            values.setdefault("farm", g.acting_for_farm)

    @bp.context_processor
    def _acting() -> dict:
        return {"acting_for_farm": g.get("acting_for_farm")}
