"""The farmer's guides and vehicles shared by visits (routes of farmer_tours; rules in tours/resources.py): add,
change and remove them, and tick the ones each visit uses."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from core.forms import ActionForm, Form, WholeNumberField
from farmers.tour_views import actor, bp, fail, tour_or_404
from tours import resources
from tours.forms import CheckboxesField
from tours.manage import TourError
from tours.resource_models import MAX_COUNT

KIND_LABELS = {"guide": _l("Guides"), "vehicle": _l("A vehicle")}


class ResourceForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(message=_l("Enter a name."))],
                       render_kw={"maxlength": resources.MAX_NAME, "autocomplete": "off"})
    kind = RadioField(_l("What it is"), default="vehicle",
                      choices=[SelectChoice(code, label) for code, label in KIND_LABELS.items()],
                      validators=[InputRequired(message=_l("Choose guides or a vehicle."))])
    count = WholeNumberField(_l("How many guides, or the vehicle's seats for visitors"),
                             validators=[InputRequired(message=_l("Enter a number."))],
                             render_kw={"maxlength": len(str(MAX_COUNT))})
    visitors_per_guide = WholeNumberField(_l("Visitors one guide leads (guides only)"), validators=[Optional()],
                                          render_kw={"maxlength": 3})

    def values(self) -> dict:
        return {"name": self.name.data or "", "kind": self.kind.data, "count": self.count.data,
                "visitors_per_guide": self.visitors_per_guide.data if self.kind.data == "guide" else None}


class TourResourcesForm(Form):
    resources = CheckboxesField(_l("Guides and vehicles this visit uses"), coerce=int, choices=[],
                                validate_choice=False)


def _resource_or_404(resource_id: int):
    found = resources.resource_of(g.farm, resource_id)
    if found is None:
        abort(404)
    return found


def _page(form=None, status: int = 200):
    return render_template("farmers/resources.html", farm=g.farm, items=resources.farm_resources(g.farm),
                           using=resources.tours_using(g.farm), form=form or ResourceForm(),
                           action_form=ActionForm(), kind_labels=KIND_LABELS), status


@bp.route("/farmer/resources")
def resource_list():
    return _page()


@bp.route("/farmer/resources/add", methods=["POST"])
def resource_add():
    form = ResourceForm()
    if form.validate_on_submit():
        try:
            made = resources.add_resource(actor(), g.farm, **form.values())
        except TourError as error:
            fail(error, form)
        else:
            flash(_("Added: %(name)s. Tick it on the visits that use it.", name=made.name), "success")
            return redirect(url_for(".resource_list"))
    return _page(form, 400)


@bp.route("/farmer/resources/<int:resource_id>/edit", methods=["GET", "POST"])
def resource_edit(resource_id: int):
    item = _resource_or_404(resource_id)
    form = ResourceForm(obj=item) if request.method == "GET" else ResourceForm()
    if form.validate_on_submit():
        try:
            changed = resources.update_resource(actor(), g.farm, item, **form.values())
        except TourError as error:
            fail(error, form)
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for(".resource_list"))
    return render_template("farmers/resources_edit.html", farm=g.farm, item=item, form=form,
                           tours=resources.tours_using(g.farm).get(item.id, [])), 400 if form.errors else 200


@bp.route("/farmer/resources/<int:resource_id>/delete", methods=["POST"])
def resource_delete(resource_id: int):
    item = _resource_or_404(resource_id)
    if ActionForm().validate_on_submit():
        name = item.name
        try:
            resources.remove_resource(actor(), g.farm, item)
        except TourError as error:
            fail(error)
        else:
            flash(_("Removed: %(name)s. The visits that used it are now limited by their own places only.",
                    name=name), "success")
    return redirect(url_for(".resource_list"))


def tour_resources_form(tour) -> TourResourcesForm:
    """The tick boxes of a tour's edit page: the farm's resources, ticked where the tour uses them."""
    form = TourResourcesForm(resources=sorted(resources.resource_ids_of(tour)))
    form.resources.choices = [SelectChoice(item.id, item.name) for item in resources.farm_resources(g.farm)]
    return form


@bp.route("/farmer/tours/<int:tour_id>/resources", methods=["POST"])
def tour_resources(tour_id: int):
    tour = tour_or_404(tour_id)
    form = TourResourcesForm()
    if form.validate_on_submit():
        try:
            changed = resources.set_tour_resources(actor(), g.farm, tour, form.resources.data or [])
        except TourError as error:
            fail(error)
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."), "success")
    else:
        fail(TourError(_l("Choose among your own guides and vehicles.")))
    return redirect(url_for(".edit", tour_id=tour.id, _anchor="tour-resources"))


@bp.context_processor
def resource_helpers() -> dict:
    """For the tour's edit page (templates/farmers/resources_tour.html): its tick boxes, built only when shown."""
    return {"tour_resources_form": tour_resources_form}
