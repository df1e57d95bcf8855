"""messages: retry backoff, a trigger that wakes the worker (PostgreSQL), Zalo and SMS, and people's choices

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
        batch_op.add_column(sa.Column("fallback_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider_message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notifications_provider_message_id"), ["provider_message_id"])
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("message_channels", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("muted_topics", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("marketing_consent_at", sa.DateTime(), nullable=True))
    op.create_table(
        "zalo_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zalo_tokens")),
    )
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
    op.drop_table("zalo_tokens")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("marketing_consent_at")
        batch_op.drop_column("muted_topics")
        batch_op.drop_column("message_channels")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_provider_message_id"))
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("provider_message_id")
        batch_op.drop_column("fallback_body")
        batch_op.drop_column("next_attempt_at")
