"""payments and refunds name their provider and the provider's reference

Revision ID: c3f5a8e1d2b7
Revises: 5b1e7c2a9d40
Create Date: 2026-12-02 16:00:00.000000

``payments.method`` + ``stripe_payment_intent_id`` / ``bank_transaction_id`` become ``provider`` +
``provider_ref`` (UNIQUE together); ``refunds.method`` + ``stripe_refund_id`` likewise. The data is carried
over, both ways. Bank transfers get the payment they are part of (transfers add up: the one that completes an
order makes one payment of all its parts); a refund may give back a bank credit that no order is (its
``bank_transfer_id``, with no order); a refund made by hand carries the bank account its buyer gave through
a secret link, and staff's note.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c3f5a8e1d2b7'
down_revision = '5b1e7c2a9d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('provider', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('provider_ref', sa.String(length=255), nullable=True))
    op.execute("UPDATE payments SET provider = method, "
               "provider_ref = COALESCE(stripe_payment_intent_id, bank_transaction_id)")
    with op.batch_alter_table('payments') as batch:
        batch.alter_column('provider', existing_type=sa.String(length=20), nullable=False)
        batch.drop_constraint(op.f('uq_payments_bank_transaction_id'), type_='unique')
        batch.drop_constraint(op.f('uq_payments_stripe_payment_intent_id'), type_='unique')
        batch.drop_constraint(op.f('ck_payments_method'), type_='check')
        batch.drop_column('method')
        batch.drop_column('stripe_payment_intent_id')
        batch.drop_column('bank_transaction_id')
        batch.create_unique_constraint(op.f('uq_payments_provider_ref'), ['provider', 'provider_ref'])

    with op.batch_alter_table('refunds') as batch:
        batch.add_column(sa.Column('provider', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('provider_ref', sa.String(length=255), nullable=True))
    op.execute("UPDATE refunds SET provider = method, provider_ref = stripe_refund_id")
    with op.batch_alter_table('refunds') as batch:
        batch.alter_column('provider', existing_type=sa.String(length=20), nullable=False)
        batch.drop_constraint(op.f('uq_refunds_stripe_refund_id'), type_='unique')
        batch.drop_column('method')
        batch.drop_column('stripe_refund_id')
        batch.create_unique_constraint(op.f('uq_refunds_provider_ref'), ['provider', 'provider_ref'])

    with op.batch_alter_table('bank_transfers') as batch:
        batch.add_column(sa.Column('payment_id', sa.Integer(), nullable=True))
        batch.create_index(op.f('ix_bank_transfers_payment_id'), ['payment_id'], unique=False)
        batch.create_foreign_key(op.f('fk_bank_transfers_payment_id_payments'), 'payments', ['payment_id'], ['id'])

    with op.batch_alter_table('refunds') as batch:
        batch.alter_column('order_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('bank_transfer_id', sa.Integer(), nullable=True))
        batch.create_index(op.f('ix_refunds_bank_transfer_id'), ['bank_transfer_id'], unique=False)
        batch.create_foreign_key(op.f('fk_refunds_bank_transfer_id_bank_transfers'), 'bank_transfers',
                                 ['bank_transfer_id'], ['id'])
        batch.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('details_token', sa.String(length=43), nullable=True))
        batch.add_column(sa.Column('buyer_bank_bin', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('buyer_account_number', sa.String(length=19), nullable=True))
        batch.add_column(sa.Column('buyer_account_name', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('details_given_at', sa.DateTime(), nullable=True))
        batch.create_unique_constraint(op.f('uq_refunds_details_token'), ['details_token'])


def downgrade():
    op.execute("DELETE FROM refunds WHERE order_id IS NULL")  # credits that no order was: not in the old schema
    with op.batch_alter_table('refunds') as batch:
        batch.drop_constraint(op.f('uq_refunds_details_token'), type_='unique')
        for column in ('details_given_at', 'buyer_account_name', 'buyer_account_number', 'buyer_bank_bin',
                       'details_token', 'note'):
            batch.drop_column(column)
        batch.drop_constraint(op.f('fk_refunds_bank_transfer_id_bank_transfers'), type_='foreignkey')
        batch.drop_index(op.f('ix_refunds_bank_transfer_id'))
        batch.drop_column('bank_transfer_id')
        batch.alter_column('order_id', existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table('bank_transfers') as batch:
        batch.drop_constraint(op.f('fk_bank_transfers_payment_id_payments'), type_='foreignkey')
        batch.drop_index(op.f('ix_bank_transfers_payment_id'))
        batch.drop_column('payment_id')

    with op.batch_alter_table('refunds') as batch:
        batch.add_column(sa.Column('method', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('stripe_refund_id', sa.String(length=255), nullable=True))
    op.execute("UPDATE refunds SET method = provider, "
               "stripe_refund_id = CASE WHEN provider = 'card' THEN provider_ref END")
    with op.batch_alter_table('refunds') as batch:
        batch.drop_constraint(op.f('uq_refunds_provider_ref'), type_='unique')
        batch.alter_column('method', existing_type=sa.String(length=10), nullable=False)
        batch.drop_column('provider_ref')
        batch.drop_column('provider')
        batch.create_unique_constraint(op.f('uq_refunds_stripe_refund_id'), ['stripe_refund_id'])

    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('method', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('bank_transaction_id', sa.String(length=100), nullable=True))
    op.execute("UPDATE payments SET method = provider, "
               "stripe_payment_intent_id = CASE WHEN provider = 'card' THEN provider_ref END, "
               "bank_transaction_id = CASE WHEN provider = 'vietqr' THEN provider_ref END")
    with op.batch_alter_table('payments') as batch:
        batch.drop_constraint(op.f('uq_payments_provider_ref'), type_='unique')
        batch.alter_column('method', existing_type=sa.String(length=10), nullable=False)
        batch.drop_column('provider_ref')
        batch.drop_column('provider')
        batch.create_unique_constraint(op.f('uq_payments_stripe_payment_intent_id'), ['stripe_payment_intent_id'])
        batch.create_unique_constraint(op.f('uq_payments_bank_transaction_id'), ['bank_transaction_id'])
        batch.create_check_constraint(op.f('ck_payments_method'), "method IN ('vietqr', 'card')")
