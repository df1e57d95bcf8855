"""A large synthetic Kep catalogue: 200 approved farms, 5,000 active products, bulk-inserted.

The schema comes from the migrations (never ``create_all``). Names look Vietnamese and nearly
all contain "dứa", so a search for "dua" finds thousands of products. Everything is drawn from
a fixed random seed: two runs build the same catalogue.
"""
from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_migrate import upgrade
from sqlalchemy import insert, select, text
from werkzeug.security import generate_password_hash

from accounts.farms import VILLAGES, Farm
from accounts.models import User
from bench.ledger import seed_ledger
from core.extensions import db
from core.text import fold, slugify
from core.time import local_to_utc, utcnow
from shop.models import Product, ProductPhoto
from tours.models import Tour, TourSlot

FARMS = 200
PRODUCTS = 5000
PASSWORD = "bench-dua-kep-2026"
ADMIN_EMAIL = "canbo@bench.duakep.vn"
BUYER_EMAIL = "khach@bench.duakep.vn"

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý", "Hồ",
          "Phan", "Trịnh", "Đinh", "Lương", "Mai", "Tạ", "Chu")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Hữu")
GIVEN = ("An", "Bình", "Cường", "Dung", "Hải", "Hoa", "Khánh", "Lan", "Minh", "Nga", "Phúc", "Thu", "Hương",
         "Sơn", "Tâm", "Tuấn", "Yến", "Hạnh", "Long", "Quý", "Thảo", "Vinh", "Hùng", "Liên", "Trang")
FARM_KINDS = ("Vườn dứa", "Trang trại dứa", "Đồi dứa", "Dứa sạch", "Nhà vườn dứa", "HTX dứa")

# (name, category, unit, price in VND, season or None)
BASES = (
    ("Dứa Queen tươi", "fresh", "kg", 25000, (4, 8)),
    ("Dứa Queen quả to", "fresh", "fruit", 18000, (4, 8)),
    ("Dứa mật chín cây", "fresh", "kg", 30000, (5, 7)),
    ("Dứa Queen quả nhỏ", "fresh", "fruit", 12000, (4, 8)),
    ("Thùng dứa Queen 10 kg", "fresh", "box", 220000, (4, 9)),
    ("Dứa Cayen", "fresh", "kg", 20000, None),
    ("Dứa sấy dẻo", "processed", "bag", 65000, None),
    ("Dứa sấy giòn", "processed", "bag", 70000, None),
    ("Mứt dứa", "processed", "jar", 55000, None),
    ("Nước ép dứa nguyên chất", "processed", "bottle", 35000, (4, 9)),
    ("Siro dứa", "processed", "bottle", 45000, None),
    ("Giấm dứa", "processed", "bottle", 40000, None),
    ("Bánh dứa", "processed", "box", 85000, None),
    ("Chồi dứa giống Queen", "seedlings", "plant", 3000, (8, 11)),
    ("Cây dứa giống MD2", "seedlings", "plant", 6000, (8, 11)),
    ("Chồi ngọn dứa", "seedlings", "plant", 2500, None),
    ("Lá dứa phơi khô", "other", "bag", 30000, None),
    ("Phân hữu cơ từ vỏ dứa", "other", "bag", 90000, None),
    ("Giỏ quà dứa Kép", "other", "box", 250000, None),
    ("Rượu dứa", "other", "bottle", 120000, None),
)
QUALIFIERS = ("", " loại 1", " vụ mới", " hữu cơ", " VietGAP", " đặc biệt", " gói gia đình", " quà biếu")
SENTENCES = (
    "Trồng trên đồi đất đỏ thôn {village}, xã Kép.",
    "Hái buổi sáng, giao trong ngày cho khách ở Bắc Ninh và Hà Nội.",
    "Mắt sâu, thịt vàng, ngọt thanh, thơm đặc trưng của dứa Kép.",
    "Không dùng thuốc kích thích ra hoa, bón phân chuồng hoai mục.",
    "Đóng gói cẩn thận, bảo quản nơi khô ráo, thoáng mát.",
    "Gia đình làm dứa đã ba đời, khoảng 2 ha với 20.000 gốc.",
    "Sản phẩm đạt tiêu chuẩn VietGAP, có truy xuất nguồn gốc.",
    "Phù hợp làm quà biếu, ăn tươi hoặc ép nước.",
)


@dataclass(frozen=True)
class Catalogue:
    """What the page list needs to know about the seeded data."""
    farms: int
    products: int
    farmer_email: str  # owner of ``farm_slug``; password ``PASSWORD``
    farm_slug: str
    product_slug: str  # a product of that farm with three photos
    password: str = PASSWORD


def prepare_database() -> None:
    """An empty database with the current schema; PostgreSQL's public schema is dropped first."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()
    upgrade()


def _bulk(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model.__table__), rows)


def _photo_key(*parts: object) -> str:
    name = hashlib.md5("-".join(map(str, parts)).encode()).hexdigest()
    return f"{name[:2]}/{name}.webp"


def seed(farms: int = FARMS, products: int = PRODUCTS) -> Catalogue:
    """Insert the catalogue into the (empty) database and commit."""
    rng = random.Random(2026)
    now = utcnow()
    password_hash = generate_password_hash(PASSWORD, method="scrypt")  # hashing is slow: once for all

    def user(email: str, name: str, role: str, n: int) -> dict:
        return {"email": email, "full_name": name, "phone": f"09{n:08d}", "password_hash": password_hash,
                "role": role, "active": True, "locale": None, "created_at": now - timedelta(days=400),
                "session_token": secrets.token_hex(16)}

    people = rng.sample([(f, m, g) for f in FAMILY for m in MIDDLE for g in GIVEN], farms)
    farm_names = rng.sample([f"{k} {g} {f}" for k in FARM_KINDS for g in GIVEN for f in FAMILY], farms)
    users = [user(ADMIN_EMAIL, "Cán bộ xã Kép", "admin", 0), user(BUYER_EMAIL, "Trịnh Thị Mai", "buyer", 1)]
    users += [user(f"farmer{i + 1:03d}@bench.duakep.vn", " ".join(people[i]), "farmer", i + 2)
              for i in range(farms)]
    _bulk(User, users)
    ids = dict(db.session.execute(select(User.email, User.id)).all())

    farm_rows, slugs = [], set()
    for i, name in enumerate(farm_names):
        slug = slugify(name)
        slug = slug if slug not in slugs else f"{slug}-{i}"
        slugs.add(slug)
        village = VILLAGES[i % len(VILLAGES)]
        certified = i % 3 != 2
        farm_rows.append({
            "owner_id": ids[f"farmer{i + 1:03d}@bench.duakep.vn"], "name": name, "slug": slug,
            "village": village,
            "description": f"{name} ở thôn {village}, xã Kép. " + " ".join(rng.sample(SENTENCES[1:], 3)),
            "vietgap_certified": certified, "vietgap_certificate_no": f"VG-BG-2025-{i:04d}" if certified else None,
            "bank_bin": "970405", "bank_account_number": f"2500205{i:06d}",
            "bank_account_name": fold(" ".join(people[i])).upper(), "offers_delivery": i % 2 == 0,
            "delivery_fee_vnd": 30000 if i % 2 == 0 else 0, "status": "approved", "rejection_reason": None,
            "decided_by_id": ids[ADMIN_EMAIL], "decided_at": now - timedelta(days=300),
            "applied_at": now - timedelta(days=301)})
    _bulk(Farm, farm_rows)
    farms_by_slug = {slug: (farm_id, name, village) for slug, farm_id, name, village in db.session.execute(
        select(Farm.slug, Farm.id, Farm.name, Farm.village)).all()}
    farm_list = [farms_by_slug[row["slug"]] for row in farm_rows]

    combos = [(base, qualifier) for base in BASES for qualifier in QUALIFIERS]
    product_rows, product_slugs = [], set()
    per_farm = -(-products // farms)
    for i in range(products):
        farm_id, farm_name, village = farm_list[i // per_farm]
        (base, category, unit, price, season), qualifier = combos[(i * 37 + i // per_farm) % len(combos)]
        name = f"{base}{qualifier} – {farm_name}"
        slug = slugify(name)
        slug = slug if slug not in product_slugs else f"{slug}-{i}"
        product_slugs.add(slug)
        description = " ".join(s.format(village=village) for s in rng.sample(SENTENCES, 3))
        created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        product_rows.append({
            "farm_id": farm_id, "name": name, "slug": slug, "description": description, "category": category,
            "unit": unit, "price_vnd": price + 1000 * rng.randint(0, 10),
            "stock": 0 if i % 20 == 7 else rng.randint(10, 2000),
            "min_order_qty": 100 if category == "seedlings" else rng.randint(1, 3),
            "season_start": season[0] if season else None, "season_end": season[1] if season else None,
            "status": "active", "search_text": fold(f"{name} {description} {farm_name} {village}"),
            "orders_count": rng.randint(0, 300), "created_at": created, "updated_at": created})
    _bulk(Product, product_rows)

    product_ids = dict(db.session.execute(select(Product.slug, Product.id)).all())
    photos = [{"product_id": product_ids[row["slug"]], "position": position,
               "large_key": _photo_key(n, position, "large"), "small_key": _photo_key(n, position, "small"),
               "width": 1600, "height": 1200}
              for n, row in enumerate(product_rows) for position in range(n % 4)]
    _bulk(ProductPhoto, photos)
    _seed_tours(farm_list[::10], rng)
    seed_ledger(db, farm_list[0][0], ids[ADMIN_EMAIL], now, random.Random(2027))  # the benched farm's income
    db.session.commit()
    _analyze()

    first_farm = farm_rows[0]
    product = next(row for n, row in enumerate(product_rows)
                   if row["farm_id"] == farm_list[0][0] and n % 4 == 3)
    return Catalogue(farms=len(farm_rows), products=len(product_rows), farmer_email=users[2]["email"],
                     farm_slug=first_farm["slug"], product_slug=product["slug"])


def _analyze() -> None:
    """Planner statistics, as a live database has them (autovacuum would gather them only later)."""
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _seed_tours(farms: list[tuple[int, str, str]], rng: random.Random) -> None:
    """One hill visit, with slots over the next four weeks, for every tenth farm."""
    tours = [{"farm_id": farm_id, "title": f"Tham quan đồi dứa – {name}", "slug": slugify(f"tham quan {name}"),
              "description": "Đi bộ lên đồi dứa, nghe nông dân kể chuyện trồng dứa, tự tay hái và nếm dứa tươi.",
              "included": "Nếm dứa tươi; hái dứa", "duration_minutes": 150,
              "meeting_point": f"Cổng {name}, thôn {village}", "map_url": None, "languages": "vi,en",
              "price_adult_vnd": 150000, "price_child_vnd": 50000, "default_capacity": 20,
              "free_cancel_hours": 48, "status": "active", "created_at": utcnow()}
             for farm_id, name, village in farms]
    _bulk(Tour, tours)
    tour_ids = db.session.scalars(select(Tour.id)).all()
    today = date.today()
    _bulk(TourSlot, [{"tour_id": tour_id, "starts_at": local_to_utc(datetime.combine(today + timedelta(days=day),
                                                                                  time(hour))),
                      "capacity": 20, "seats_taken": rng.randint(0, 20), "status": "open"}
                     for tour_id in tour_ids for day in range(1, 29, 3) for hour in (8, 14)])
