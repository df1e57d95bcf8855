"""Harvest batches (trace labels) and the batch each order line came from

Revision ID: 9c4d2b7e5a18
Revises: 8a2c4e6f1b39
Create Date: 2026-12-03 13:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "9c4d2b7e5a18"
down_revision = "8a2c4e6f1b39"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "harvest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farm_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("harvested_on", sa.Date(), nullable=False),
        sa.Column("plot", sa.String(length=120), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("vietgap_number", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_harvest_batches_quantity")),
        sa.ForeignKeyConstraint(["farm_id"], ["farms.id"], name=op.f("fk_harvest_batches_farm_id_farms")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_harvest_batches_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_batches")),
        sa.UniqueConstraint("code", name=op.f("uq_harvest_batches_code")),
    )
    with op.batch_alter_table("harvest_batches") as batch_op:
        batch_op.create_index(batch_op.f("ix_harvest_batches_farm_id"), ["farm_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_harvest_batches_product_id"), ["product_id"], unique=False)
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_order_lines_batch_id"), ["batch_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_order_lines_batch_id_harvest_batches"), "harvest_batches",
                                    ["batch_id"], ["id"])


def downgrade():
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_order_lines_batch_id_harvest_batches"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_order_lines_batch_id"))
        batch_op.drop_column("batch_id")
    op.drop_table("harvest_batches")
