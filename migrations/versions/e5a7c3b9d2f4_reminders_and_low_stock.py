"""tour_tickets.reminded_at (the visit reminder of the day before) and products.low_stock_warned_at

Revision ID: e5a7c3b9d2f4
Revises: c30f2953eac1
Create Date: 2026-12-03 07:05:00

"""
import sqlalchemy as sa
from alembic import op

revision = "e5a7c3b9d2f4"
down_revision = "c30f2953eac1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tour_tickets") as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("low_stock_warned_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("low_stock_warned_at")
    with op.batch_alter_table("tour_tickets") as batch_op:
        batch_op.drop_column("reminded_at")
