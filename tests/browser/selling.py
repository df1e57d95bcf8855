"""Journey 1, through the pages: a farmer registers, applies to sell, is approved by commune staff, lists
fresh pineapples with a photo and offers a visit with three times. A second farm is made the same way
(without a visit) so that journey 2 can buy from two farms."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.browser.world import Person, World

PASSWORD = "dua-kep-2026-hanh-trinh"
STAFF_EMAIL = "canbo.hanhtrinh@duakep.vn"
FEE_TYPED, FEE_BASIS_POINTS = "2,5", 250   # as a Vietnamese user types 2.5 %


@dataclass(frozen=True)
class Farmer:
    key: str
    email: str
    full_name: str
    phone: str
    farm: str
    village: str
    about: str
    account_number: str
    account_name: str


@dataclass(frozen=True)
class Listing:
    name: str
    description: str
    unit: str
    price_typed: str
    price_vnd: int
    stock: str


@dataclass(frozen=True)
class Visit:
    title: str
    description: str
    included: str
    meeting_point: str
    price_adult_vnd: int
    price_child_vnd: int
    capacity: int


FARMER_A = Farmer("farmer A", "hai.nguyen@duakep.vn", "Nguyễn Văn Hải", "0912 345 678", "Vườn dứa Đồi Thông",
                  "Kép 3", "Hai héc-ta dứa Queen trên đồi, trồng theo VietGAP.", "2500205110042",
                  "Nguyen Van Hai")
FARMER_B = Farmer("farmer B", "lan.tran@duakep.vn", "Trần Thị Lan", "0987 654 321", "Trang trại dứa Bà Lan",
                  "Kép 10", "Dứa mật chín cây, hái buổi sáng.", "2500205110077", "Tran Thi Lan")
PINEAPPLES_A = Listing("Dứa Queen Đồi Thông loại 1", "Quả 1–1,3 kg, ngọt thơm, hái trong ngày.", "kg", "25.000",
                       25_000, "200")
PINEAPPLES_B = Listing("Dứa mật Kép 10", "Dứa mật chín cây, mỗi quả khoảng 1 kg.", "fruit", "18000", 18_000, "120")
VISIT_A = Visit("Hái dứa trên đồi Hương Sơn", "Đi dạo trên đồi dứa, tự tay hái và nếm dứa tươi.",
                "Nếm dứa tươi, một chai nước, nón lá.", "Cổng vườn, đường vào thôn Kép 3", 120_000, 60_000, 15)


@dataclass
class ListedFarm:
    farmer: Farmer
    person: Person
    listing: Listing
    product_url: str
    visit: Visit | None = None
    tour_url: str | None = None


def photo_jpeg(folder: Path) -> Path:
    """A phone-like JPEG made here: a yellow pineapple on green, 1600 × 1200."""
    image = Image.new("RGB", (1600, 1200), (46, 125, 50))
    for y in range(300, 900):
        for x in range(600, 1000, 4):
            image.putpixel((x, y), (240, 190, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path = folder / "dua-queen.jpg"
    path.write_bytes(out.getvalue())
    return path


def submit(person: Person, button: str = "main form button[type=submit].primary") -> None:
    """Press a form's button and wait for the page it leads to."""
    with person.page.expect_navigation():
        person.page.click(button)


def expect_flash(person: Person, kind: str = "success") -> None:
    expect(person.page.locator(f"main .flash-{kind}").first).to_be_visible()


def open_screen(person: Person, path: str) -> None:
    """Go to a screen the way people do: through its link in the navigation (or on the page)."""
    shown = f'header a[href="{path}"]:visible, main a[href="{path}"]:visible'
    if not person.page.locator(shown).count():  # on a phone the header's links are behind its menu button
        person.page.click("header .menu > summary")
    link = person.page.locator(shown).first
    expect(link).to_be_visible()
    with person.page.expect_navigation():
        link.click()


def log_in(world: World, person: Person, email: str, password: str = PASSWORD) -> None:
    person.page.goto("/login")
    world.seen(person, "login form")
    person.page.fill("#email", email)
    person.page.fill("#password", password)
    submit(person)
    expect_flash(person)
    expect(person.page.locator('header form[action="/logout"]')).to_have_count(1)


def staff(world: World) -> Person:
    """Commune staff: an account made with ``flask create-admin``, logged in through the login page, who
    sets the platform fee to 2.5 % so that the income figures of journey 4 have fees in them."""
    def make(w: World) -> Person:
        w.live.cli("create-admin", STAFF_EMAIL, "--name", "Cán bộ xã Kép", "--password", PASSWORD)
        person = w.person("staff")
        log_in(w, person, STAFF_EMAIL)
        person.page.goto("/admin/settings")
        w.seen(person, "staff settings")
        person.page.fill("#percent", FEE_TYPED)
        submit(person, 'main form[action="/admin/settings/fee"] button[type=submit]')
        expect_flash(person)
        assert w.query(_platform_fee) == FEE_BASIS_POINTS
        return person
    return world.once("staff", make)


def _platform_fee() -> int:
    from shop.ledger import platform_fee_bp

    return platform_fee_bp()


def register(world: World, person: Person, email: str, full_name: str, phone: str) -> None:
    world.remember(email, full_name, phone)
    person.page.goto("/register")
    world.seen(person, "register form")
    page = person.page
    page.fill("#email", email)
    page.fill("#full_name", full_name)
    page.fill("#phone", phone)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    submit(person)
    # The link from the e-mail (the outbox), then the button that creates the account.
    from tests.helpers import registration_link
    page.goto(world.query(lambda: registration_link(email)))
    submit(person)
    expect_flash(person)
    assert page.url.rstrip("/") == world.live.base_url, page.url


def apply_and_get_approved(world: World, farmer: Farmer) -> Person:
    person = world.person(farmer.key)
    world.remember(farmer.farm, farmer.about, farmer.account_number, farmer.account_name.upper())
    register(world, person, farmer.email, farmer.full_name, farmer.phone)
    page = person.page
    open_screen(person, "/sell")
    world.seen(person, "application form")
    page.fill("#name", farmer.farm)
    page.select_option("#village", farmer.village)
    page.fill("#description", farmer.about)
    page.select_option("#bank_bin", "970405")
    page.fill("#bank_account_number", farmer.account_number)
    page.fill("#bank_account_name", farmer.account_name)
    submit(person)
    expect_flash(person)
    expect(page.locator("main h1")).to_have_text(farmer.farm)
    world.seen(person, "application waiting")

    admin = staff(world)
    open_screen(admin, "/admin/")
    world.seen(admin, "staff overview")
    with admin.page.expect_navigation():
        admin.page.click('main a[href="/admin/applications"]')
    world.seen(admin, "applications")
    with admin.page.expect_navigation():
        admin.page.click(f"main .card a:text-is('{farmer.farm}')")
    expect(admin.page.locator("main")).to_contain_text(farmer.full_name)
    world.seen(admin, f"application of {farmer.key}")
    submit(admin, 'main form[action$="/approve"] button')
    expect_flash(admin)
    expect(admin.page.locator("main .card", has_text=farmer.farm)).to_have_count(0)

    page.goto("/sell")
    expect(page.locator("main .notice-success")).to_be_visible()
    world.seen(person, "application approved")
    return person


def list_product(world: World, person: Person, listing: Listing, photo: Path | None) -> str:
    """Put a product on sale through "Add a product"; the address of its public page."""
    world.remember(listing.name, listing.description)
    page = person.page
    open_screen(person, "/farmer/products")
    world.seen(person, "my products (empty)")
    with page.expect_navigation():
        page.click('main a[href="/farmer/products/new"]')
    world.seen(person, "add a product")
    page.fill("#name", listing.name)
    page.select_option("#category", "fresh")
    page.fill("#description", listing.description)
    page.select_option("#unit", listing.unit)
    page.fill("#price_vnd", listing.price_typed)
    page.fill("#stock", listing.stock)
    if photo is not None:
        page.set_input_files("#photos", str(photo))
    submit(person)
    expect_flash(person)
    expect(page.locator("main")).to_contain_text(listing.name)
    world.seen(person, "my products")

    slug = world.query(lambda: _product_slug(listing.name))
    page.goto(f"/products/{slug}")
    expect(page.locator("main h1")).to_have_text(listing.name)
    if photo is not None:
        image = page.locator("main img[src^='/media/']").first
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, "the uploaded photo does not show"
    world.seen(person, "product page")
    return f"/products/{slug}"


def _product_slug(name: str) -> str:
    from sqlalchemy import select

    from core.extensions import db
    from shop.models import Product

    return db.session.scalar(select(Product.slug).where(Product.name == name))


def offer_visit(world: World, person: Person, visit: Visit, photo: Path) -> str:
    """A visit with three times: one added by hand, two generated (9:00 and 15:00 on the next day)."""
    from core.time import to_local, utcnow

    world.remember(visit.title, visit.description, visit.included, visit.meeting_point)
    page = person.page
    open_screen(person, "/farmer/tours")
    world.seen(person, "my visits (empty)")
    with page.expect_navigation():
        page.click('main a[href="/farmer/tours/new"]')
    world.seen(person, "offer a visit")
    page.fill("#title", visit.title)
    page.fill("#description", visit.description)
    page.fill("#included", visit.included)
    page.fill("#duration_minutes", "150")
    page.check("input[name=languages][value=en]")
    page.fill("#meeting_point", visit.meeting_point)
    page.fill("#price_adult_vnd", f"{visit.price_adult_vnd:,}".replace(",", "."))
    page.fill("#price_child_vnd", str(visit.price_child_vnd))
    page.fill("#default_capacity", str(visit.capacity))
    page.set_input_files("#photos", str(photo))
    submit(person)
    expect_flash(person)
    world.seen(person, "visit times (none yet)")

    today = to_local(utcnow()).date()
    first_day, second_day = today + timedelta(days=3), today + timedelta(days=4)
    add = 'main form[action$="/slots/add"]'
    page.fill(f"{add} input[name=day]", first_day.isoformat())
    page.fill(f"{add} input[name=start]", "08:00")
    submit(person, f"{add} button[type=submit]")
    expect_flash(person)

    generate = 'main form[action$="/slots/generate"]'
    page.fill(f"{generate} input[name=first]", second_day.isoformat())
    page.fill(f"{generate} input[name=last]", second_day.isoformat())
    page.check(f"{generate} input[name=weekdays][value='{second_day.weekday()}']")
    page.fill(f"{generate} input[name=times]", "9:00, 15:00")
    submit(person, f"{generate} button[type=submit]")
    expect_flash(person)
    expect(page.locator("main section[aria-labelledby=coming-heading] .slot-card")).to_have_count(3)
    world.seen(person, "visit times")

    slug = world.query(lambda: _tour_slug(visit.title))
    page.goto(f"/tours/{slug}")
    expect(page.locator("main input[name=slot]")).to_have_count(3)
    world.seen(person, "public visit page")
    return f"/tours/{slug}"


def _tour_slug(title: str) -> str:
    from sqlalchemy import select

    from core.extensions import db
    from tours.models import Tour

    return db.session.scalar(select(Tour.slug).where(Tour.title == title))


def farm_a(world: World) -> ListedFarm:
    """Journey 1."""
    def journey(w: World) -> ListedFarm:
        photo = photo_jpeg(w.live.folder)
        person = apply_and_get_approved(w, FARMER_A)
        product_url = list_product(w, person, PINEAPPLES_A, photo)
        tour_url = offer_visit(w, person, VISIT_A, photo)
        return ListedFarm(FARMER_A, person, PINEAPPLES_A, product_url, VISIT_A, tour_url)
    return world.once("journey 1", journey)


def farm_b(world: World) -> ListedFarm:
    """The second farm of journey 2, made the way journey 1 makes a farm (no photo, no visit)."""
    def journey(w: World) -> ListedFarm:
        person = apply_and_get_approved(w, FARMER_B)
        return ListedFarm(FARMER_B, person, PINEAPPLES_B, list_product(w, person, PINEAPPLES_B, None))
    return world.once("second farm", journey)
