"""Rain: the visitor's choice after the farm moved or cancelled a visit, and visit credit of buyer accounts
(spent at checkout: the "credit" payment method)

Revision ID: 7d4e1a9c3b52
Revises: 58ec26ec3a10
Create Date: 2026-12-03 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7d4e1a9c3b52'
down_revision = '58ec26ec3a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_payment_method'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_orders_payment_method'),
                                         "payment_method IN ('vietqr', 'card', 'credit')")
    op.create_table('credit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('remaining_vnd', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_credit_entries_amount')),
    sa.CheckConstraint('remaining_vnd >= 0 AND remaining_vnd <= amount_vnd', name=op.f('ck_credit_entries_remaining')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_credit_entries_order_id_orders')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'],
                            name=op.f('fk_credit_entries_order_line_id_order_lines')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_credit_entries_refund_id_refunds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_credit_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_entries')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_credit_entries_order_line_id')),
    sa.UniqueConstraint('refund_id', name=op.f('uq_credit_entries_refund_id'))
    )
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_entries_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_entries_user_id'), ['user_id'], unique=False)

    op.create_table('tour_rain_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('to_slot_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('waiting', 'moved', 'credited', 'refunded')",
                       name=op.f('ck_tour_rain_choices_status')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'],
                            name=op.f('fk_tour_rain_choices_order_line_id_order_lines')),
    sa.ForeignKeyConstraint(['slot_id'], ['tour_slots.id'], name=op.f('fk_tour_rain_choices_slot_id_tour_slots')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tour_tickets.id'],
                            name=op.f('fk_tour_rain_choices_ticket_id_tour_tickets')),
    sa.ForeignKeyConstraint(['to_slot_id'], ['tour_slots.id'],
                            name=op.f('fk_tour_rain_choices_to_slot_id_tour_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tour_rain_choices')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_tour_rain_choices_order_line_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_tour_rain_choices_token_hash'))
    )
    with op.batch_alter_table('tour_rain_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tour_rain_choices_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tour_rain_choices_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('tour_rain_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tour_rain_choices_status'))
        batch_op.drop_index(batch_op.f('ix_tour_rain_choices_slot_id'))
    op.drop_table('tour_rain_choices')
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entries_expires_at'))
    op.drop_table('credit_entries')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_payment_method'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_orders_payment_method'), "payment_method IN ('vietqr', 'card')")
