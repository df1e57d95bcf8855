"""Check-in without signal: the signed QR a phone can check, the day's list it downloads, and the server's answer
to the check-ins it queued (once each, the first check-in of a ticket standing, the phone's clock kept honest)."""
from __future__ import annotations

import base64
import json
from datetime import UTC, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.extensions import db
from tests.factories import NOW
from tests.helpers import count_queries, login_as
from tours import cancellations, offline_checkin, services, ticket_signing, tickets
from tours.checkin_models import OfflineCheckin
from tours.models import Ticket


@pytest.fixture
def day(make_farm, make_tour, make_slot, book, pay):
    """Farm A's visit at 12:00 today (Vietnam time) with three paid bookings, one tomorrow, one of farm B today."""
    farm, other = make_farm(name="Vườn dứa An"), make_farm(name="Vườn dứa Bình")
    tour = make_tour(farm, title="Hái dứa trên đồi", free_cancel_hours=1)
    noon = make_slot(tour, starts_at=NOW + timedelta(hours=2), capacity=20)
    tomorrow = make_slot(noon.tour, starts_at=NOW + timedelta(days=1), capacity=20)
    theirs = make_slot(make_tour(other, slug="tour-b"), starts_at=NOW + timedelta(hours=3))

    def ticket(slot, adults=2):
        booked = NOW - timedelta(days=1)
        return services.tickets_for_order(pay(book(slot, adults, 0, now=booked), now=booked))[0]
    return {"farm": farm, "other": other, "mine": [ticket(noon), ticket(noon, 3), ticket(noon, 1)],
            "tomorrow": ticket(tomorrow), "theirs": ticket(theirs)}


def _event(ticket, at=NOW, *, event_id=None, token=False):
    return offline_checkin.Event(event_id or f"ev-{ticket.code}-{int(at.timestamp())}", ticket.code,
                                 tickets.checkin_token(ticket) if token else None, at)


def _sync(farm, *events, now=NOW + timedelta(hours=3)):
    answers = offline_checkin.sync(farm.owner, farm, list(events), now)
    db.session.commit()
    return [(a.result, a.reason, a.at) for a in answers]


# -- the signature ---------------------------------------------------------------------------------------------

def test_a_ticket_token_names_its_farm_and_day_and_is_the_same_each_time(app, day):
    ticket = day["mine"][0]
    token = tickets.checkin_token(ticket)
    assert token == tickets.checkin_token(ticket)  # deterministic: the QR of a ticket never changes
    assert ticket_signing.verify(token) == (ticket.code, day["farm"].id, NOW.date())
    assert tickets.code_from_token(token) == ticket.code


def test_a_changed_code_farm_or_day_breaks_the_signature(app, day):
    code, farm_id, when, signature = tickets.checkin_token(day["mine"][0]).split(".")
    other = day["mine"][1].code
    for forged in (f"{other}.{farm_id}.{when}.{signature}", f"{code}.{day['other'].id}.{when}.{signature}",
                   f"{code}.{farm_id}.20260602.{signature}", f"{code}.{farm_id}.{when}.{signature[:-2]}",
                   f"{code}.{farm_id}.{when}.", f"{code}.{farm_id}.{when}.!!!!", f"{code}.{farm_id}.{when}",
                   f"{code}.٣.{when}.{signature}", f"{code}.{farm_id}.20261340.{signature}"):
        assert ticket_signing.verify(forged) is None, forged
        assert tickets.code_from_token(forged) is None, forged


def test_only_the_markets_key_signs_tickets(app, day):
    """A token signed with any other P-256 key (someone who made their own) is refused."""
    message = f"{day['mine'][0].code}.{day['farm'].id}.{NOW:%Y%m%d}"
    someone_elses = ec.generate_private_key(ec.SECP256R1())
    r, s = decode_dss_signature(someone_elses.sign(message.encode(), ec.ECDSA(hashes.SHA256())))
    raw = base64.urlsafe_b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).rstrip(b"=").decode()
    assert ticket_signing.verify(f"{message}.{raw}") is None


def test_the_public_key_checks_the_signature_as_the_phone_does(app, day):
    """The JWK the phone gets verifies the raw r||s signature, as WebCrypto's ECDSA verify does."""
    token = tickets.checkin_token(day["mine"][0])
    jwk = ticket_signing.public_jwk()
    raw = base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==")
    numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(base64.urlsafe_b64decode(jwk["x"] + "="), "big"),
                                            int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "="), "big"),
                                            ec.SECP256R1())
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    numbers.public_key().verify(signature, token.rsplit(".", 1)[0].encode(), ec.ECDSA(hashes.SHA256()))


def test_tickets_sent_before_the_new_signature_still_check_in(app, day):
    from itsdangerous import Signer

    ticket = day["mine"][0]
    old = Signer(app.config["SECRET_KEY"], salt=tickets.SIGNING_SALT).sign(ticket.code).decode()
    assert tickets.code_from_token(old) == ticket.code


# -- the day's list ----------------------------------------------------------------------------------------------

def test_the_days_list_has_this_farms_tickets_of_today_only_in_one_query(app, day):
    cancellations.cancel_booking(day["mine"][2], None, NOW)
    tickets.check_in(day["farm"].owner, day["farm"], day["mine"][1], NOW)
    db.session.commit()
    db.session.expire_all()
    farm = db.session.get(type(day["farm"]), day["farm"].id)
    with count_queries() as statements:
        listed = offline_checkin.day_list(farm, NOW)
    assert len(statements) == 1
    by_code = {entry["code"]: entry for entry in listed["tickets"]}
    assert set(by_code) == {t.code for t in day["mine"]}
    assert [by_code[t.code]["state"] for t in day["mine"]] == ["valid", "checked_in", "cancelled"]
    assert by_code[day["mine"][1].code]["checked_in_at"] == "10:00"
    assert by_code[day["mine"][0].code]["people"] == 2
    assert listed["day"] == "20260601" and listed["farm"] == day["farm"].id
    assert listed["slots"] == [{"id": day["mine"][0].line.slot_id, "tour": "Hái dứa trên đồi", "starts": "12:00"}]
    assert listed["key"] == ticket_signing.public_jwk() and set(listed["key"]) == {"kty", "crv", "x", "y"}


# -- the sync ---------------------------------------------------------------------------------------------------

def test_a_queued_check_in_is_done_at_the_phones_time(app, day):
    ticket = day["mine"][0]
    assert _sync(day["farm"], _event(ticket, NOW + timedelta(minutes=95), token=True)) == [("ok", None, "11:35")]
    db.session.refresh(ticket)
    assert ticket.checked_in_at == NOW + timedelta(minutes=95) and ticket.checked_in_by_id == day["farm"].owner_id
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "ticket.checked_in")) == 1


def test_the_same_event_sent_again_gets_the_same_answer_and_changes_nothing(app, day):
    event = _event(day["mine"][0], NOW + timedelta(minutes=5))
    first = _sync(day["farm"], event)
    again = _sync(day["farm"], event, event)
    assert first == [("ok", None, "10:05")] and again == [("ok", None, "10:05")] * 2
    assert db.session.scalar(select(func.count()).select_from(OfflineCheckin)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "ticket.checked_in")) == 1


def test_a_ticket_checked_in_on_two_phones_keeps_the_first_check_in(app, day):
    ticket = day["mine"][0]
    late, early = _event(ticket, NOW + timedelta(minutes=30), event_id="phone-b-1"), \
        _event(ticket, NOW + timedelta(minutes=10), event_id="phone-a-1")
    assert _sync(day["farm"], late, early) == [("already", None, "10:10"), ("ok", None, "10:10")]
    # the other phone, syncing later, hears when the group was let in
    assert _sync(day["farm"], _event(ticket, NOW + timedelta(minutes=40), event_id="phone-c-1")) == \
        [("already", None, "10:10")]


def test_a_ticket_checked_in_online_meanwhile_is_answered_already(app, day):
    ticket = day["mine"][0]
    tickets.check_in(day["farm"].owner, day["farm"], ticket, NOW + timedelta(minutes=1))
    db.session.commit()
    assert _sync(day["farm"], _event(ticket, NOW + timedelta(minutes=20))) == [("already", None, "10:01")]


def test_the_phones_clock_cannot_write_a_time_that_did_not_happen(app, day):
    now = NOW + timedelta(hours=3)
    ahead, behind = day["mine"][0], day["mine"][1]
    assert _sync(day["farm"], _event(ahead, now + timedelta(days=3)), _event(behind, now - timedelta(days=30)),
                 now=now) == [("ok", None, "13:00"), ("ok", None, "13:00")]
    db.session.expire_all()
    assert db.session.get(Ticket, ahead.id).checked_in_at == now
    assert db.session.get(Ticket, behind.id).checked_in_at == now - offline_checkin.MAX_AGE


def test_refusals_another_farms_or_no_ticket_a_forged_qr_a_cancelled_booking(app, day):
    cancelled = day["mine"][2]
    cancellations.cancel_booking(cancelled, None, NOW)
    db.session.commit()
    mine = day["mine"][0]
    forged = tickets.checkin_token(day["mine"][1]).rsplit(".", 1)[0] + "." + "A" * 86
    answers = _sync(day["farm"], _event(day["theirs"]),
                    offline_checkin.Event("nobody-0001", "ACDE-FGHJ", None, NOW),
                    offline_checkin.Event("forged-0001", day["mine"][1].code, forged, NOW),
                    offline_checkin.Event("swapped-001", mine.code, tickets.checkin_token(day["mine"][1]), NOW),
                    _event(cancelled))
    assert answers == [("refused", "unknown", None)] * 2 + [("refused", "forged", None)] * 2 + \
        [("refused", "cancelled", None)]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.checked_in_at.is_not(None))) == 0


def test_a_booking_made_after_the_list_was_downloaded_checks_in(app, day):
    """Tomorrow's ticket is not on today's list; sent by its signed QR it is checked in as any (the server
    knows it is paid): the farmer chose to let the group in on the phone's word."""
    assert _sync(day["farm"], _event(day["tomorrow"], token=True)) == [("ok", None, "10:00")]


@pytest.mark.parametrize("payload", [None, [], {"events": "x"}, {"events": [{"id": "short", "code": "A", "at": 1}]},
                                     {"events": [{"id": "event-0001", "code": "A", "at": "now"}]},
                                     {"events": [{"id": "event-0001", "code": "A", "at": True}]},
                                     {"events": [{"id": "event-0001", "code": "A" * 30, "at": 1}]},
                                     {"events": [{"id": "event-0001", "code": "A", "at": 10 ** 15}]},
                                     {"events": [{"id": "event-0001", "code": "A", "at": 1, "token": 5}]},
                                     {"events": [{"id": f"event-{i:06d}", "code": "A", "at": 1}
                                                 for i in range(offline_checkin.MAX_EVENTS + 1)]}])
def test_what_is_not_a_list_of_check_ins_is_refused_whole(payload):
    assert offline_checkin.parse_events(payload) is None


# -- the pages ------------------------------------------------------------------------------------------------

def test_the_page_the_list_and_the_sync_over_http(client, app, day, monkeypatch):
    # the views ask the real clock; the day of the fixture's visit stands in for "today"
    monkeypatch.setattr(offline_checkin, "_day_bounds", lambda now: (NOW - timedelta(hours=10),
                                                                     NOW + timedelta(hours=14)))
    login_as(client, day["farm"].owner)
    page = client.get("/farmer/checkin/offline?lang=en")
    assert page.status_code == 200 and 'src="/static/js/checkin-offline.' in page.get_data(as_text=True)
    listed = client.get("/farmer/checkin/today.json")
    assert listed.headers["Cache-Control"] == "private, no-store"
    assert {entry["code"] for entry in listed.get_json()["tickets"]} == {t.code for t in day["mine"]}
    ticket = day["mine"][0]
    at = int((NOW + timedelta(minutes=7)).replace(tzinfo=UTC).timestamp() * 1000)
    body = {"events": [{"id": "0f8a3c1e-7d2b-4e59-9a61-3b0c8d7e5f42", "code": ticket.display_code, "at": at,
                        "token": tickets.checkin_token(ticket)}]}
    sent = client.post("/farmer/checkin/sync", data=json.dumps(body), content_type="application/json")
    assert sent.status_code == 200
    assert sent.get_json()["answers"][0]["id"] == body["events"][0]["id"]
    assert sent.get_json()["answers"][0]["result"] in ("ok", "already")
    db.session.refresh(ticket)
    assert ticket.checked_in_at is not None
    bad = client.post("/farmer/checkin/sync?lang=en", data="nonsense", content_type="application/json")
    assert bad.status_code == 400 and "could not be read" in bad.get_json()["error"]


def test_another_farmer_syncing_a_ticket_changes_nothing(client, app, day):
    login_as(client, day["other"].owner)
    ticket = day["mine"][0]
    body = {"events": [{"id": "another-farm-01", "code": ticket.code, "at": 1780282800000}]}
    answer = client.post("/farmer/checkin/sync", data=json.dumps(body), content_type="application/json").get_json()
    assert answer["answers"][0]["result"] == "refused" and answer["answers"][0]["reason"] == "unknown"
    db.session.refresh(ticket)
    assert ticket.checked_in_at is None


def test_the_service_worker_is_served_for_both_scopes_without_a_login(client, app):
    response = client.get("/farmer/checkin/sw.js")
    assert response.status_code == 200 and response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    assert '"/farmer/checkin/offline"' in text and "/static/js/checkin-offline." in text
