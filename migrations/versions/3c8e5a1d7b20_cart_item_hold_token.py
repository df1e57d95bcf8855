"""cart_items.hold_token: a logged-in visitor's cart keeps the waiting-list offer it books

Revision ID: 3c8e5a1d7b20
Revises: 2fd872b7d0fd
Create Date: 2026-12-03 11:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = "3c8e5a1d7b20"
down_revision = "2fd872b7d0fd"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cart_items") as batch_op:
        batch_op.add_column(sa.Column("hold_token", sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table("cart_items") as batch_op:
        batch_op.drop_column("hold_token")
