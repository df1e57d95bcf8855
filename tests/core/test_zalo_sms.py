"""Zalo ZNS and eSMS (core/channels/zalo.py, sms.py) against their local stand-ins (tests/core/zalo_fake.py): the
documented requests, each documented class of error, the token pair refreshed once when two workers need it at
the same time, and the fall back from Zalo to SMS."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import outbox
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from core.zalo_tokens import ZaloToken
from shop import notices
from tests.core.zalo_fake import FIRST_REFRESH, _zalo_http, channel_config, zalo  # noqa: F401 - fixtures
from tests.factories import buyer_details, make_order

GUEST_PHONE = "0987654321"


@pytest.fixture
def app_config(_zalo_http):  # noqa: F811 - the fixture above
    return channel_config(_zalo_http[1])


def rows(channel: str | None = None) -> list[Notification]:
    db.session.commit()
    query = select(Notification).order_by(Notification.id)
    if channel:
        query = query.where(Notification.channel == channel)
    return db.session.scalars(query).all()


def guest_order(make_product, **buyer):
    """An order placed by a guest, with the message the checkout page queues for it."""
    order = make_order((make_product(), 2), buyer=buyer_details(**buyer))
    notices.order_placed(order)
    db.session.commit()
    return order


def test_a_guests_order_goes_by_zalo_as_zalo_documents_it(app, zalo, make_product):  # noqa: F811
    order = guest_order(make_product)
    [row] = rows("zalo")
    assert (row.kind, row.to_address) == ("order_placed", GUEST_PHONE)
    assert outbox.send_pending()["sent"] == 1  # e-mail waits: no MAIL_SERVER
    assert zalo.refreshes == [FIRST_REFRESH], "the first refresh token, from the settings, was spent"
    [sent] = zalo.sent
    assert sent["phone"] == "84987654321" and sent["template_id"] == "231001"
    assert sent["tracking_id"] == f"kep-{row.id}" and sent["access_token"] == "access-1"
    assert sent["template_data"]["order_code"] == order.reference
    assert sent["template_data"]["customer_name"] == "Trịnh Thị Mai"
    [row] = rows("zalo")
    assert row.status == "sent" and row.provider_message_id
    token = db.session.get(ZaloToken, 1)
    assert (token.access_token, token.refresh_token) == ("access-1", "refresh-1")
    assert token.expires_at > utcnow() + timedelta(hours=24), "expires_in (90000 s) was kept"


def test_a_refused_access_token_is_refreshed_once_then_the_message_goes(app, zalo, make_product):  # noqa: F811
    db.session.add(ZaloToken(id=1, app_id=app.config["ZALO_APP_ID"], access_token="revoked-early",
                             refresh_token=FIRST_REFRESH, expires_at=utcnow() + timedelta(hours=10)))
    db.session.commit()
    guest_order(make_product)
    assert outbox.send_pending()["sent"] == 1
    assert [s["access_token"] for s in zalo.sent] == ["revoked-early", "access-1"]
    assert zalo.refreshes == [FIRST_REFRESH]


def test_two_workers_needing_a_new_token_at_once_refresh_it_once(app, zalo, make_product):  # noqa: F811
    """Two workers each send their own message when the stored token has expired: one refreshes, the other waits
    for the row's lock and then uses the new token (a second refresh would spend a refresh token Zalo replaced)."""
    from core.channels import zalo as zalo_channel

    for _ in range(2):
        guest_order(make_product)
    notes = rows("zalo")
    for note in notes:
        db.session.expunge(note)
    zalo.refresh_delay = 0.5  # the first refresh is still under way when the second worker needs a token
    barrier, errors = threading.Barrier(2), []

    def work(note):
        try:
            with app.app_context():
                barrier.wait()
                zalo_channel.send(note)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(note,)) for note in notes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert zalo.refreshes == [FIRST_REFRESH], "one refresh; a second would have spent the same token"
    assert sorted((s["tracking_id"], s["access_token"]) for s in zalo.sent) == sorted(
        (f"kep-{note.id}", "access-1") for note in notes)
    db.session.commit()  # a fresh snapshot: what the workers wrote
    assert db.session.get(ZaloToken, 1).refresh_token == "refresh-1"


@pytest.mark.parametrize("code", [-118, -108, -119, -131, -144, -9999])
def test_a_recipient_zalo_cannot_reach_gets_the_sms_instead(app, zalo, make_product, code):  # noqa: F811
    order = guest_order(make_product)
    zalo.zns_errors = [code]
    outbox.send_pending()
    [failed] = rows("zalo")
    assert failed.status == "failed" and str(code) in failed.last_error and failed.attempts == 1
    [sms] = rows("sms")
    assert (sms.kind, sms.to_address, sms.status) == ("order_placed", GUEST_PHONE, "pending")
    assert outbox.send_pending()["sent"] == 1
    [sent] = zalo.sms
    assert sent["Phone"] == GUEST_PHONE and sent["IsUnicode"] == "0" and sent["RequestId"] == f"kep-{sms.id}"
    assert sent["Content"].startswith("Cho Dua Kep: ") and order.reference in sent["Content"]
    assert sent["Content"].isascii(), "without diacritics by default"
    assert rows("sms")[0].status == "sent"


@pytest.mark.parametrize("trouble", ["busy", "http_500"])
def test_zalo_busy_or_down_is_tried_again_later_not_by_sms(app, zalo, make_product, trouble):  # noqa: F811
    guest_order(make_product)
    if trouble == "busy":
        zalo.zns_errors = [-1]
    else:
        zalo.zns_http_status = [500]
    assert outbox.send_pending()["failed"] == 1
    [row] = rows("zalo")
    assert row.status == "pending" and row.next_attempt_at is not None
    assert rows("sms") == []


def test_unicode_sms_keeps_the_diacritics(app, zalo, make_product):  # noqa: F811
    app.config["ESMS_UNICODE"] = True
    guest_order(make_product)
    zalo.zns_errors = [-118]
    outbox.send_pending()
    outbox.send_pending()
    assert zalo.sms[0]["IsUnicode"] == "1" and "đơn" in zalo.sms[0]["Content"]


@pytest.mark.parametrize("code,status,staff_told", [("101", "failed", True), ("146", "failed", True),
                                                     ("103", "pending", False), ("124", "sent", False)])
def test_each_esms_answer_class(app, zalo, make_product, code, status, staff_told):  # noqa: F811
    guest_order(make_product)
    zalo.zns_errors, zalo.esms_codes = [-118], [code]
    outbox.send_pending()
    outbox.send_pending()
    [sms] = rows("sms")
    assert sms.status == status
    alerts = [row for row in rows() if row.kind == "staff_undeliverable"]
    assert bool(alerts) is staff_told


def test_a_one_time_code_kind_without_a_zalo_template_goes_by_sms_only_when_nothing_else_reaches(
        app, zalo, make_product):  # noqa: F811
    app.config["ZALO_TEMPLATES"] = ""
    guest_order(make_product, email="")
    [sms] = rows("sms")
    assert sms.kind == "order_placed", "a guest with only a phone and no Zalo template: SMS"
    db.session.delete(sms)
    db.session.commit()
    guest_order(make_product)
    assert rows("sms") == [], "with an e-mail address the message goes by e-mail, not by paid SMS"
