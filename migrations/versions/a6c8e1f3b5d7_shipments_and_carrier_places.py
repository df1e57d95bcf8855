"""Shipments: farm orders' parcels booked with a carrier (GHN), and our communes in the carrier's address codes

Revision ID: a6c8e1f3b5d7
Revises: 5ab3e1c7d902
Create Date: 2026-12-03 07:15:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'a6c8e1f3b5d7'
down_revision = '5ab3e1c7d902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shipments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('farm_order_id', sa.Integer(), nullable=False),
        sa.Column('carrier', sa.String(length=20), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=40), nullable=False),
        sa.Column('expected_delivery_at', sa.DateTime(), nullable=True),
        sa.Column('shipped_notified_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['farm_order_id'], ['farm_orders.id'],
                                name=op.f('fk_shipments_farm_order_id_farm_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
        sa.UniqueConstraint('carrier', 'code', name='uq_shipments_carrier_code'),
        sa.UniqueConstraint('farm_order_id', name=op.f('uq_shipments_farm_order_id')))
    op.create_table(
        'carrier_places',
        sa.Column('carrier', sa.String(length=20), nullable=False),
        sa.Column('commune_code', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('province_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('ward_code', sa.String(length=20), nullable=False),
        sa.Column('ward_name', sa.String(length=120), nullable=False),
        sa.Column('fetched_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('carrier', 'commune_code', name=op.f('pk_carrier_places')))


def downgrade():
    op.drop_table('carrier_places')
    op.drop_table('shipments')
