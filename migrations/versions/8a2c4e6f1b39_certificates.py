"""VietGAP and OCOP certificates checked by commune staff

Revision ID: 8a2c4e6f1b39
Revises: 7d4e1a9c3b52
Create Date: 2026-12-03 13:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = "8a2c4e6f1b39"
down_revision = "7d4e1a9c3b52"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farm_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issuer", sa.String(length=120), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("scan_large_key", sa.String(length=200), nullable=False),
        sa.Column("scan_small_key", sa.String(length=200), nullable=False),
        sa.Column("scan_width", sa.Integer(), nullable=False),
        sa.Column("scan_height", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("reminded_30_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_7_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('vietgap', 'ocop')", name=op.f("ck_certificates_kind")),
        sa.CheckConstraint("status IN ('submitted', 'verified', 'rejected')", name=op.f("ck_certificates_status")),
        sa.CheckConstraint("(kind = 'ocop') = (stars IS NOT NULL)", name=op.f("ck_certificates_ocop_stars")),
        sa.CheckConstraint("stars IS NULL OR stars BETWEEN 3 AND 5", name=op.f("ck_certificates_stars")),
        sa.ForeignKeyConstraint(["farm_id"], ["farms.id"], name=op.f("fk_certificates_farm_id_farms")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_certificates_product_id_products")),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"], name=op.f("fk_certificates_reviewed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
    )
    with op.batch_alter_table("certificates") as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_farm_id"), ["farm_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_status"), ["status"], unique=False)


def downgrade():
    op.drop_table("certificates")
