"""What the checkout page shows for the choices in its form: the delivery address those choices mean, each
farm's delivery quote (or why it cannot deliver), each farm's total and the grand total. The page and its
live quote (/checkout/quote, for static/js/checkout.js) both read this, so they never disagree; the order
itself is priced again by shop.checkout when it is placed."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from core import inputs
from core.formatting import vnd
from shop import checkout, delivery


@dataclass
class Summary:
    chosen: dict[int, str]
    quoted: dict[int, tuple]
    per_farm: dict[int, int]
    total: int
    destination: delivery.Destination | None


def destination(form, addresses) -> delivery.Destination | None:
    """The saved address chosen, or the one typed in (its recipient is the buyer); None when nothing is
    entered. A saved address of someone else is never in ``addresses``, so it is never found."""
    chosen = form.address_id.data
    if chosen and chosen != "new":
        saved = next((a for a in addresses if str(a.id) == str(chosen)), None)
        if saved is None:
            return None
        return delivery.Destination(saved.recipient_name, saved.phone, saved.province_code, saved.commune_code,
                                    saved.street)
    if not (form.province.data or form.commune.data or (form.street.data or "").strip()):
        return None
    return delivery.Destination((form.name.data or "").strip(), (form.phone.data or "").strip(),
                                inputs.parse_id(form.province.data) or -1, inputs.parse_id(form.commune.data) or -1,
                                (form.street.data or "").strip())


def summarize(cart, form, addresses) -> Summary:
    chosen = checkout.receiving(cart, {farm.id: form.fulfilment(farm).data for farm in form.receiving_farms})
    where = destination(form, addresses)
    quoted = checkout.quotes(cart, chosen, where)
    per_farm, total = checkout.totals(cart, chosen, where, quoted)
    return Summary(chosen, quoted, per_farm, total, where)


def days_text(found) -> str:
    if found is None:
        return ""
    if found.days_min == found.days_max:
        return ngettext("Arrives in %(num)d day", "Arrives in %(num)d days", found.days_max)
    return _("Arrives in %(low)d–%(high)d days", low=found.days_min, high=found.days_max)


def button_text(total: int) -> str:
    return _("Place order and pay %(total)s", total=vnd(total))


def as_json(cart, summary: Summary) -> dict:
    """The live quote: per farm its fee, total, days and reason; the grand total and the button's words; the
    hidden fields to set so that what is submitted is what is now shown."""
    farms, shown = {}, {"shown_total": str(cart.total_vnd)}
    for farm, _lines in cart.by_farm():
        found, reason = summary.quoted[farm.id]
        farms[str(farm.id)] = {"fee": found.fee_vnd if found else 0, "fee_text": vnd(found.fee_vnd) if found else "",
                               "total_text": vnd(summary.per_farm[farm.id]), "days_text": days_text(found),
                               "error": str(reason) if reason else ""}
        shown[f"fee_{farm.id}"] = str(found.fee_vnd if found else 0)
    return {"farms": farms, "total": summary.total, "total_text": vnd(summary.total),
            "button": button_text(summary.total), "shown": shown}
