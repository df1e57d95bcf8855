"""order caps and unpaid order limits

A product's most per order and a tour's largest group per booking (NULL: the market's default), and what
the limits on unpaid orders count: a keyed hash of the client address and of the browser session.

Revision ID: a4c81e0b7d26
Revises: 2f94663d8519
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c81e0b7d26'
down_revision = '2f94663d8519'
branch_labels = None
depends_on = None


MAX_ORDER_QTY = 'max_order_qty IS NULL OR (max_order_qty >= min_order_qty AND max_order_qty <= 10000)'
MAX_PARTY = 'max_party IS NULL OR (max_party >= 1 AND max_party <= 50)'


def _add_checked_column(table, column, check):
    """A new nullable INTEGER column with its named CHECK constraint.

    SQLite cannot add a constraint to a table (batch mode would rebuild it, and dropping the old table would
    cascade to product photos), but it takes a column CHECK inside ADD COLUMN; PostgreSQL gets a table CHECK.
    """
    name = f'ck_{table}_{column}'
    if op.get_context().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} CHECK ({check})')
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_check_constraint(op.f(name), table, check)


def _drop_checked_column(table, column):
    if op.get_context().dialect.name != 'sqlite':
        op.drop_constraint(op.f(f'ck_{table}_{column}'), table, type_='check')
    op.drop_column(table, column)


def upgrade():
    _add_checked_column('products', 'max_order_qty', MAX_ORDER_QTY)
    _add_checked_column('tours', 'max_party', MAX_PARTY)
    op.add_column('orders', sa.Column('placed_from', sa.String(length=32), nullable=True))
    op.add_column('orders', sa.Column('placed_session', sa.String(length=32), nullable=True))
    op.create_index('ix_orders_buyer_phone_status', 'orders', ['buyer_phone', 'status'], unique=False)
    op.create_index('ix_orders_placed_from_status', 'orders', ['placed_from', 'status'], unique=False)
    op.create_index('ix_orders_placed_session_status', 'orders', ['placed_session', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_orders_placed_session_status', table_name='orders')
    op.drop_index('ix_orders_placed_from_status', table_name='orders')
    op.drop_index('ix_orders_buyer_phone_status', table_name='orders')
    op.drop_column('orders', 'placed_session')
    op.drop_column('orders', 'placed_from')
    _drop_checked_column('tours', 'max_party')
    _drop_checked_column('products', 'max_order_qty')
