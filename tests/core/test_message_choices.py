"""Who gets which message by which channel (core/preferences.py, /account/messages), and Zalo's signed delivery
webhook (core/zalo_webhook.py)."""
from __future__ import annotations

import hashlib
import json
import re
import time

import pytest
from sqlalchemy import select

from core import outbox
from core.extensions import db
from core.messages import Recipient, notify
from core.outbox import Notification
from core.time import utcnow
from shop import notices
from tests.core.zalo_fake import OA_SECRET, _zalo_http, channel_config, fixture, zalo  # noqa: F401
from tests.factories import buyer_details, make_order
from tests.helpers import login_as


@pytest.fixture
def app_config(_zalo_http):  # noqa: F811 - the fixture above
    return channel_config(_zalo_http[1])


def channels_of(kind: str) -> list[str]:
    db.session.commit()
    return db.session.scalars(select(Notification.channel).where(Notification.kind == kind)
                              .order_by(Notification.id)).all()


def place_as(user, make_product, **buyer):
    order = make_order((make_product(), 1), user=user, buyer=buyer_details(**buyer))
    notices.order_placed(order)
    db.session.commit()
    return order


def test_an_account_gets_zalo_only_once_its_phone_is_verified(app, make_user, make_product):
    user = make_user(phone="0987654321")
    place_as(user, make_product)
    assert channels_of("order_placed") == ["email"], "an unverified number could be someone else's"
    user.phone_verified_at = utcnow()
    db.session.commit()
    place_as(user, make_product)
    assert channels_of("order_placed") == ["email", "email", "zalo"]


def test_the_accounts_choice_is_kept(app, make_user, make_product):
    user = make_user(phone="0987654321", phone_verified_at=utcnow(), message_channels="zalo")
    place_as(user, make_product)
    assert channels_of("order_placed") == ["zalo"]


def test_a_topic_turned_off_is_not_sent_but_receipts_always_are(app, make_user, make_product):
    user = make_user(phone="0987654321", phone_verified_at=utcnow(), muted_topics="order_updates,visits")
    order = place_as(user, make_product)
    assert channels_of("order_placed") == ["email", "zalo"], "a receipt cannot be turned off"
    notify("farm_order_ready", Recipient.buyer_of(order), order=order, farm_order=order.farm_orders[0], link="x")
    assert channels_of("farm_order_ready") == []


def test_marketing_only_with_consent(app, make_user):
    user = make_user()
    assert notify("news", Recipient.of_user(user)) == [], "no consent: nothing, and nothing rendered"


def test_one_phone_channel_per_message_and_the_sms_text_beside_it(app, make_product):
    placed = make_order((make_product(), 1), buyer=buyer_details(email=""))
    notices.order_placed(placed)
    db.session.commit()
    [row] = db.session.scalars(select(Notification).where(Notification.kind == "order_placed")).all()
    assert row.channel == "zalo", "Zalo, not Zalo and SMS"
    assert row.fallback_body and placed.reference in row.fallback_body


# -- /account/messages -------------------------------------------------------------------------------------------

def test_the_choices_page_needs_a_login(client):
    answer = client.get("/account/messages")
    assert answer.status_code == 302 and "/login" in answer.location


def test_choices_are_saved_and_checked(app, client, make_user):
    user = make_user(phone="0987654321")
    login_as(client, user)
    page = client.get("/account/messages?lang=en").get_data(as_text=True)
    boxes = {re.search(r'value="(\w+)"', tag).group(1): "checked" in tag
             for tag in re.findall(r'<input[^>]*name="channels"[^>]*>', page)}
    assert boxes == {"email": True, "zalo": False}, "the defaults: e-mail, and no Zalo before the phone is verified"
    refused = client.post("/account/messages?lang=en", data={"channels": ["zalo"], "topics": ["visits"]})
    assert refused.status_code == 200 and "Verify your phone number first" in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert user.message_channels is None, "nothing changed"
    none = client.post("/account/messages?lang=en", data={"topics": ["visits"]})
    assert "Choose at least one way" in none.get_data(as_text=True)
    saved = client.post("/account/messages", data={"channels": ["email"], "topics": ["visits"], "marketing": "y"})
    assert saved.status_code == 302
    db.session.refresh(user)
    assert user.message_channels == "email" and user.marketing_consent_at is not None
    assert set(user.muted_topics.split(",")) == {"order_updates", "farm_orders", "farm_money", "farm_stock"}
    client.post("/account/messages", data={"channels": ["email"]})
    db.session.refresh(user)
    assert user.marketing_consent_at is None, "consent withdrawn"


def test_an_unknown_channel_is_refused(app, client, make_user):
    user = make_user()
    login_as(client, user)
    answer = client.post("/account/messages?lang=en", data={"channels": ["email", "carrier_pigeon"]})
    assert answer.status_code == 200
    db.session.refresh(user)
    assert user.message_channels is None


# -- Zalo's delivery webhook ---------------------------------------------------------------------------------------

def signed(body: dict, secret: str = OA_SECRET) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    mac = hashlib.sha256(f"{body['app_id']}".encode() + raw + f"{body['timestamp']}{secret}".encode()).hexdigest()
    return raw, {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


def delivery_event(row_id: int, msg_id: str) -> dict:
    event = fixture("zalo/webhook_user_received_message.json")
    event["timestamp"] = str(int(time.time() * 1000))
    event["message"].update(tracking_id=f"kep-{row_id}", msg_id=msg_id)
    return event


def test_a_signed_delivery_event_marks_the_message_delivered(app, client, zalo, make_product):  # noqa: F811
    placed = make_order((make_product(), 1), buyer=buyer_details())
    notices.order_placed(placed)
    db.session.commit()
    outbox.send_pending()
    row = db.session.scalar(select(Notification).where(Notification.channel == "zalo"))
    assert row.status == "sent" and row.delivered_at is None
    raw, headers = signed(delivery_event(row.id, row.provider_message_id))
    assert client.post("/messages/zalo/webhook", data=raw, headers=headers).json == {"ok": True}
    db.session.refresh(row)
    assert row.delivered_at is not None


@pytest.mark.parametrize("trouble", ["wrong_secret", "no_signature", "stale", "not_json"])
def test_an_unsigned_or_stale_event_changes_nothing(app, client, zalo, make_product, trouble):  # noqa: F811
    placed = make_order((make_product(), 1), buyer=buyer_details())
    notices.order_placed(placed)
    db.session.commit()
    outbox.send_pending()
    row = db.session.scalar(select(Notification).where(Notification.channel == "zalo"))
    event = delivery_event(row.id, row.provider_message_id)
    if trouble == "stale":
        event["timestamp"] = "1602560967477"
    raw, headers = signed(event, "not-the-secret" if trouble == "wrong_secret" else OA_SECRET)
    if trouble == "no_signature":
        headers.pop("X-ZEvent-Signature")
    if trouble == "not_json":
        raw = b"{not json"
    answer = client.post("/messages/zalo/webhook", data=raw, headers=headers)
    assert answer.status_code in (400, 401)
    db.session.refresh(row)
    assert row.delivered_at is None
