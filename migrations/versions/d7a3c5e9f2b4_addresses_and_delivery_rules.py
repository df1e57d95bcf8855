"""Addresses and delivery rules: saved addresses, each farm's local delivery and parcel table, products'
shipping weight and local-only flag, and the delivery address and promise kept on orders

Revision ID: d7a3c5e9f2b4
Revises: e5a7c3b9d2f4
Create Date: 2026-12-03 06:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'd7a3c5e9f2b4'
down_revision = 'e5a7c3b9d2f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('recipient_name', sa.String(length=120), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('province_code', sa.Integer(), nullable=False),
        sa.Column('commune_code', sa.Integer(), nullable=False),
        sa.Column('street', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_addresses_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses')))
    op.create_index(op.f('ix_addresses_user_id'), 'addresses', ['user_id'], unique=False)
    op.create_table(
        'parcel_rates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('farm_id', sa.Integer(), nullable=False),
        sa.Column('region', sa.String(length=10), nullable=False),
        sa.Column('fee_1kg_vnd', sa.BigInteger(), nullable=False),
        sa.Column('fee_3kg_vnd', sa.BigInteger(), nullable=False),
        sa.Column('fee_5kg_vnd', sa.BigInteger(), nullable=False),
        sa.Column('fee_10kg_vnd', sa.BigInteger(), nullable=False),
        sa.Column('fee_20kg_vnd', sa.BigInteger(), nullable=False),
        sa.Column('per_kg_above_vnd', sa.BigInteger(), nullable=False),
        sa.Column('days_min', sa.SmallInteger(), nullable=False),
        sa.Column('days_max', sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("region IN ('bac_ninh', 'north', 'centre', 'south')", name=op.f('ck_parcel_rates_region')),
        sa.CheckConstraint('fee_1kg_vnd >= 0 AND fee_3kg_vnd >= 0 AND fee_5kg_vnd >= 0 AND fee_10kg_vnd >= 0 '
                           'AND fee_20kg_vnd >= 0 AND per_kg_above_vnd >= 0', name=op.f('ck_parcel_rates_fees')),
        sa.CheckConstraint('days_min >= 0 AND days_max >= days_min', name=op.f('ck_parcel_rates_days')),
        sa.ForeignKeyConstraint(['farm_id'], ['farms.id'], name=op.f('fk_parcel_rates_farm_id_farms'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parcel_rates')),
        sa.UniqueConstraint('farm_id', 'region', name='uq_parcel_rates_farm_region'))
    op.create_index(op.f('ix_parcel_rates_farm_id'), 'parcel_rates', ['farm_id'], unique=False)

    with op.batch_alter_table('farms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_commune_codes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('local_days_min', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('local_days_max', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('ships_parcels', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(op.f('ck_farms_local_days'),
                                         'local_days_min >= 0 AND local_days_max >= local_days_min')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_weight_g', sa.Integer(), server_default='1000', nullable=False))
        batch_op.add_column(sa.Column('local_only', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(op.f('ck_products_shipping_weight_g'),
                                         'shipping_weight_g >= 0 AND shipping_weight_g <= 100000')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ship_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('ship_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('ship_street', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ship_commune_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ship_commune', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('ship_province_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ship_province', sa.String(length=120), nullable=True))
    with op.batch_alter_table('farm_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_method', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('delivery_days_min', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('delivery_days_max', sa.SmallInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('farm_orders', schema=None) as batch_op:
        batch_op.drop_column('delivery_days_max')
        batch_op.drop_column('delivery_days_min')
        batch_op.drop_column('delivery_method')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for column in ('ship_province', 'ship_province_code', 'ship_commune', 'ship_commune_code', 'ship_street',
                       'ship_phone', 'ship_name'):
            batch_op.drop_column(column)
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_products_shipping_weight_g'), type_='check')
        batch_op.drop_column('local_only')
        batch_op.drop_column('shipping_weight_g')
    with op.batch_alter_table('farms', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_farms_local_days'), type_='check')
        batch_op.drop_column('ships_parcels')
        batch_op.drop_column('local_days_max')
        batch_op.drop_column('local_days_min')
        batch_op.drop_column('local_commune_codes')
    op.drop_index(op.f('ix_parcel_rates_farm_id'), table_name='parcel_rates')
    op.drop_table('parcel_rates')
    op.drop_index(op.f('ix_addresses_user_id'), table_name='addresses')
    op.drop_table('addresses')
