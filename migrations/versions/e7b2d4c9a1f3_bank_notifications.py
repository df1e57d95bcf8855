"""bank notifications, stored raw before they are processed

Revision ID: e7b2d4c9a1f3
Revises: c3f5a8e1d2b7
Create Date: 2026-12-09 10:00:00.000000

One row per notification from a bank-notification service (SePay, Casso, the generic signed webhook), stored as
it came and committed before it is processed; UNIQUE(source, source_id) keeps a retried notification once. A new
table: nothing to carry over, and the downgrade drops it.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7b2d4c9a1f3'
down_revision = 'c3f5a8e1d2b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('headers', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('bank_transfer_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("source IN ('sepay', 'casso', 'generic')", name=op.f('ck_bank_notifications_source')),
    sa.CheckConstraint("status IN ('received', 'processed', 'unmatched', 'ignored', 'flagged', 'failed')",
                       name=op.f('ck_bank_notifications_status')),
    sa.ForeignKeyConstraint(['bank_transfer_id'], ['bank_transfers.id'],
                            name=op.f('fk_bank_notifications_bank_transfer_id_bank_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_notifications')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_bank_notifications_source_id'))
    )
    with op.batch_alter_table('bank_notifications') as batch:
        batch.create_index(batch.f('ix_bank_notifications_status'), ['status'], unique=False)
        batch.create_index(batch.f('ix_bank_notifications_bank_transfer_id'), ['bank_transfer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bank_notifications') as batch:
        batch.drop_index(batch.f('ix_bank_notifications_bank_transfer_id'))
        batch.drop_index(batch.f('ix_bank_notifications_status'))
    op.drop_table('bank_notifications')
