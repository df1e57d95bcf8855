"""users.phone_verified_at: when a one-time code proved the phone number is the account holder's

Revision ID: c2e8a4f6b1d3
Revises: b8d3f1a6c4e2
Create Date: 2026-12-02 23:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'c2e8a4f6b1d3'
down_revision = 'b8d3f1a6c4e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_verified_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_verified_at')
