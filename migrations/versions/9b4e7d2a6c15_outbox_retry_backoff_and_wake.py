"""notifications.next_attempt_at (retry backoff) and, on PostgreSQL, a trigger that wakes the worker

Revision ID: 9b4e7d2a6c15
Revises: c2e8a4f6b1d3
Create Date: 2026-12-03 06:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "9b4e7d2a6c15"
down_revision = "c2e8a4f6b1d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # One pg_notify per inserting statement; PostgreSQL delivers it when the transaction commits (never on
        # a rollback), and folds repeats within one transaction into one (core/worker.py listens).
        op.execute("""
            CREATE FUNCTION kep_outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('kep_outbox', ''); RETURN NULL; END $$""")
        op.execute("""
            CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
            FOR EACH STATEMENT EXECUTE FUNCTION kep_outbox_wake()""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS notifications_wake ON notifications")
        op.execute("DROP FUNCTION IF EXISTS kep_outbox_wake()")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("next_attempt_at")
