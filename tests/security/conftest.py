"""The security suite's world, built once per test module and put back after every test that may change it.

Two buyers (A, B), two approved farms with their farmers (A, B), commune staff, and one of everything a route
can name: farmer A's product with a photo, a tour with a photo and a slot, buyer A's paid order (a product of
farm A and a visit: farm order A and a ticket), buyer B's paid order at farm B (farm order B), an unmatched
bank transfer, a bank refund to make, a card payment, a pending farm application, and a lapsed
assisted-mode consent of farm A (so farm A has no consent in force).

Hundreds of requests run against it, so it is built once per module (``shared``) and a snapshot of every
table is written back (``shared.restore()``) before a test whenever an earlier one may have changed it.
A module sets ``APP_CONFIG = {...}`` for its own settings. Users get a cheap password hash (PBKDF2 with one
round) so that logging in through the real form stays fast.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from core.extensions import db
from core.time import utcnow
from tests import factories
from tests.helpers import PASSWORD, csrf_token_from

ROLES = ("anonymous", "buyer_a", "buyer_b", "farmer_a", "farmer_b", "admin")
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
PHOTO_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8 not-really-a-photo"


# -- building the world ---------------------------------------------------------------------------------------

def new_user(role: str, name: str):
    return factories.make_user(role.split("_")[0], f"{name.replace('_', '.')}@example.vn",
                               full_name=name.replace("_", " ").title(), password_hash=FAST_HASH)


def make_tour(farm, title: str, slug: str):
    """A tour with one slot five days from now, at 08:00 in Kep."""
    tour = factories.make_tour(farm, title=title, slug=slug, included="Nước dứa.")
    start = (utcnow() + timedelta(days=5)).replace(hour=1, minute=0, second=0, microsecond=0)
    return tour, factories.make_slot(tour, starts_at=start)


def paid_order(user, items, *, slot=None):
    """An order of ``user`` (a product each, and a visit for 2 + 1), placed now and paid by a bank notification."""
    now = utcnow()
    visits = [(slot, 2, 1)] if slot is not None else []
    order = factories.make_order(*[(product, 1) for product in items], *visits, user=user, now=now,
                                 buyer=factories.buyer_details(user.full_name, user.phone, user.email))
    return factories.pay(order, now=now)


@dataclass
class World:
    users: dict
    objects: dict
    params: dict = field(default_factory=dict)  # values for URL templates


def build_world(app) -> World:
    from accounts import assist, reset
    from core.storage import get_storage
    from shop import payments
    from shop.batch_models import HarvestBatch
    from shop.certificate_models import Certificate
    from shop.delivery_models import Address
    from shop.models import ProductPhoto
    from shop.payment_models import Payment, Refund
    from shop.review_models import Review
    from shop.statement_models import StatementImport, StatementLine
    from tours import tickets
    from tours.models import CalendarFeed, TourPhoto, WaitlistEntry
    from tours.rain_models import RainChoice
    from tours.resource_models import FarmResource
    from tours.services import tickets_for_order

    users = {role: new_user(role, role) for role in ROLES if role != "anonymous"}
    farm_a = factories.make_farm(users["farmer_a"], name="Vườn dứa An", slug="vuon-dua-an")
    farm_b = factories.make_farm(users["farmer_b"], name="Vườn dứa Bình", slug="vuon-dua-binh")
    pending_farm = factories.make_farm(new_user("buyer", "applicant"), "pending", "Vườn dứa Chờ", slug="vuon-dua-cho")
    product_a = factories.make_product(farm_a, "Dứa Queen An", slug="dua-queen-an")
    product_b = factories.make_product(farm_b, "Dứa Queen Bình", slug="dua-queen-binh")
    tour_a, slot_a = make_tour(farm_a, "Hái dứa trên đồi", "hai-dua-tren-doi")
    storage = get_storage(app)
    key = storage.save(PHOTO_BYTES, "webp")
    photo_a = ProductPhoto(product_id=product_a.id, position=0, large_key=key, small_key=key, width=10, height=10)
    tour_photo_a = TourPhoto(tour_id=tour_a.id, position=0, large_key=key, small_key=key, width=10, height=10)
    db.session.add_all([photo_a, tour_photo_a])
    db.session.commit()

    order_a = paid_order(users["buyer_a"], [product_a], slot=slot_a)
    order_b = paid_order(users["buyer_b"], [product_b])
    now = utcnow()
    transfer = payments.record_bank_transfer(transaction_id="FTSECUNMATCHED", amount_vnd=12345, content="chuyen tien",
                                             transferred_at=now, source="webhook", now=now)
    refund = Refund(order_id=order_b.id, amount_vnd=1000, provider="vietqr", reason="overpaid", status="pending",
                    details_token="security-matrix-refund-link")
    card_payment = Payment(order_id=order_a.id, provider="card", amount_vnd=order_a.total_vnd,
                           provider_ref="pi_security_matrix", status="pending")
    db.session.add_all([refund, card_payment])
    statement = StatementImport(digest="0" * 64, filename="sao-ke.csv", layout="generic", credits=1, skipped=0)
    db.session.add(statement)
    db.session.flush()
    statement_line = StatementLine(import_id=statement.id, line_key="ref:SEC-LINE-1", booked_on=now.date(),
                                   amount_vnd=5000, content="chuyen tien", bank_reference="SEC-LINE-1")
    db.session.add(statement_line)
    lapsed = assist.record_consent(farm_a, users["admin"], way="in_person", note="Nhờ cán bộ giúp.", days=30,
                                   now=now - timedelta(days=60))
    address_a = Address(user_id=users["buyer_a"].id, recipient_name="Trịnh Thị Mai", phone="0987654321",
                        province_code=24, commune_code=7399, street="Số 12, thôn Kép 2")
    db.session.add(address_a)
    db.session.add(CalendarFeed(farm_id=farm_a.id, token="security-matrix-calendar-feed"))
    resource_a = FarmResource(farm_id=farm_a.id, name="Xe điện", kind="vehicle", count=8)
    db.session.add(resource_a)
    db.session.add(WaitlistEntry(slot_id=slot_a.id, user_id=users["buyer_a"].id, name="Trịnh Thị Mai",
                                 phone="0987654321", adults=1, children=0, status="offered", offered_at=now,
                                 offer_expires_at=now + timedelta(days=365),
                                 offer_token_hash=hashlib.sha256(b"security-matrix-waitlist-offer").hexdigest()))
    db.session.commit()
    ticket_a = tickets_for_order(order_a)[0]
    farm_order_a = order_a.farm_orders[0]
    review_a = Review(subject=f"goods:{farm_order_a.id}", kind="goods", farm_order_id=farm_order_a.id,
                      farm_id=farm_a.id, user_id=users["buyer_a"].id, stars=4, text="Dứa ngọt.")
    db.session.add(review_a)
    certificate_a = Certificate(farm_id=farm_a.id, kind="vietgap", number="VG-01", issuer="Trung tâm chứng nhận",
                                expires_on=now.date() + timedelta(days=400), scan_large_key="ab/cert.webp",
                                scan_small_key="ab/cert-s.webp", scan_width=800, scan_height=600)
    db.session.add(certificate_a)
    batch_a = HarvestBatch(farm_id=farm_a.id, product_id=product_a.id, code="KEPNRT34", harvested_on=now.date(),
                           plot="Lô 1", quantity=100)
    db.session.add(batch_a)
    db.session.add(RainChoice(slot_id=slot_a.id, order_line_id=ticket_a.order_line_id, ticket_id=ticket_a.id,
                              token_hash=hashlib.sha256(b"security-matrix-rain-choice").hexdigest(),
                              amount_vnd=ticket_a.line.line_total_vnd))
    db.session.commit()
    # A file no row points to, for /media/: removing a photo in one test does not take it from another.
    media_key = storage.save(PHOTO_BYTES, "webp")
    objects = dict(farm_a=farm_a, farm_b=farm_b, pending_farm=pending_farm, product_a=product_a,
                   product_b=product_b, tour_a=tour_a, slot_a=slot_a, order_a=order_a, order_b=order_b,
                   farm_order_a=order_a.farm_orders[0], farm_order_b=order_b.farm_orders[0], ticket_a=ticket_a)
    params = dict(
        farm_a=farm_a.id, farm_a_slug=farm_a.slug, pending_farm=pending_farm.id, product_a=product_a.id,
        product_a_slug=product_a.slug, buyer_b=users["buyer_b"].id,
        photo_a=photo_a.id, tour_a=tour_a.id, tour_a_slug=tour_a.slug,
        tour_photo_a=tour_photo_a.id, slot_a=slot_a.id, order_a=order_a.public_id, order_a_key=order_a.secret,
        farm_order_a=order_a.farm_orders[0].id, farm_order_b=order_b.farm_orders[0].id, ticket_a=ticket_a.code,
        checkin_token=tickets.checkin_token(ticket_a), transfer=transfer.id, refund=refund.id,
        refund_token=refund.details_token, statement=statement.id, statement_line=statement_line.id,
        intent=card_payment.provider_ref, photo_key=media_key, consent_a=lapsed.id,
        reset_token=reset.make_token(users["buyer_a"], now=now), address_a=address_a.id,
        calendar_token="security-matrix-calendar-feed", waitlist_offer="security-matrix-waitlist-offer",
        visit_line_a=ticket_a.order_line_id, review_a=review_a.id, resource_a=resource_a.id,
        rain_choice="security-matrix-rain-choice", certificate_a=certificate_a.id,
        batch_a=batch_a.id,
        product_line_a=next(line.id for line in order_a.farm_orders[0].lines if line.product_id is not None))
    return World(users=users, objects=objects, params=params)


def sign_in(client, user, password: str = PASSWORD):
    """Log in through the real form (with the page's CSRF token when CSRF is on)."""
    data = {"email": user.email, "password": password}
    if client.application.config.get("WTF_CSRF_ENABLED"):
        data["csrf_token"] = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/", response.status_code
    return response


# -- snapshot and restore ----------------------------------------------------------------------------------------

def table_rows(name: str) -> list[dict]:
    table = db.metadata.tables[name]
    with db.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(table)).mappings()]


def snapshot() -> dict:
    with db.engine.connect() as conn:
        return {table.name: [dict(row) for row in conn.execute(select(table)).mappings()]
                for table in db.metadata.sorted_tables}


def restore(saved: dict) -> None:
    """Every table back to the snapshot (rows keep their ids; sequences only move forward)."""
    db.session.rollback()
    tables = db.metadata.sorted_tables
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if saved[table.name]:
                conn.execute(table.insert(), saved[table.name])
    db.session.expire_all()


@dataclass
class Shared:
    app: object
    world: World
    saved: dict
    dirty: bool = False
    _clients: dict = field(default_factory=dict)

    def clean(self) -> None:
        """Put the world back if a test may have changed it."""
        if self.dirty:
            restore(self.saved)
            self.dirty = False

    def client(self, role: str, fresh: bool = False):
        """A client logged in through the real form as ``role`` ("anonymous": not logged in). Kept for the
        module unless ``fresh`` (a test that posts may log its client out)."""
        if not fresh and role in self._clients:
            return self._clients[role]
        client = self.app.test_client()
        if role != "anonymous":
            sign_in(client, self.world.users[role])
        if not fresh:
            self._clients[role] = client
            # The sessions of the module's logged-in clients are part of the world that is put back.
            self.saved["sessions"] = table_rows("sessions")
        return client


# Card payments are off; a page that still asks Stripe (the card return page) reaches a closed local port, never
# the internet, and says card payment is unavailable.
OFFLINE = {"STRIPE_API_BASE": "http://127.0.0.1:9", "STRIPE_TIMEOUT_SECONDS": 2}


@pytest.fixture(scope="module")
def shared(request, _schema, instance_path):
    from app import create_app
    from tests.conftest import _Client, _empty_tables, _test_config

    previous = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = instance_path
    config = dict(OFFLINE, **getattr(request.module, "APP_CONFIG", {}))
    app = create_app(_test_config(_schema, instance_path, **config))
    app.test_client_class = _Client
    try:
        with app.app_context():
            world = build_world(app)
            yield Shared(app=app, world=world, saved=snapshot())
            db.session.remove()
            _empty_tables()
            db.engine.dispose()  # give the connections back now (PostgreSQL counts them)
    finally:
        if previous is None:
            os.environ.pop("INSTANCE_PATH", None)
        else:
            os.environ["INSTANCE_PATH"] = previous


@pytest.fixture
def fresh_world(shared):
    """The shared world, as built; marked to be put back after the test (which may change it)."""
    shared.clean()
    shared.dirty = True
    return shared


# -- security headers ------------------------------------------------------------------------------------------

def header_problems(response) -> list[str]:
    """What is missing from the security headers every response must carry (empty when all is well)."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    problems = []
    if not csp:
        problems.append("no Content-Security-Policy")
    if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        problems.append("CSP allows inline or eval'd code")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP without frame-ancestors 'none'")
    if directives.get("object-src") != ["'none'"]:
        problems.append("CSP without object-src 'none'")
    if "default-src" not in directives:
        problems.append("CSP without default-src")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") not in ("strict-origin-when-cross-origin", "no-referrer", "same-origin"):
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if headers.get("X-Frame-Options") != "DENY":
        problems.append("no X-Frame-Options: DENY")
    return problems


@pytest.fixture
def make_user(app):
    """The factory of tests/factories.py, with the cheap password hash (logging in stays fast)."""
    def make(*args, **kwargs):
        return factories.make_user(*args, **{"password_hash": FAST_HASH, **kwargs})
    return make
