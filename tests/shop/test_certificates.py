"""VietGAP and OCOP certificates (shop/certificates.py): the farmer uploads, staff verify or reject with a reason,
the badge shows only while verified and unexpired, and the farmer is reminded 30 and 7 days before the expiry."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import certificates
from shop.certificate_models import Certificate
from tests.helpers import count_queries, login_as


def _jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (60, 40), (240, 240, 230)).save(data, "JPEG")
    data.seek(0)
    return data


def _client(app, user):
    client = app.test_client()
    login_as(client, user)
    return client


@pytest.fixture
def world(app, make_user, make_farm, make_product):
    farm, other = make_farm(), make_farm()
    return dict(farm=farm, product=make_product(farm), staff=make_user("admin"), other=other,
                other_product=make_product(other))


def _upload(client, **fields):
    data = {"kind": "vietgap", "number": "VietGAP-TT-25-01-24-0123", "issuer": "Trung tâm Chứng nhận Phù hợp",
            "expires_on": (certificates.today() + timedelta(days=400)).isoformat(), "scan": (_jpeg(), "gcn.jpg")}
    data.update(fields)
    return client.post("/farmer/certificates", data=data, content_type="multipart/form-data")


def _pages(client, world) -> tuple[str, str]:
    return (client.get(f"/farms/{world['farm'].slug}").get_data(as_text=True),
            client.get(f"/products/{world['product'].slug}").get_data(as_text=True))


def test_bad_uploads_are_refused_with_a_message_and_store_nothing(app, world):
    farmer = _client(app, world["farm"].owner)
    cases = [({"number": "  "}, "số giấy chứng nhận"), ({"expires_on": "31/12/2027"}, "ngày hết hạn"),
             ({"expires_on": (certificates.today() - timedelta(days=1)).isoformat()}, "đã hết hạn"),
             ({"kind": "iso"}, "VietGAP hoặc OCOP"), ({"kind": "ocop", "stars": "6"}, "3, 4 hoặc 5 sao"),
             ({"kind": "ocop", "stars": "4", "product_id": str(world["other_product"].id)}, "sản phẩm được xếp hạng"),
             ({"scan": (io.BytesIO(b"not a photo"), "gcn.jpg")}, ""), ({"scan": (io.BytesIO(b""), "")}, "ảnh")]
    for fields, message in cases:
        answer = _upload(farmer, **fields)
        assert answer.status_code == 400, fields
        assert message in answer.get_data(as_text=True), fields
    assert db.session.scalar(select(db.func.count(Certificate.id))) == 0


def test_staff_verify_and_the_badge_shows_on_the_farm_and_product_pages(app, world, client):
    assert _upload(_client(app, world["farm"].owner)).status_code == 302
    certificate = db.session.scalar(select(Certificate))
    assert certificate.status == "submitted"
    assert "badge-vietgap" not in "".join(_pages(client, world)), "not before staff have checked it"
    staff = _client(app, world["staff"])
    assert "VietGAP-TT-25-01-24-0123" in staff.get("/admin/certificates").get_data(as_text=True)
    assert _client(app, world["farm"].owner).post(f"/admin/certificates/{certificate.id}/verify").status_code == 403
    staff.post(f"/admin/certificates/{certificate.id}/verify")
    db.session.refresh(certificate)
    assert certificate.status == "verified" and certificate.reviewed_by_id == world["staff"].id
    assert world["farm"].vietgap_certified, "the catalogue's cards read the farm's flag"
    farm_page, product_page = _pages(client, world)
    assert "badge-vietgap" in farm_page and "badge-vietgap" in product_page
    note = db.session.scalar(select(Notification).where(Notification.kind == "certificate_decided"))
    assert note is not None and "đã xác minh" in note.body
    assert staff.post(f"/admin/certificates/{certificate.id}/reject", data={"reason": "x"}).status_code == 302
    db.session.refresh(certificate)
    assert certificate.status == "verified", "checked once"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate.verified")) is not None


def test_a_rejected_certificate_shows_no_badge_and_the_farmer_reads_why(app, world, client):
    _upload(_client(app, world["farm"].owner))
    certificate = db.session.scalar(select(Certificate))
    staff = _client(app, world["staff"])
    staff.post(f"/admin/certificates/{certificate.id}/reject", data={"reason": "  "})
    db.session.refresh(certificate)
    assert certificate.status == "submitted", "a rejection needs a reason"
    staff.post(f"/admin/certificates/{certificate.id}/reject", data={"reason": "Ảnh bị mờ, không đọc được số"})
    db.session.refresh(certificate)
    assert certificate.status == "rejected"
    assert "badge-vietgap" not in "".join(_pages(client, world))
    page = _client(app, world["farm"].owner).get("/farmer/certificates").get_data(as_text=True)
    assert "Ảnh bị mờ, không đọc được số" in page
    assert "Ảnh bị mờ" not in _client(app, world["other"].owner).get("/farmer/certificates").get_data(as_text=True)


def test_an_ocop_rating_shows_its_stars_on_its_product_only_until_it_expires(app, world, client, make_product):
    other_product = make_product(world["farm"])
    _upload(_client(app, world["farm"].owner), kind="ocop", stars="4", product_id=str(world["product"].id),
            expires_on=(certificates.today() + timedelta(days=10)).isoformat())
    certificate = db.session.scalar(select(Certificate))
    certificates.verify(certificate, world["staff"])
    db.session.commit()
    page = client.get(f"/products/{world['product'].slug}").get_data(as_text=True)
    assert "OCOP ★★★★" in page and "badge-vietgap" not in page
    assert "badge-ocop" not in client.get(f"/products/{other_product.slug}").get_data(as_text=True)
    certificate.expires_on = certificates.today() - timedelta(days=1)
    db.session.commit()
    assert "badge-ocop" not in client.get(f"/products/{world['product'].slug}").get_data(as_text=True)


def test_expiry_reminders_go_once_at_30_and_7_days_and_the_lapsed_badge_ends(app, world):
    farm = world["farm"]
    certificate = Certificate(farm_id=farm.id, kind="vietgap", number="VG-7", issuer="TT", status="verified",
                              expires_on=certificates.today() + timedelta(days=25), scan_large_key="a",
                              scan_small_key="b", scan_width=1, scan_height=1)
    db.session.add(certificate)
    farm.vietgap_certified = True
    db.session.commit()
    now = utcnow()
    assert certificates.send_reminders(now) == 1
    assert certificates.send_reminders(now) == 0, "once"
    assert certificates.send_reminders(now + timedelta(days=19)) == 1, "the week before"
    assert certificates.send_reminders(now + timedelta(days=20)) == 0
    bodies = [n.body for n in db.session.scalars(select(Notification).where(
        Notification.kind == "certificate_expiring").order_by(Notification.id))]
    assert len(bodies) == 2 and "25 ngày" in bodies[0] and "6 ngày" in bodies[1]
    runner = app.test_cli_runner()
    assert "0 farms' VietGAP badges ended" in runner.invoke(args=["remind-certificate-expiry"]).output
    certificate.expires_on = certificates.today() - timedelta(days=1)
    db.session.commit()
    assert certificates.end_lapsed_badges(utcnow()) == 1
    db.session.commit()
    db.session.refresh(farm)
    assert farm.vietgap_certified is False


def test_the_farm_and_product_pages_run_as_many_queries_with_badges(app, world, client):
    path, farm_path = f"/products/{world['product'].slug}", f"/farms/{world['farm'].slug}"
    client.get(path), client.get(farm_path)
    with count_queries() as before:
        client.get(path)
    with count_queries() as before_farm:
        client.get(farm_path)
    for kind, stars in (("vietgap", None), ("ocop", 5)):
        db.session.add(Certificate(farm_id=world["farm"].id, kind=kind, number="N", issuer="TT", status="verified",
                                   stars=stars, product_id=world["product"].id if stars else None,
                                   expires_on=certificates.today() + timedelta(days=90), scan_large_key="a",
                                   scan_small_key="b", scan_width=1, scan_height=1))
    db.session.commit()
    with count_queries() as after:
        assert "badge-ocop" in client.get(path).get_data(as_text=True)
    with count_queries() as after_farm:
        assert "badge-vietgap" in client.get(farm_path).get_data(as_text=True)
    assert (len(after), len(after_farm)) == (len(before), len(before_farm))
