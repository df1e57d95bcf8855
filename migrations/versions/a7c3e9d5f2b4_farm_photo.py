"""farms.photo_*: the farm's picture (the farmer, the hill), processed like product photos (two WebP sizes)

Revision ID: a7c3e9d5f2b4
Revises: d7a3c5e9f2b4
Create Date: 2026-12-03 06:45:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9d5f2b4'
down_revision = 'd7a3c5e9f2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('farms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_large_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('photo_small_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('photo_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('photo_height', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('farms', schema=None) as batch_op:
        batch_op.drop_column('photo_height')
        batch_op.drop_column('photo_width')
        batch_op.drop_column('photo_small_key')
        batch_op.drop_column('photo_large_key')
