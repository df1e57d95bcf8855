"""payOS payment links, and payOS as a source of bank notifications

Revision ID: f4a9c2e6b8d1
Revises: a4c1e9b7d2f5
Create Date: 2026-12-10 10:00:00.000000

A new table ``payos_links`` (one row per payOS payment request: payOS refuses a reused orderCode, so each attempt
has its own), and "payos" added to the CHECK of ``bank_notifications.source``. The downgrade drops the table and
puts the CHECK back (refused while payOS notifications are stored: delete them first).
"""
import sqlalchemy as sa
from alembic import op

revision = 'f4a9c2e6b8d1'
down_revision = 'a4c1e9b7d2f5'
branch_labels = None
depends_on = None

OLD_SOURCES = "source IN ('sepay', 'casso', 'generic')"
NEW_SOURCES = "source IN ('sepay', 'casso', 'generic', 'payos')"


def upgrade():
    op.create_table('payos_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_code', sa.BigInteger(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('payment_link_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=50), nullable=False),
    sa.Column('qr_code', sa.Text(), nullable=False),
    sa.Column('checkout_url', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_payos_links_amount_vnd')),
    sa.CheckConstraint('attempt BETWEEN 1 AND 999', name=op.f('ck_payos_links_attempt')),
    sa.CheckConstraint("status IN ('PENDING', 'UNDERPAID', 'PROCESSING', 'PAID', 'CANCELLED', 'EXPIRED', "
                       "'FAILED')", name=op.f('ck_payos_links_status')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payos_links_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payos_links')),
    sa.UniqueConstraint('order_code', name=op.f('uq_payos_links_order_code')),
    sa.UniqueConstraint('payment_link_id', name=op.f('uq_payos_links_payment_link_id'))
    )
    with op.batch_alter_table('payos_links') as batch:
        batch.create_index(batch.f('ix_payos_links_order_id'), ['order_id'], unique=False)
        batch.create_index(batch.f('ix_payos_links_status'), ['status'], unique=False)
    with op.batch_alter_table('bank_notifications') as batch:
        batch.drop_constraint(op.f('ck_bank_notifications_source'), type_='check')
        batch.create_check_constraint(op.f('ck_bank_notifications_source'), NEW_SOURCES)


def downgrade():
    with op.batch_alter_table('bank_notifications') as batch:
        batch.drop_constraint(op.f('ck_bank_notifications_source'), type_='check')
        batch.create_check_constraint(op.f('ck_bank_notifications_source'), OLD_SOURCES)
    with op.batch_alter_table('payos_links') as batch:
        batch.drop_index(batch.f('ix_payos_links_status'))
        batch.drop_index(batch.f('ix_payos_links_order_id'))
    op.drop_table('payos_links')
