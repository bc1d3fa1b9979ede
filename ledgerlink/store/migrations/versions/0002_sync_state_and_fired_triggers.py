"""sync state (checksums, revisit dates) and fired triggers, for the linked-update handoffs

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_state',
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('handoff', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('target_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('values', sa.JSON(), nullable=True),
    sa.Column('revisit_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'handoff', 'record_id')
    )
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_state_revisit_on'), ['revisit_on'], unique=False)

    op.create_table('trigger_fired',
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('handoff', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'handoff', 'trigger', 'record_id')
    )


def downgrade() -> None:
    op.drop_table('trigger_fired')
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_state_revisit_on'))

    op.drop_table('sync_state')
