"""phone-first accounts: optional e-mail (required for staff), verified phone numbers unique, one-time codes

Revision ID: c30f2953eac1
Revises: 9b4e7d2a6c15
Create Date: 2026-12-03 06:18:46.645494

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c30f2953eac1'
down_revision = '9b4e7d2a6c15'
branch_labels = None
depends_on = None

# The unique index covers verified numbers only (a partial index on both databases).
VERIFIED_ONLY = {'sqlite_where': sa.text('phone_verified_at IS NOT NULL'),
                 'postgresql_where': sa.text('phone_verified_at IS NOT NULL')}


def upgrade():
    op.create_table('one_time_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_key', sa.String(length=32), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("purpose IN ('verify_phone', 'login', 'reset')", name=op.f('ck_one_time_codes_purpose')),
    sa.CheckConstraint('tries >= 0', name=op.f('ck_one_time_codes_tries')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_one_time_codes_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes'))
    )
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.create_index('ix_one_time_codes_client_created', ['client_key', 'created_at'], unique=False)
        batch_op.create_index('ix_one_time_codes_phone_created', ['phone', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_one_time_codes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=True)
        batch_op.create_check_constraint(op.f('ck_users_staff_email'), "role <> 'admin' OR email IS NOT NULL")
        batch_op.create_index('uq_users_verified_phone', ['phone'], unique=True, **VERIFIED_ONLY)



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_verified_phone', **VERIFIED_ONLY)
        batch_op.drop_constraint(op.f('ck_users_staff_email'), type_='check')
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=False)

    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_one_time_codes_user_id'))
        batch_op.drop_index('ix_one_time_codes_phone_created')
        batch_op.drop_index('ix_one_time_codes_client_created')

    op.drop_table('one_time_codes')
