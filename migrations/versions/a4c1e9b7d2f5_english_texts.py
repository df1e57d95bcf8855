"""products and tours: an optional English name/title and description

Revision ID: a4c1e9b7d2f5
Revises: e7b2d4c9a1f3
Create Date: 2026-12-02 19:40:00.000000

Four new columns, empty for what exists (the Vietnamese text is shown until the farm writes an English one);
the downgrade drops them.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4c1e9b7d2f5'
down_revision = 'e7b2d4c9a1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('products') as batch:
        batch.add_column(sa.Column('name_en', sa.String(length=120), server_default='', nullable=False))
        batch.add_column(sa.Column('description_en', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('tours') as batch:
        batch.add_column(sa.Column('title_en', sa.String(length=120), server_default='', nullable=False))
        batch.add_column(sa.Column('description_en', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('tours') as batch:
        batch.drop_column('description_en')
        batch.drop_column('title_en')
    with op.batch_alter_table('products') as batch:
        batch.drop_column('description_en')
        batch.drop_column('name_en')
