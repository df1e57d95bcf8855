"""Check-ins made on a phone without signal, once each by the phone's event id

Revision ID: b3e9f1c7a264
Revises: 9c4d2b7e5a18
Create Date: 2026-12-04 20:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b3e9f1c7a264"
down_revision = "9c4d2b7e5a18"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tour_offline_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farm_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.CheckConstraint("result IN ('ok', 'already', 'refused')", name=op.f("ck_tour_offline_checkins_result")),
        sa.ForeignKeyConstraint(["farm_id"], ["farms.id"], name=op.f("fk_tour_offline_checkins_farm_id_farms")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tour_offline_checkins_user_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tour_tickets.id"],
                                name=op.f("fk_tour_offline_checkins_ticket_id_tour_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tour_offline_checkins")),
        sa.UniqueConstraint("farm_id", "event_id", name=op.f("uq_tour_offline_checkins_farm_id")),
    )
    with op.batch_alter_table("tour_offline_checkins") as batch_op:
        batch_op.create_index(batch_op.f("ix_tour_offline_checkins_ticket_id"), ["ticket_id"], unique=False)


def downgrade():
    op.drop_table("tour_offline_checkins")
