"""share kits: farms' referral codes, farm orders from a farm's share, share visits per farm and day

Revision ID: 5ab3e1c7d902
Revises: a7c3e9d5f2b4
Create Date: 2026-12-03 07:20:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "5ab3e1c7d902"
down_revision = 'a7c3e9d5f2b4'
branch_labels = None
depends_on = None

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # accounts.farms.REFERRAL_ALPHABET when this was written


def upgrade():
    with op.batch_alter_table("farms") as batch_op:
        batch_op.add_column(sa.Column("referral_code", sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_farms_referral_code"), ["referral_code"])
    farms = sa.table("farms", sa.column("id", sa.Integer()), sa.column("referral_code", sa.String()))
    connection = op.get_bind()
    used = set()
    for (farm_id,) in connection.execute(sa.select(farms.c.id)).all():
        code = ""
        while not code or code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        used.add(code)
        connection.execute(farms.update().where(farms.c.id == farm_id).values(referral_code=code))
    with op.batch_alter_table("farm_orders") as batch_op:
        batch_op.add_column(sa.Column("from_share", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "share_visits",
        sa.Column("farm_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["farm_id"], ["farms.id"], name=op.f("fk_share_visits_farm_id_farms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("farm_id", "day", name="pk_share_visits"),
    )


def downgrade():
    op.drop_table("share_visits")
    with op.batch_alter_table("farm_orders") as batch_op:
        batch_op.drop_column("from_share")
    with op.batch_alter_table("farms") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_farms_referral_code"), type_="unique")
        batch_op.drop_column("referral_code")
