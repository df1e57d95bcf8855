"""One-time codes (accounts/otp.py): only hashed, short-lived, single-use, dead after too many wrong tries,
sending limited per phone and per client; sent by the phone channel and shown in the outbox."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import config as settings
from accounts import otp
from accounts.models import OneTimeCode
from core import outbox
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.helpers import race, requires_postgres

PHONE = "0987654321"


@pytest.fixture
def app_config():
    return {"MESSAGE_CHANNELS": ["email", "phone"]}


def sent_code(phone: str = PHONE, kind: str = "code_verify_phone") -> str:
    """The code in the newest text message queued to ``phone``."""
    body = db.session.scalar(select(Notification.body).where(Notification.kind == kind, Notification.channel == "phone",
                                                             Notification.to_address == phone)
                             .order_by(Notification.id.desc()))
    assert body, f"no {kind} message to {phone}"
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_a_code_is_sent_by_the_phone_channel_and_stored_only_hashed(app, make_user):
    user = make_user(phone=PHONE, locale="en")
    now = utcnow()
    row = otp.issue("verify_phone", PHONE, user=user, now=now, address="10.0.0.1")
    db.session.commit()
    code = sent_code()
    assert len(code) == 6 and code.isdigit()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at == now + timedelta(minutes=10) and row.tries == 0 and row.used_at is None
    [note] = db.session.scalars(select(Notification)).all()
    assert (note.channel, note.to_address, note.subject) == ("phone", PHONE, "")
    assert note.body.startswith(f"Chợ Dứa Kép: your code is {code}.")
    assert otp.use("verify_phone", PHONE, code, now=now + timedelta(minutes=9)).used_at is not None


def test_the_message_is_in_vietnamese_by_default(app, make_user):
    otp.issue("reset", PHONE, user=make_user(phone=PHONE), now=utcnow())
    body = db.session.scalar(select(Notification.body))
    assert body.startswith("Chợ Dứa Kép: mã") and sent_code(kind="code_reset") in body


def test_the_phone_channel_writes_to_the_log_and_counts_as_sent(app, make_user, caplog):
    otp.issue("verify_phone", PHONE, user=make_user(phone=PHONE), now=utcnow())
    db.session.commit()
    code = sent_code()
    with caplog.at_level(logging.INFO, logger="kep.phone"):
        assert outbox.send_pending() == {"sent": 1, "failed": 0, "skipped": 0}
    db.session.commit()
    assert db.session.scalar(select(Notification.status)) == "sent"
    assert any(code in record.getMessage() and PHONE in record.getMessage() for record in caplog.records)


def test_production_refuses_the_log_only_phone_channel():
    production = settings.local_production_settings()
    with pytest.raises(settings.UnsafeConfiguration, match="phone"):
        settings.check_production({**production, "MESSAGE_CHANNELS": ["email", "phone"]})


def test_a_wrong_code_counts_and_the_right_one_still_works_until_the_tries_run_out(app, make_user):
    user, now = make_user(phone=PHONE), utcnow()
    otp.issue("verify_phone", PHONE, user=user, now=now)
    code = sent_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(otp.WrongCode, match="còn 4 lần thử"):
        otp.use("verify_phone", PHONE, wrong, now=now)
    assert otp.use("verify_phone", PHONE, code, now=now).user_id == user.id


def test_too_many_wrong_tries_kill_the_code(app, make_user):
    now = utcnow()
    otp.issue("verify_phone", PHONE, user=make_user(phone=PHONE), now=now)
    code = sent_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        with pytest.raises(otp.WrongCode):
            otp.use("verify_phone", PHONE, wrong, now=now)
    with pytest.raises(otp.CodeDead, match="Nhập sai mã quá nhiều lần"):
        otp.use("verify_phone", PHONE, wrong, now=now)
    with pytest.raises(otp.CodeDead):
        otp.use("verify_phone", PHONE, code, now=now)  # the right code, too late
    assert db.session.scalar(select(OneTimeCode.tries)) == 5


def test_an_expired_code_is_refused(app, make_user):
    now = utcnow()
    otp.issue("verify_phone", PHONE, user=make_user(phone=PHONE), now=now)
    with pytest.raises(otp.CodeExpired, match="trong 10 phút"):
        otp.use("verify_phone", PHONE, sent_code(), now=now + timedelta(minutes=10, seconds=1))


def test_a_code_works_once(app, make_user):
    now = utcnow()
    otp.issue("verify_phone", PHONE, user=make_user(phone=PHONE), now=now)
    code = sent_code()
    otp.use("verify_phone", PHONE, code, now=now)
    with pytest.raises(otp.CodeDead):
        otp.use("verify_phone", PHONE, code, now=now)


def test_a_new_code_retires_the_old_one_and_codes_are_bound_to_their_purpose(app, make_user):
    user, now = make_user(phone=PHONE), utcnow()
    otp.issue("verify_phone", PHONE, user=user, now=now)
    first = sent_code()
    otp.issue("verify_phone", PHONE, user=user, now=now + timedelta(minutes=2))
    second = sent_code()
    if first != second:
        with pytest.raises(otp.WrongCode):
            otp.use("verify_phone", PHONE, first, now=now + timedelta(minutes=3))
    with pytest.raises(otp.CodeDead):
        otp.use("reset", PHONE, second, now=now + timedelta(minutes=3))
    otp.use("verify_phone", PHONE, second, now=now + timedelta(minutes=3))


def test_sending_is_limited_per_phone(app, make_user):
    user, now = make_user(phone=PHONE), utcnow()
    otp.issue("verify_phone", PHONE, user=user, now=now)
    with pytest.raises(otp.SendLimited, match="sau 59 giây") as limited:
        otp.issue("verify_phone", PHONE, user=user, now=now + timedelta(seconds=1))
    assert limited.value.seconds == 59
    for minute in range(1, 5):
        otp.issue("reset", PHONE, user=user, now=now + timedelta(minutes=minute))
    with pytest.raises(otp.SendLimited, match="một giờ"):
        otp.issue("verify_phone", PHONE, user=user, now=now + timedelta(minutes=6))
    assert db.session.query(OneTimeCode).count() == 5
    otp.issue("verify_phone", PHONE, user=user, now=now + timedelta(minutes=61))


def test_sending_is_limited_per_client(app, make_user):
    app.config["OTP_MAX_PER_CLIENT_PER_HOUR"] = 3
    now = utcnow()
    for n in range(3):
        otp.issue("verify_phone", f"098765432{n}", user=None, now=now, address="10.0.0.9")
    with pytest.raises(otp.SendLimited):
        otp.issue("verify_phone", "0987654329", user=None, now=now, address="10.0.0.9")
    otp.issue("verify_phone", "0987654329", user=None, now=now, address="10.0.0.10")


def test_a_code_for_nobody_is_not_sent_and_no_code_matches_it(app):
    now = utcnow()
    row = otp.issue("reset", PHONE, user=None, now=now)
    assert db.session.scalars(select(Notification)).all() == []
    assert row.user_id is None
    with pytest.raises(otp.WrongCode):
        otp.use("reset", PHONE, "123456", now=now)


def test_day_old_codes_are_deleted_by_purge_sessions(app, make_user):
    user, now = make_user(phone=PHONE), utcnow()
    otp.issue("verify_phone", PHONE, user=user, now=now - timedelta(days=1, minutes=1))
    otp.issue("verify_phone", PHONE, user=user, now=now - timedelta(hours=2))
    db.session.commit()
    runner = app.test_cli_runner()
    assert "Old one-time codes deleted: 1" in runner.invoke(args=["purge-sessions"]).output
    assert "Old one-time codes deleted: 0" in runner.invoke(args=["purge-sessions"]).output
    assert db.session.query(OneTimeCode).count() == 1


@requires_postgres
def test_a_code_used_twice_at_the_same_moment_works_once(app, make_user):
    """Two requests with the right code at once (a double tap): one gets the code, the other CodeDead."""
    user, now = make_user(phone=PHONE), utcnow()
    otp.issue("verify_phone", PHONE, user=user, now=now)
    db.session.commit()
    code = sent_code()

    def job(_i):
        try:
            otp.use("verify_phone", PHONE, code, now=now)
            db.session.commit()
            return "used"
        except otp.CodeError as error:
            db.session.rollback()
            return error.reason

    assert sorted(race(app, 4, job)) == ["dead", "dead", "dead", "used"]


@requires_postgres
def test_wrong_tries_at_the_same_moment_never_pass_the_limit(app, make_user):
    user, now = make_user(phone=PHONE), utcnow()
    otp.issue("verify_phone", PHONE, user=user, now=now)
    db.session.commit()
    wrong = f"{(int(sent_code()) + 1) % 10**6:06d}"

    def job(_i):
        try:
            otp.use("verify_phone", PHONE, wrong, now=now)
        except otp.CodeError as error:
            db.session.commit()
            return error.reason

    reasons = race(app, 8, job)
    assert reasons.count("wrong") == 4 and reasons.count("dead") == 4
    db.session.expire_all()
    assert db.session.scalar(select(OneTimeCode.tries)) == 5
