"""split bank credits into parts; imported bank statements

Revision ID: b8d3f1a6c2e4
Revises: f4a9c2e6b8d1
Create Date: 2026-12-02 19:00:00.000000

``bank_transfers.parent_id``: a part of a split credit points to the credit (the credit keeps its row and its
amount); the status CHECK takes "split". Two new tables for the statements staff import: ``statement_imports``
(one row per file, UNIQUE digest) and ``statement_lines`` (one per credit line, UNIQUE line_key). The downgrade
drops the tables and the column; it refuses while a part or a "split" credit exists (their money would lose its
meaning).
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d3f1a6c2e4'
down_revision = 'f4a9c2e6b8d1'
branch_labels = None
depends_on = None

OLD = "status IN ('matched', 'underpaid', 'overpaid', 'unmatched', 'late', 'resolved')"
NEW = "status IN ('matched', 'underpaid', 'overpaid', 'unmatched', 'late', 'resolved', 'split')"


def upgrade():
    with op.batch_alter_table('bank_transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_bank_transfers_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_bank_transfers_parent_id_bank_transfers'), 'bank_transfers',
                                    ['parent_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_bank_transfers_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_bank_transfers_status'), NEW)

    op.create_table('statement_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('layout', sa.String(length=20), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('credits >= 0 AND skipped >= 0', name=op.f('ck_statement_imports_counts')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_statement_imports_imported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_imports')),
    sa.UniqueConstraint('digest', name=op.f('uq_statement_imports_digest'))
    )
    op.create_table('statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line_key', sa.String(length=160), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('booked_at', sa.DateTime(), nullable=True),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('bank_transfer_id', sa.Integer(), nullable=True),
    sa.Column('matched_by', sa.String(length=10), nullable=True),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_statement_lines_amount_vnd')),
    sa.ForeignKeyConstraint(['bank_transfer_id'], ['bank_transfers.id'],
                            name=op.f('fk_statement_lines_bank_transfer_id_bank_transfers')),
    sa.ForeignKeyConstraint(['import_id'], ['statement_imports.id'],
                            name=op.f('fk_statement_lines_import_id_statement_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
    sa.UniqueConstraint('line_key', name=op.f('uq_statement_lines_line_key'))
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_lines_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_lines_booked_on'), ['booked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_lines_bank_transfer_id'), ['bank_transfer_id'], unique=False)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM bank_transfers WHERE parent_id IS NOT NULL OR status = 'split'")
                    ).scalar():
        raise RuntimeError("split bank credits exist: this migration cannot be undone without losing them")
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_lines_bank_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_statement_lines_booked_on'))
        batch_op.drop_index(batch_op.f('ix_statement_lines_import_id'))
    op.drop_table('statement_lines')
    op.drop_table('statement_imports')
    with op.batch_alter_table('bank_transfers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_bank_transfers_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_bank_transfers_status'), OLD)
        batch_op.drop_constraint(batch_op.f('fk_bank_transfers_parent_id_bank_transfers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bank_transfers_parent_id'))
        batch_op.drop_column('parent_id')
