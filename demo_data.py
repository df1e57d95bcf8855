"""``flask seed-demo``: a believable Kep commune to try the market with.

Idempotent: every row is looked up by its natural key (email, slug) first, so a
second run adds nothing. ``--if-empty`` does nothing when any account exists.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select

from accounts.farms import Farm
from accounts.models import User
from core.extensions import db
from core.text import fold, slugify
from core.time import local_to_utc
from demo_pictures import add_demo_pictures
from shop.models import Product
from tours.models import Tour, TourSlot

DEMO_PASSWORD = "dua-kep-2026"
ADMIN_EMAIL = "canbo@duakep.vn"

# (email, full name, phone, farm name, village, VietGAP certificate or None, bank BIN, account)
FARMERS = [
    ("an.nguyen@duakep.vn", "Nguyễn Văn An", "0912345601", "Vườn dứa Anh An", "Kép", "VG-BG-2024-0117", "970405", "2500205110001"),
    ("binh.tran@duakep.vn", "Trần Thị Bình", "0912345602", "Trang trại dứa Bình Minh", "Kép 11", "VG-BG-2023-0321", "970436", "1012345602"),
    ("cuong.le@duakep.vn", "Lê Văn Cường", "0912345603", "Đồi dứa Cường Thịnh", "Ca", None, "970415", "101876543603"),
    ("dung.pham@duakep.vn", "Phạm Thị Dung", "0912345604", "Dứa sạch Dung Phạm", "Kép 2", "VG-BG-2024-0452", "970418", "21510001234604"),
    ("hai.hoang@duakep.vn", "Hoàng Văn Hải", "0912345605", "Vườn dứa Hải Hoàng", "Lèo", None, "970422", "0912345605"),
    ("hoa.vu@duakep.vn", "Vũ Thị Hoa", "0912345606", "Dứa Queen Hoa Vũ", "Kép 5", "VG-BG-2022-0098", "970405", "2500205110006"),
    ("khanh.dang@duakep.vn", "Đặng Văn Khánh", "0912345607", "Trang trại Khánh Hương Sơn", "Kép 8", None, "970407", "19031234567607"),
    ("lan.bui@duakep.vn", "Bùi Thị Lan", "0912345608", "Dứa sấy Lan Bùi", "Kép 11", "VG-BG-2023-0777", "970405", "2500205110008"),
    ("minh.do@duakep.vn", "Đỗ Văn Minh", "0912345609", "Đồi dứa Minh Đỗ", "Ca", None, "970436", "1012345609"),
    ("nga.ngo@duakep.vn", "Ngô Thị Nga", "0912345610", "Vườn dứa Nga Ngô", "Trại Nấp", "VG-BG-2024-0610", "970418", "21510001234610"),
    ("phuc.duong@duakep.vn", "Dương Văn Phúc", "0912345611", "Giống dứa Phúc Dương", "Kép 12", None, "970405", "2500205110011"),
    ("thu.ly@duakep.vn", "Lý Thị Thu", "0912345612", "Mứt dứa Thu Lý", "Kép 3", "VG-BG-2023-0905", "970422", "0912345612"),
]

BUYERS = [
    ("mai.khach@example.vn", "Trịnh Thị Mai", "0987654321"),
    ("tom.tourist@example.com", "Tom Baker", "0387654322"),
]

# (name, category, unit, price, stock, min qty, season months or None, description)
# Packed weight of one unit (parcel fees go by weight), and what travels only with the farm's own delivery:
# the fresh fruit picked in the morning for the day, and the juice kept cold.
DEMO_WEIGHTS_G = {"kg": 1050, "fruit": 1400, "bag": 250, "jar": 400, "bottle": 400, "box": 5000, "plant": 150}
DEMO_LOCAL_ONLY = {"Dứa Queen tươi", "Nước ép dứa nguyên chất"}
# Where the delivering farms go themselves: Kép and the communes around it (core.places codes).
DEMO_LOCAL_COMMUNES = "7399 7375 7420 7432 7381"

PRODUCTS = [
    ("Dứa Queen tươi", "fresh", "kg", 25000, 800, 2, (4, 8),
     "Dứa Queen chín cây trên đồi Kép, mắt sâu, thịt vàng, ngọt thanh. Hái buổi sáng, giao trong ngày."),
    ("Dứa Queen loại 1 (quả to)", "fresh", "fruit", 18000, 500, 5, (4, 8),
     "Quả từ 1,2 kg trở lên, chọn tay từng quả."),
    ("Dứa sấy dẻo", "processed", "bag", 65000, 120, 1, None,
     "Dứa Queen sấy dẻo, không đường, túi 200 g."),
    ("Mứt dứa", "processed", "jar", 55000, 80, 1, None, "Mứt dứa nấu thủ công, hũ 300 g."),
    ("Nước ép dứa nguyên chất", "processed", "bottle", 35000, 150, 2, (4, 9),
     "Nước ép dứa tươi, không thêm đường, chai 330 ml; bảo quản lạnh."),
    ("Chồi dứa giống Queen", "seedlings", "plant", 3000, 5000, 100, (8, 11),
     "Chồi ngọn và chồi nách dứa Queen khỏe, để trồng vụ mới."),
]

# English names and descriptions of the demo products; the juice and the seedlings keep only their Vietnamese,
# so that an English visitor also sees how untranslated text is marked.
ENGLISH = {
    "Dứa Queen tươi": ("Fresh Queen pineapple", "Queen pineapples ripened on the plant on the Kep hills: deep eyes, "
                       "golden flesh, light and sweet. Picked in the morning, sent the same day."),
    "Dứa Queen loại 1 (quả to)": ("Queen pineapple, grade 1 (large fruit)", "Fruit of 1.2 kg and more, each chosen "
                                  "by hand."),
    "Dứa sấy dẻo": ("Soft dried pineapple", "Soft dried Queen pineapple, no added sugar, 200 g bag."),
    "Mứt dứa": ("Pineapple jam", "Pineapple jam cooked by hand, 300 g jar."),
}
TOUR_ENGLISH = ("Visit to the Huong Son pineapple hill", "Walk up the pineapple hill, hear a farmer tell how "
                "pineapples are grown, pick and taste fresh pineapple yourself.")

TOUR = ("Tham quan đồi dứa Hương Sơn", 150000, 50000, 20,
        "Đi bộ lên đồi dứa, nghe nông dân kể chuyện trồng dứa, tự tay hái và nếm dứa tươi.",
        "Nếm dứa tươi; hái dứa; xem làm dứa sấy")


def _get_or_create(model, lookup: dict, **values):
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **values)
        db.session.add(row)
        db.session.flush()
        return row, True
    return row, False


def _user(email, full_name, phone, role):
    user = db.session.scalar(select(User).filter_by(email=email))
    if user is None:
        user = User(email=email, full_name=full_name, phone=phone, role=role)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
    return user


def seed(today: date | None = None) -> dict:
    """Load the demo data; returns how many rows of each kind were created."""
    today = today or date.today()
    created = {"users": 0, "farms": 0, "products": 0, "tours": 0, "slots": 0}
    before = db.session.scalar(select(func.count()).select_from(User))
    admin = _user(ADMIN_EMAIL, "Cán bộ xã Kép", "0900000001", "admin")
    for email, name, phone in BUYERS:
        _user(email, name, phone, "buyer")
    for index, (email, name, phone, farm_name, village, cert, bank_bin, account) in enumerate(FARMERS):
        owner = _user(email, name, phone, "farmer")
        farm, new_farm = _get_or_create(
            Farm, {"slug": slugify(farm_name)}, owner=owner, name=farm_name, village=village,
            description=f"{farm_name} ở thôn {village}, xã Kép. Gia đình trồng dứa Queen trên đồi đất đỏ, "
                        "khoảng 2 ha, 20.000 gốc.",
            vietgap_certified=cert is not None, vietgap_certificate_no=cert, bank_bin=bank_bin,
            bank_account_number=account, bank_account_name=fold(name).upper(), status="approved",
            decided_by_id=admin.id, decided_at=datetime(2026, 1, 5, 2, 0), offers_delivery=index % 2 == 0,
            delivery_fee_vnd=30000 if index % 2 == 0 else 0, local_commune_codes=DEMO_LOCAL_COMMUNES,
            local_days_min=0, local_days_max=1, ships_parcels=index % 3 != 2)
        created["farms"] += new_farm
        for offset in range(3):
            name_p, category, unit, price, stock, min_qty, season, description = PRODUCTS[(index + offset) % len(PRODUCTS)]
            full_name = f"{name_p} – {farm_name}"
            name_en, description_en = ENGLISH.get(name_p, ("", ""))
            product, new_product = _get_or_create(
                Product, {"slug": slugify(full_name)}, farm_id=farm.id, name=full_name, description=description,
                name_en=f"{name_en} – {farm_name}" if name_en else "", description_en=description_en,
                category=category, unit=unit, price_vnd=price + 1000 * (index % 3), stock=stock,
                min_order_qty=min_qty, season_start=season[0] if season else None,
                season_end=season[1] if season else None, shipping_weight_g=DEMO_WEIGHTS_G[unit],
                local_only=name_p in DEMO_LOCAL_ONLY,
                search_text=fold(f"{full_name} {description} {name_en} {description_en} {farm_name} {village}"))
            created["products"] += new_product
        if index < 4:
            title, adult, child, capacity, description, included = TOUR
            tour_title = f"{title} – {farm_name}"
            tour, new_tour = _get_or_create(
                Tour, {"slug": slugify(tour_title)}, farm_id=farm.id, title=tour_title, description=description,
                title_en=f"{TOUR_ENGLISH[0]} – {farm_name}", description_en=TOUR_ENGLISH[1],
                included=included, duration_minutes=150, meeting_point=f"Cổng {farm_name}, thôn {village}",
                languages="vi,en" if index % 2 == 0 else "vi", price_adult_vnd=adult, price_child_vnd=child,
                default_capacity=capacity)
            created["tours"] += new_tour
            for day in range(1, 29, 3):
                for hour in (8, 14):
                    starts = local_to_utc(datetime.combine(today + timedelta(days=day), time(hour)))
                    _, new_slot = _get_or_create(TourSlot, {"tour_id": tour.id, "starts_at": starts},
                                                 capacity=capacity)
                    created["slots"] += new_slot
    created["users"] = db.session.scalar(select(func.count()).select_from(User)) - before
    return created


def seed_season(today: date, start: date | None = None) -> int:
    """A season of paid orders and visits, from April to yesterday, placed and paid through the real
    services (so the ledger, stock and dashboards are what the market would really show). Orders older than
    three days were picked up or delivered (their money is available); the last days' are not yet (pending).
    Runs once."""
    from core import settings_store
    from core.outbox import Notification
    from shop import cart as carts
    from shop import lines, payments
    from shop.product_lines import PRODUCTS
    from tours.visit_lines import VISITS

    if settings_store.get("demo_season") == "done":
        return 0
    rng = random.Random(2026)
    buyers = [db.session.scalar(select(User).filter_by(email=email)) for email, _, _ in BUYERS]
    products = db.session.scalars(select(Product).where(Product.status == "active").order_by(Product.id)).all()
    start = start or date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    first_note = db.session.scalar(select(func.max(Notification.id))) or 0
    placed = 0
    for offset in range((today - start).days):
        day = start + timedelta(days=offset)
        busy = 3 if 5 <= day.month <= 7 else 1  # the harvest months sell most
        if day >= today - timedelta(days=3):
            busy = max(busy, 2)  # orders of the last days are not delivered yet: the dashboards show money pending
        for n in range(rng.randint(0, busy)):
            placed_at = local_to_utc(datetime.combine(day, time(rng.randint(7, 20), rng.randint(0, 59))))
            store = carts.SessionStore({})
            for product in rng.sample(products, rng.randint(1, 3)):
                quantity = max(product.min_order_qty, rng.randint(1, 8))
                if product.stock >= quantity + 20:
                    store.put(lines.key(PRODUCTS, product.id), {"q": quantity, "price": product.price_vnd})
            if day.weekday() == 5 and rng.random() < 0.6:
                slot = _past_slot(day, rng)
                if slot is not None and slot.capacity - slot.seats_taken >= 4:
                    store.put(lines.key(VISITS, slot.id), {"a": rng.randint(1, 3), "c": rng.randint(0, 1),
                                               "price": slot.tour.price_adult_vnd})
            booked_at = placed_at - timedelta(days=2) if any(lines.parse_key(k)[0] is VISITS for k in store.items()) else placed_at
            if order := _place_and_pay(store, rng, rng.choice(buyers), booked_at, f"demo-{day}-{n}"):
                placed += 1
                if day < today - timedelta(days=3):
                    for farm_order in order.farm_orders:
                        if rng.random() < 0.03:
                            payments.cancel_paid_farm_order(farm_order, farm_order.farm.owner,
                                                            booked_at + timedelta(hours=3))
                            continue
                        payments.move_farm_order(farm_order, "ready", farm_order.farm.owner, booked_at + timedelta(hours=5))
                        payments.move_farm_order(farm_order, "completed", farm_order.farm.owner,
                                                 booked_at + timedelta(days=1))
    # The season's messages were "sent" long ago: keep the staff outbox for real ones.
    db.session.execute(delete(Notification).where(Notification.id > first_note))
    settings_store.put("demo_season", "done")
    return placed


def _past_slot(day: date, rng: random.Random) -> TourSlot | None:
    tours = db.session.scalars(select(Tour).order_by(Tour.id)).all()
    if not tours:
        return None
    tour = rng.choice(tours)
    starts = local_to_utc(datetime.combine(day, time(8)))
    slot, _ = _get_or_create(TourSlot, {"tour_id": tour.id, "starts_at": starts}, capacity=tour.default_capacity)
    return slot


def _place_and_pay(store, rng: random.Random, buyer, now, token):
    from shop import cart as carts
    from shop import checkout, delivery, payments

    cart = carts.load(store, now)
    if cart.is_empty or cart.has_problems:
        return None
    fulfilments = {farm.id: rng.choice(delivery.fulfilment_choices(farm)) for farm, _ in cart.by_farm()}
    # Half the deliveries go to Kép, half by parcel to Hà Nội; where a farm cannot send, the buyer picks up.
    where = delivery.Destination(buyer.full_name, buyer.phone, *rng.choice([(24, 7399), (1, 70)]), "Số 12")
    for farm_id, (_found, reason) in checkout.quotes(cart, fulfilments, where).items():
        if reason is not None:
            fulfilments[farm_id] = "farm_pickup"
    total = checkout.totals(cart, fulfilments, where)[1]
    order = checkout.place_order(store, buyer=checkout.Buyer(buyer.full_name, buyer.phone, buyer.email),
                                 fulfilments=fulfilments, payment_method="vietqr", shown_total=total,
                                 checkout_token=token, user=buyer, now=now, hold_minutes=30, destination=where)
    paid_at = now + timedelta(minutes=7)
    payments.record_bank_transfer(transaction_id=f"DEMO{order.id:08d}", amount_vnd=order.total_vnd,
                                  content=f"{order.reference} thanh toan don hang", transferred_at=paid_at,
                                  source="webhook", now=paid_at)
    return order


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the Kep commune demo data (safe to run twice)."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Database already has data; demo data not loaded.")
        return
    created = seed()
    created["pictures"] = add_demo_pictures()
    created["paid orders"] = seed_season(date.today())
    db.session.commit()
    click.echo("Demo data: " + ", ".join(f"{count} {kind}" for kind, count in created.items()) + " added.")
    click.echo(f"Log in as {ADMIN_EMAIL}, {FARMERS[0][0]} or {BUYERS[0][0]} with the password {DEMO_PASSWORD}")
