"""Product rules: validation, slugs and redirects, search text, status changes, deletion, photos, audit."""
from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import event, func, select

from core.audit import AuditEntry
from core.extensions import db
from core.time import utcnow
from shop import services
from shop.models import MAX_PHOTOS, Product, ProductPhoto, ProductSlugRedirect
from shop.services import ProductData, ProductError, Upload
from tests.factories import NOW, make_order


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture(autouse=True)
def english(app):
    """Messages are matched in English here; the pages are tested in Vietnamese too."""
    with force_locale("en"):
        yield


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def photo(fmt: str = "PNG", size: tuple[int, int] = (900, 600), name: str = "photo.png") -> Upload:
    buf = io.BytesIO()
    Image.new("RGB", size, (230, 190, 40)).save(buf, fmt)
    buf.seek(0)
    return Upload(name, buf)


def pdf(name: str = "dua.jpg") -> Upload:
    return Upload(name, io.BytesIO(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"))


def bomb(name: str = "bomb.png") -> Upload:
    """A tiny PNG that declares 50,000 x 50,000 pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 1, 0, 0, 0, 0)
    return Upload(name, io.BytesIO(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")))


def data(**fields) -> ProductData:
    values = dict(name="Dứa Queen Kép", description="Dứa ngọt, mọng nước.", category="fresh", unit="kg",
                  price_vnd=25_000, stock=200, min_order_qty=2)
    values.update(fields)
    return ProductData(**values)


def audit_entries(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def farm(make_farm):
    return make_farm(name="Vườn dứa Anh An", village="Kép 5", vietgap_certified=True, vietgap_certificate_no="VG-1")


@pytest.fixture
def farmer(farm):
    return farm.owner


def test_create_lists_a_product_with_slug_search_text_and_audit(farm, farmer):
    product = services.create_product(farmer, farm, data(description="  Dứa ngọt.\r\nGiao tận nhà.  "), now=NOW)
    db.session.commit()
    assert (product.slug, product.status, product.price_vnd, product.stock) == ("dua-queen-kep", "active", 25000, 200)
    assert product.description == "Dứa ngọt.\nGiao tận nhà."
    assert product.search_text == "dua queen kep dua ngot. giao tan nha. vuon dua anh an kep 5"
    [entry] = audit_entries("product.created")
    assert (entry.actor_id, entry.on_behalf_of_id, entry.entity_id, entry.to_state) == (
        farmer.id, None, product.id, "active")


def test_staff_acting_for_a_farm_is_audited_on_behalf_of_the_owner(farm, farmer, make_user):
    admin = make_user(role="admin")
    product = services.create_product(admin, farm, data(), now=NOW)
    services.pause_product(admin, farm, product, now=NOW)
    db.session.commit()
    entries = audit_entries()
    assert [e.action for e in entries] == ["product.created", "product.paused"]
    assert all((e.actor_id, e.on_behalf_of_id) == (admin.id, farmer.id) for e in entries)


def test_script_in_a_description_is_stored_as_typed(farm, farmer):
    product = services.create_product(farmer, farm, data(description="<script>alert('x')</script>"), now=NOW)
    assert product.description == "<script>alert('x')</script>"


@pytest.mark.parametrize("fields, field", [
    (dict(price_vnd=0), "price_vnd"), (dict(price_vnd=-25000), "price_vnd"),
    (dict(price_vnd=100_000_001), "price_vnd"), (dict(price_vnd=True), "price_vnd"),
    (dict(stock=-1), "stock"), (dict(stock=1_000_001), "stock"),
    (dict(min_order_qty=0), "min_order_qty"), (dict(min_order_qty=2_000_000), "min_order_qty"),
    (dict(name="   "), "name"), (dict(name="D" * 121), "name"), (dict(description="x" * 3001), "description"),
    (dict(category="jewels"), "category"), (dict(unit="tonne"), "unit"),
    (dict(season_start=11), "season_end"), (dict(season_end=2), "season_start"),
    (dict(season_start=13, season_end=2), "season_start"),
])
def test_bad_values_are_refused_and_nothing_is_stored(farm, farmer, fields, field):
    with pytest.raises(ProductError) as info:
        services.create_product(farmer, farm, data(**fields), [photo()], now=NOW)
    assert info.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0
    assert audit_entries() == []


def test_limits_themselves_are_accepted(farm, farmer):
    product = services.create_product(farmer, farm, data(price_vnd=100_000_000, stock=1_000_000, min_order_qty=1,
                                                         season_start=11, season_end=2, description="x" * 3000),
                                      now=NOW)
    assert (product.price_vnd, product.stock, product.season_start, product.season_end) == (100_000_000, 1_000_000,
                                                                                            11, 2)
    zero_stock = services.create_product(farmer, farm, data(stock=0), now=NOW)
    assert zero_stock.stock == 0


def test_same_names_get_numbered_slugs(farm, farmer, make_farm):
    other = make_farm()
    first = services.create_product(farmer, farm, data(), now=NOW)
    second = services.create_product(farmer, farm, data(), now=NOW)
    third = services.create_product(other.owner, other, data(name="DỨA queen  kép!"), now=NOW)
    assert [first.slug, second.slug, third.slug] == ["dua-queen-kep", "dua-queen-kep-2", "dua-queen-kep-3"]


def test_rename_keeps_the_old_slug_as_a_redirect_and_renaming_back_takes_it_back(farm, farmer):
    product = services.create_product(farmer, farm, data(name="Dứa Queen"), now=NOW)
    services.update_product(farmer, farm, product, data(name="Dứa mật Kép"), now=NOW)
    db.session.commit()
    assert product.slug == "dua-mat-kep"
    assert db.session.get(ProductSlugRedirect, "dua-queen").product_id == product.id
    assert product.search_text.startswith("dua mat kep ")

    services.update_product(farmer, farm, product, data(name="Dứa Queen"), now=NOW)
    db.session.commit()
    assert product.slug == "dua-queen"
    redirects = db.session.scalars(select(ProductSlugRedirect)).all()
    assert [(r.slug, r.product_id) for r in redirects] == [("dua-mat-kep", product.id)]


def test_an_old_slug_is_not_given_to_another_product(farm, farmer):
    renamed = services.create_product(farmer, farm, data(name="Dứa Queen"), now=NOW)
    services.update_product(farmer, farm, renamed, data(name="Dứa mật"), now=NOW)
    newcomer = services.create_product(farmer, farm, data(name="Dứa Queen"), now=NOW)
    assert newcomer.slug == "dua-queen-2"  # /products/dua-queen still leads to the renamed one
    services.update_product(farmer, farm, renamed, data(name="Dứa Queen"), now=NOW)
    assert renamed.slug == "dua-queen"


def test_changes_that_keep_the_slug_keep_it(farm, farmer):
    services.create_product(farmer, farm, data(name="Dứa Queen"), now=NOW)
    second = services.create_product(farmer, farm, data(name="Dứa Queen"), now=NOW)
    assert services.update_product(farmer, farm, second, data(name="Dứa  QUEEN", price_vnd=30000), now=NOW) == [
        "name", "price_vnd"]
    assert second.slug == "dua-queen-2"
    assert db.session.scalar(select(func.count()).select_from(ProductSlugRedirect)) == 0
    assert services.update_product(farmer, farm, second, data(name="Dứa QUEEN", price_vnd=30000), now=NOW) == []
    [entry] = audit_entries("product.updated")
    assert json.loads(entry.details) == {"changed": ["name", "price_vnd"]}


def test_pause_and_resume_are_audited_and_repeating_them_changes_nothing(farm, farmer):
    product = services.create_product(farmer, farm, data(), now=NOW)
    assert services.pause_product(farmer, farm, product, now=NOW) is True
    assert services.pause_product(farmer, farm, product, now=NOW) is False
    assert product.status == "paused"
    assert services.resume_product(farmer, farm, product, now=NOW) is True
    assert product.status == "active"
    entries = audit_entries()
    assert [(e.action, e.from_state, e.to_state) for e in entries[1:]] == [
        ("product.paused", "active", "paused"), ("product.resumed", "paused", "active")]


def test_each_change_is_dated_with_the_time_it_is_given(farm, farmer):
    product = services.create_product(farmer, farm, data(), now=NOW)
    assert (product.created_at, product.updated_at) == (NOW, NOW)
    services.update_product(farmer, farm, product, data(stock=150), now=NOW + timedelta(minutes=1))
    assert (product.created_at, product.updated_at) == (NOW, NOW + timedelta(minutes=1))
    services.pause_product(farmer, farm, product, now=NOW + timedelta(minutes=2))
    assert product.updated_at == NOW + timedelta(minutes=2)
    services.resume_product(farmer, farm, product, now=NOW + timedelta(minutes=3))
    assert product.updated_at == NOW + timedelta(minutes=3)
    make_order((product, product.min_order_qty))
    assert services.delete_product(farmer, farm, product, now=NOW + timedelta(minutes=4)) == "archived"
    assert (product.status, product.created_at, product.updated_at) == ("archived", NOW, NOW + timedelta(minutes=4))


def test_delete_a_product_never_ordered_removes_it_its_photos_and_redirects(app, farm, farmer):
    product = services.create_product(farmer, farm, data(name="Dứa Queen"), [photo(), photo("JPEG", name="b.jpg")],
                                      now=NOW)
    services.update_product(farmer, farm, product, data(name="Dứa mật"), now=NOW)
    db.session.commit()
    assert len(stored_files(app)) == 4
    product_id = product.id

    assert services.delete_product(farmer, farm, product, now=NOW) == "deleted"
    assert len(stored_files(app)) == 4, "files stay until the deletion is committed"
    db.session.commit()
    assert stored_files(app) == []
    assert db.session.get(Product, product_id) is None
    for model in (ProductPhoto, ProductSlugRedirect):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    [entry] = audit_entries("product.deleted")
    assert entry.entity_id == product_id and json.loads(entry.details)["slug"] == "dua-mat"


def test_a_rolled_back_deletion_keeps_the_photo_files(app, farm, farmer):
    product = services.create_product(farmer, farm, data(), [photo()], now=NOW)
    db.session.commit()
    services.delete_product(farmer, farm, product, now=NOW)
    db.session.rollback()
    assert len(stored_files(app)) == 2 and db.session.get(Product, product.id) is not None


def test_an_ordered_product_is_archived_not_deleted(app, farm, farmer):
    product = services.create_product(farmer, farm, data(), [photo()], now=NOW)
    db.session.commit()
    assert not services.product_was_ordered(product)
    make_order((product, product.min_order_qty), now=utcnow())  # even an order never paid keeps the product
    assert services.product_was_ordered(product)
    assert services.delete_product(farmer, farm, product, now=NOW) == "archived"
    db.session.commit()
    assert product.status == "archived" and len(stored_files(app)) == 2
    [entry] = audit_entries("product.archived")
    assert (entry.from_state, entry.to_state) == ("active", "archived")
    with pytest.raises(ProductError):
        services.update_product(farmer, farm, product, data(price_vnd=1), now=NOW)
    with pytest.raises(ProductError):
        services.resume_product(farmer, farm, product, now=NOW)


def test_photos_are_stored_in_order_with_audit(app, farm, farmer):
    product = services.create_product(farmer, farm, data(), [photo(size=(2400, 1200)), photo("WEBP", name="b.webp")],
                                      now=NOW)
    db.session.commit()
    assert [(p.position, p.width, p.height) for p in product.photos] == [(0, 1200, 600), (1, 900, 600)]
    assert product.photos[0].fit_within(400) == (400, 200)
    assert len(stored_files(app)) == 4
    assert len(audit_entries("product.photo_added")) == 2


@pytest.mark.parametrize("bad, message", [(pdf, "not a photo"), (bomb, "too large in pixels")])
def test_one_refused_photo_refuses_the_whole_product_and_stores_nothing(app, farm, farmer, bad, message):
    with pytest.raises(ProductError, match=message) as info:
        services.create_product(farmer, farm, data(), [photo(), bad()], now=NOW)
    assert info.value.field == "photos" and bad().filename in info.value.message
    db.session.rollback()
    assert stored_files(app) == []
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_at_most_six_photos(app, farm, farmer):
    with pytest.raises(ProductError, match="at most 6 photos"):
        services.create_product(farmer, farm, data(), [photo() for _ in range(MAX_PHOTOS + 1)], now=NOW)
    product = services.create_product(farmer, farm, data(), [photo() for _ in range(4)], now=NOW)
    with pytest.raises(ProductError, match="add 2 more"):
        services.add_photos(farmer, farm, product, [photo() for _ in range(3)])
    services.add_photos(farmer, farm, product, [photo(), photo()])
    with pytest.raises(ProductError, match="already has 6 photos"):
        services.add_photos(farmer, farm, product, [photo()])
    db.session.commit()
    assert [p.position for p in product.photos] == list(range(6))
    assert len(stored_files(app)) == 12


def test_files_saved_for_a_transaction_that_rolls_back_are_deleted(app, farm, farmer):
    product = services.create_product(farmer, farm, data(), now=NOW)
    db.session.commit()
    services.add_photos(farmer, farm, product, [photo(), photo()])
    assert len(stored_files(app)) == 4
    db.session.rollback()
    assert stored_files(app) == []


def test_remove_and_reorder_photos(app, farm, farmer):
    product = services.create_product(farmer, farm, data(), [photo() for _ in range(4)], now=NOW)
    db.session.commit()
    a, b, c, d = (p.id for p in product.photos)
    assert services.move_photo(farmer, farm, product, c, "up") is True
    db.session.commit()
    db.session.expire(product)
    assert [p.id for p in product.photos] == [a, c, b, d]
    services.move_photo(farmer, farm, product, d, "first")
    assert services.move_photo(farmer, farm, product, d, "first") is False
    db.session.commit()
    db.session.expire(product)
    assert [p.id for p in product.photos] == [d, a, c, b]

    services.remove_photo(farmer, farm, product, a)
    db.session.commit()
    db.session.expire(product)
    assert [(p.id, p.position) for p in product.photos] == [(d, 0), (c, 1), (b, 2)]
    assert len(stored_files(app)) == 6
    assert [e.action for e in audit_entries()][-1] == "product.photo_removed"
    with pytest.raises(services.PhotoNotFound):
        services.remove_photo(farmer, farm, product, a)


def test_only_the_owner_of_an_approved_farm_or_staff_may_change_products(farm, farmer, make_farm, make_user):
    product = services.create_product(farmer, farm, data(), now=NOW)
    other_farm = make_farm()
    for actor, acting_farm in [(other_farm.owner, farm), (make_user(role="buyer"), farm),
                               (other_farm.owner, other_farm)]:
        with pytest.raises(services.NotAllowed):
            services.update_product(actor, acting_farm, product, data(price_vnd=1), now=NOW)
    for status in ("pending", "rejected", "suspended"):
        farm.status = status
        with pytest.raises(services.NotAllowed):
            services.create_product(farmer, farm, data(), now=NOW)
        with pytest.raises(services.NotAllowed):
            services.pause_product(make_user(role="admin"), farm, product, now=NOW)
    db.session.rollback()
    db.session.refresh(product)
    assert product.price_vnd == 25000 and product.status == "active"


def test_farm_products_takes_the_same_queries_for_many_products(farm, farmer):
    def count_queries() -> int:
        db.session.refresh(farm)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            products = services.farm_products(farm)
            [p.photos[0].small_key for p in products if p.photos]
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    services.create_product(farmer, farm, data(), [photo()], now=NOW)
    db.session.commit()
    few = count_queries()
    for _ in range(5):
        services.create_product(farmer, farm, data(), [photo(), photo()], now=NOW)
    db.session.commit()
    assert count_queries() == few == 2


def test_farm_products_lists_on_sale_then_paused_then_archived(farm, farmer):
    archived = services.create_product(farmer, farm, data(name="C"), now=NOW)
    db.session.commit()
    make_order((archived, archived.min_order_qty), now=utcnow())
    services.delete_product(farmer, farm, archived, now=NOW)
    paused = services.create_product(farmer, farm, data(name="B"), now=NOW)
    services.pause_product(farmer, farm, paused, now=NOW)
    active = services.create_product(farmer, farm, data(name="A"), now=NOW)
    assert services.farm_products(farm) == [active, paused, archived]

