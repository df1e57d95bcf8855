"""``/account/messages``: which channels an account holder gets messages by, which topics they turn off, and
their consent to marketing (core/preferences.py says what each means and what cannot be turned off)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from core import audit, preferences
from core.extensions import db
from core.forms import Form
from core.time import utcnow

bp = Blueprint("account_messages", __name__)


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MessageChoicesForm(Form):
    channels = _Checkboxes(_l("Send my messages by"), validate_choice=True,
                           choices=[SelectChoice(*item) for item in preferences.CHANNELS.items()])
    topics = _Checkboxes(_l("Messages I want"), validate_choice=True, choices=[
        SelectChoice(topic, label) for topic, (label, _kinds) in preferences.TOPICS.items() if topic != "marketing"])
    marketing = BooleanField(_l("Yes, send me news and offers from the farms of Kép"))


@bp.route("/account/messages", methods=["GET", "POST"])
@login_required
def messages():
    user = current_user
    form = MessageChoicesForm()
    open_topics = [choice.value for choice in form.topics.choices]
    if not form.is_submitted():
        form.channels.data = preferences.channel_choices(user)
        muted = set((user.muted_topics or "").split(","))
        form.topics.data = [topic for topic in open_topics if topic not in muted]
        form.marketing.data = user.marketing_consent_at is not None
    if form.validate_on_submit():
        chosen = [name for name in preferences.CHANNELS if name in (form.channels.data or [])]
        if not chosen:
            form.channels.errors.append(_l("Choose at least one way to reach you: receipts and one-time codes "
                                           "always go out."))
        elif "email" in chosen and not user.email:
            form.channels.errors.append(_l("Add an e-mail address to your account first."))
        elif "zalo" in chosen and not user.phone_verified_at:
            form.channels.errors.append(_l("Verify your phone number first: Zalo messages go to a verified number."))
        else:
            user.message_channels = ",".join(chosen)
            user.muted_topics = ",".join(topic for topic in open_topics if topic not in (form.topics.data or []))
            if form.marketing.data and user.marketing_consent_at is None:
                user.marketing_consent_at = utcnow()
            elif not form.marketing.data:
                user.marketing_consent_at = None
            audit.record("account.messages_changed", "user", user.id, actor=user,
                         details={"channels": user.message_channels, "muted": user.muted_topics,
                                  "marketing": user.marketing_consent_at is not None})
            db.session.commit()
            flash(_l("Your message choices are saved."), "success")
            return redirect(url_for("account_messages.messages"))
    return render_template("accounts/messages.html", form=form)
