"""Messages and their channels: ``notify`` renders a kind's templates in the recipient's language and queues
one row per channel that reaches them; the sender sends each row through its own channel only."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import config as settings
from core import outbox
from core.extensions import db
from core.messages import Recipient, notify
from core.outbox import Notification
from tests.faults.conftest import smtp_sink

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "messages"


def reset_message(user, **recipient):
    return notify("password_reset", Recipient.of_user(user, **recipient), user=user, link="http://localhost/x",
                  minutes=30)


def test_a_message_is_rendered_in_the_recipients_language(make_user):
    english, vietnamese, unset = make_user(locale="en"), make_user(locale="vi"), make_user()
    [row_en], [row_vi], [row_unset] = reset_message(english), reset_message(vietnamese), reset_message(unset)
    db.session.commit()
    assert row_en.subject == "Choose a new password for Chợ Dứa Kép"
    assert row_en.body.startswith(f"Hello {english.full_name},")
    assert row_vi.subject == "Đặt mật khẩu mới cho Chợ Dứa Kép"
    assert row_vi.body.startswith(f"Chào {vietnamese.full_name},")
    assert row_unset.subject == row_vi.subject, "no language on the account: Vietnamese"
    assert [(r.kind, r.channel, r.to_address, r.order_id, r.status) for r in (row_en, row_vi)] == [
        ("password_reset", "email", english.email, None, "pending"),
        ("password_reset", "email", vietnamese.email, None, "pending")]


def test_the_fallback_language_is_used_only_when_the_account_has_none(make_user):
    [chosen] = reset_message(make_user(locale="vi"), fallback_locale="en")
    [fallback] = reset_message(make_user(), fallback_locale="en")
    assert chosen.subject == "Đặt mật khẩu mới cho Chợ Dứa Kép"
    assert fallback.subject == "Choose a new password for Chợ Dứa Kép"


def test_a_recipient_no_channel_reaches_gets_nothing(app):
    # Not even rendered: this kind has no templates at all.
    assert notify("no_such_kind", Recipient(phone="0912345678", locale="en")) == []
    assert notify("no_such_kind", Recipient.by_email("")) == []
    db.session.commit()
    assert db.session.scalars(select(Notification)).all() == []


def test_every_email_body_has_its_subject_and_the_other_way_round():
    bodies = {path.name.removesuffix(".email.txt") for path in TEMPLATES.glob("*.email.txt")}
    subjects = {path.name.removesuffix(".email_subject.txt") for path in TEMPLATES.glob("*.email_subject.txt")}
    assert bodies == subjects and len(bodies) >= 16


def test_an_unknown_channel_is_refused(app, make_user):
    app.config["MESSAGE_CHANNELS"] = ["pigeon"]
    with pytest.raises(LookupError, match="pigeon"):
        reset_message(make_user())
    production = settings.local_production_settings()
    settings.check_production({**production, "MESSAGE_CHANNELS": ["email"]})
    for name in ("pigeon", "../email", "email.py"):
        with pytest.raises(settings.UnsafeConfiguration, match="MESSAGE_CHANNELS"):
            settings.check_production({**production, "MESSAGE_CHANNELS": [name]})


def test_each_row_goes_out_by_its_own_channel_only(app):
    """A row of a channel that is not enabled here (no module for it) waits, untouched; e-mail goes."""
    mail = outbox.queue("order_placed", "mai@example.vn", "Đơn KEP-1", "Cảm ơn bạn.")
    other = outbox.queue("order_placed", "zalo-123", "", "Cảm ơn bạn.", channel="zalo")
    db.session.commit()
    mail_id, other_id = mail.id, other.id
    assert outbox.send_pending() == {"sent": 0, "failed": 0, "skipped": 0}, "no channel is ready without MAIL_SERVER"
    with smtp_sink() as sink:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.server_address[1], MAIL_USE_TLS=False)
        assert outbox.send_pending() == {"sent": 1, "failed": 0, "skipped": 0}
    db.session.commit()  # a fresh transaction: what the sender wrote
    assert [to for to, _message in sink.messages] == [["mai@example.vn"]]
    states = {note.id: (note.status, note.attempts, note.sent_at is None)
              for note in db.session.scalars(select(Notification))}
    assert states == {mail_id: ("sent", 1, False), other_id: ("pending", 0, True)}
