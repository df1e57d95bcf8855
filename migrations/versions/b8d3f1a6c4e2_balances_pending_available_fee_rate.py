"""pending and available balances: the fee rate on ledger entries, indexes for the pending sums

Revision ID: b8d3f1a6c4e2
Revises: b8d3f1a6c2e4
Create Date: 2026-12-02 19:10:00.000000

ledger_entries.fee_bp keeps the platform fee rate a sale was charged (entries written before stay NULL: their
rate was not kept, and guessing it from rounded amounts would be wrong). Two indexes serve shop/balances.py:
a farm's open farm orders, and their ledger entries read from the index alone.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d3f1a6c4e2'
down_revision = 'b8d3f1a6c2e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_bp', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ledger_entries_farm_order', ['farm_order_id', 'order_line_id', 'amount_vnd'],
                              unique=False)
    with op.batch_alter_table('farm_orders', schema=None) as batch_op:
        batch_op.create_index('ix_farm_orders_farm_status', ['farm_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('farm_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_farm_orders_farm_status')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_farm_order')
        batch_op.drop_column('fee_bp')
