"""The migration to provider + provider_ref keeps every payment's and refund's reference, both ways."""
from __future__ import annotations

import os

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from core.extensions import db
from tests.conftest import _test_config

BEFORE = "5b1e7c2a9d40"
OLD_ROWS = [
    "INSERT INTO payments (id, order_id, method, amount_vnd, refunded_vnd, status, stripe_payment_intent_id, "
    "bank_transaction_id, created_at) VALUES (1, 7, 'vietqr', 56000, 6000, 'succeeded', NULL, 'FT26001', "
    "'2026-06-01 10:00:00'), (2, 8, 'card', 90000, 90000, 'succeeded', 'pi_abc', NULL, '2026-06-01 10:00:00')",
    "INSERT INTO refunds (id, order_id, payment_id, amount_vnd, method, reason, status, stripe_refund_id, "
    "bank_reference, created_at) VALUES (1, 7, 1, 6000, 'vietqr', 'overpaid', 'done', NULL, 'FT-BACK', "
    "'2026-06-01 10:00:00'), (2, 8, 2, 90000, 'card', 'cancelled', 'done', 're_xyz', NULL, '2026-06-01 10:00:00')",
]


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own (the tests' shared one stays at the newest revision)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    base = make_url(url).set(drivername="postgresql+psycopg")
    name = f"{base.database}_migration_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_references_survive_the_migration_and_its_downgrade(empty_database, tmp_path):
    app = create_app(_test_config(empty_database, str(tmp_path)))
    with app.app_context():
        upgrade(revision=BEFORE)
        # Rows without their orders: foreign keys off for this one connection (SQLite's pragma only takes effect
        # outside a transaction, so on the driver's own connection, which runs each statement on its own).
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            postgres = db.engine.dialect.name == "postgresql"
            cursor.execute("SET session_replication_role = replica" if postgres else "PRAGMA foreign_keys=OFF")
            for statement in OLD_ROWS:
                cursor.execute(statement)
            raw.commit()
        finally:
            raw.close()

        upgrade()
        assert _rows("SELECT id, provider, provider_ref, amount_vnd, refunded_vnd FROM payments ORDER BY id") == [
            (1, "vietqr", "FT26001", 56000, 6000), (2, "card", "pi_abc", 90000, 90000)]
        assert _rows("SELECT id, provider, provider_ref, bank_reference FROM refunds ORDER BY id") == [
            (1, "vietqr", None, "FT-BACK"), (2, "card", "re_xyz", None)]

        downgrade(revision=BEFORE)
        assert _rows("SELECT id, method, stripe_payment_intent_id, bank_transaction_id FROM payments "
                     "ORDER BY id") == [(1, "vietqr", None, "FT26001"), (2, "card", "pi_abc", None)]
        assert _rows("SELECT id, method, stripe_refund_id, bank_reference FROM refunds ORDER BY id") == [
            (1, "vietqr", None, "FT-BACK"), (2, "card", "re_xyz", None)]
        db.engine.dispose()
