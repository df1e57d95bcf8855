"""Harvest batches and trace labels (shop/batches.py, farmers/batch_views.py): the farmer records a batch, prints
a sheet of 24 QR stickers whose code opens the batch's public page, paid orders record the batch, and the farm sees
who bought it for a recall."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import urlsplit

import pypdf
import pytest
import zxingcpp
from sqlalchemy import select

from core.extensions import db
from shop import batches, certificates
from shop.batch_models import HarvestBatch
from shop.certificate_models import Certificate
from tests import factories
from tests.helpers import login_as


def _client(app, user):
    client = app.test_client()
    login_as(client, user)
    return client


@pytest.fixture
def world(app, make_farm, make_product):
    farm, other = make_farm(), make_farm()
    return dict(farm=farm, product=make_product(farm, name="Dứa Queen đồi Kép"), other=other,
                other_product=make_product(other))


def _record(client, product, **fields):
    data = {"product_id": str(product.id), "harvested_on": certificates.today().isoformat(),
            "plot": "Lô 3, đồi sau nhà", "quantity": "400", "vietgap_number": "VG-2026-17"}
    data.update(fields)
    return client.post("/farmer/batches", data=data)


def test_bad_batches_are_refused_with_a_message_and_store_nothing(app, world):
    farmer = _client(app, world["farm"].owner)
    for fields, message in [({"product_id": str(world["other_product"].id)}, "sản phẩm của bạn"),
                            ({"harvested_on": "hôm qua"}, "ngày thu hoạch"),
                            ({"harvested_on": (certificates.today() + timedelta(days=1)).isoformat()}, "tương lai"),
                            ({"plot": "  "}, "lô đất"), ({"quantity": "0"}, "số nguyên"),
                            ({"quantity": "1,5"}, "số nguyên")]:
        answer = _record(farmer, world["product"], **fields)
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), fields
    assert db.session.scalar(select(db.func.count(HarvestBatch.id))) == 0


def test_the_label_sheet_has_24_stickers_whose_qr_opens_the_batch_page(app, world, client):
    farmer = _client(app, world["farm"].owner)
    assert _record(farmer, world["product"]).status_code == 302
    batch = db.session.scalar(select(HarvestBatch))
    answer = farmer.get(f"/farmer/batches/{batch.id}/labels.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(answer.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1 and text.count(f"Lô {batch.code}") == batches.STICKERS
    codes = {found.text for page in reader.pages for picture in page.images
             for found in zxingcpp.read_barcodes(picture.image, formats=zxingcpp.BarcodeFormat.QRCode)}
    assert len(codes) == 1
    path = urlsplit(codes.pop()).path
    assert path == f"/batch/{batch.code}"
    page = client.get(path).get_data(as_text=True)
    assert "Dứa Queen đồi Kép" in page and "Lô 3, đồi sau nhà" in page and world["farm"].village in page
    assert "chưa có chứng nhận được cán bộ xã kiểm tra" in page, "the number alone is not shown as checked"
    db.session.add(Certificate(farm_id=world["farm"].id, kind="vietgap", number="VG-2026-17", issuer="TT",
                               status="verified", expires_on=certificates.today() + timedelta(days=30),
                               scan_large_key="a", scan_small_key="b", scan_width=1, scan_height=1))
    db.session.commit()
    assert "badge-vietgap" in client.get(path).get_data(as_text=True)
    assert client.get("/batch/NOTACODE").status_code == 404
    assert _client(app, world["other"].owner).get(f"/farmer/batches/{batch.id}/labels.pdf").status_code == 404


def test_paid_orders_record_the_newest_batch_and_the_farm_sees_who_bought_it(app, world, make_user):
    farmer = _client(app, world["farm"].owner)
    _record(farmer, world["product"], harvested_on=(certificates.today() - timedelta(days=3)).isoformat())
    _record(farmer, world["product"], plot="Lô 5")
    older, newest = db.session.scalars(select(HarvestBatch).order_by(HarvestBatch.harvested_on)).all()
    buyer = make_user()
    order = factories.pay(factories.make_order((world["product"], 2), user=buyer))
    line = order.farm_orders[0].lines[0]
    assert line.batch_id == newest.id
    unpaid = factories.make_order((world["product"], 1))
    assert unpaid.farm_orders[0].lines[0].batch_id is None, "only paid orders count"
    page = farmer.get(f"/farmer/batches/{newest.id}/buyers").get_data(as_text=True)
    assert order.buyer_name in page and order.buyer_phone in page and order.reference in page
    assert order.reference not in farmer.get(f"/farmer/batches/{older.id}/buyers").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(farmer.get(f"/farmer/batches/{newest.id}/buyers?format=csv")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][:4] == [order.reference, order.buyer_name, order.buyer_phone, "2"]
    assert _client(app, world["other"].owner).get(f"/farmer/batches/{newest.id}/buyers").status_code == 404
    assert _client(app, buyer).get(f"/farmer/batches/{newest.id}/buyers").status_code == 403
    assert app.test_client().get(f"/farmer/batches/{newest.id}/buyers").status_code == 302


def test_the_buyers_order_and_receipt_name_the_batch_with_a_link_to_its_page(app, world, make_user):
    _record(_client(app, world["farm"].owner), world["product"])
    batch = db.session.scalars(select(HarvestBatch)).one()
    buyer = make_user()
    order = factories.pay(factories.make_order((world["product"], 2), user=buyer))
    client = _client(app, buyer)
    for url in (f"/orders/{order.public_id}?lang=en", f"/orders/{order.public_id}/receipt?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert f'Harvest batch <a href="/batch/{batch.code}">{batch.code}</a>' in page, url


def test_the_farmer_corrects_the_batch_a_line_came_from_and_the_recall_list_follows(app, world, make_user):
    farmer = _client(app, world["farm"].owner)
    _record(farmer, world["product"], harvested_on=(certificates.today() - timedelta(days=3)).isoformat())
    order = factories.pay(factories.make_order((world["product"], 2), user=make_user()))
    _record(farmer, world["product"], plot="Lô 5")  # picked today, after the order was paid
    older, newest = db.session.scalars(select(HarvestBatch).order_by(HarvestBatch.harvested_on)).all()
    line = order.farm_orders[0].lines[0]
    assert line.batch_id == older.id
    page = farmer.get(f"/farmer/orders/{line.farm_order_id}?lang=en").get_data(as_text=True)
    assert f'action="/farmer/batches/lines/{line.id}"' in page and f'value="{newest.id}"' in page
    response = farmer.post(f"/farmer/batches/lines/{line.id}?lang=en", data={"batch_id": str(newest.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/farmer/orders/{line.farm_order_id}")
    db.session.expire_all()
    assert line.batch_id == newest.id
    assert order.reference in farmer.get(f"/farmer/batches/{newest.id}/buyers").get_data(as_text=True)
    assert order.reference not in farmer.get(f"/farmer/batches/{older.id}/buyers").get_data(as_text=True)


def test_a_line_is_only_moved_to_a_batch_of_its_own_product_and_farm(app, world, make_user, make_product):
    farmer = _client(app, world["farm"].owner)
    _record(farmer, world["product"])
    jam = make_product(world["farm"], name="Mứt dứa")
    _record(farmer, jam)
    _record(_client(app, world["other"].owner), world["other_product"])
    pineapples, jam_batch, theirs = db.session.scalars(select(HarvestBatch).order_by(HarvestBatch.id)).all()
    line = factories.pay(factories.make_order((world["product"], 1), user=make_user())).farm_orders[0].lines[0]
    for batch_id in (str(jam_batch.id), str(theirs.id), "2147483648", "abc", ""):
        response = farmer.post(f"/farmer/batches/lines/{line.id}?lang=en", data={"batch_id": batch_id})
        assert response.status_code == 302, batch_id
        db.session.expire_all()
        assert line.batch_id == pineapples.id, batch_id
    shown = farmer.get(f"/farmer/orders/{line.farm_order_id}?lang=en").get_data(as_text=True)
    assert "Choose one of this product&#39;s batches from the list." in shown
    other = _client(app, world["other"].owner)
    assert other.post(f"/farmer/batches/lines/{line.id}", data={"batch_id": str(theirs.id)}).status_code == 404
    assert farmer.post("/farmer/batches/lines/2147483648", data={"batch_id": str(pineapples.id)}).status_code == 404
