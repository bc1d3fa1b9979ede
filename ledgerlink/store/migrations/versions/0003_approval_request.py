"""approval_request: review items waiting for (or decided by) a person

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = sqlmodel.sql.sqltypes.AutoString
    op.create_table('approval_request',
    sa.Column('id', s(length=32), nullable=False),
    sa.Column('tenant', s(length=64), nullable=False),
    sa.Column('handoff', s(length=64), nullable=False),
    sa.Column('record_type', s(length=32), nullable=False),
    sa.Column('record_id', s(length=128), nullable=False),
    sa.Column('checksum', s(length=64), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('approvers', sa.JSON(), nullable=False),
    sa.Column('corrections_allowed', sa.JSON(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('status', s(length=16), nullable=False),
    sa.Column('flow_run_id', s(length=64), nullable=True),
    sa.Column('slack_channel', s(length=64), nullable=True),
    sa.Column('slack_ts', s(length=32), nullable=True),
    sa.Column('escalation_ts', s(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', s(length=128), nullable=True),
    sa.Column('decided_via', s(length=16), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', s(length=2000), nullable=True),
    sa.Column('corrections', sa.JSON(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', s(length=256), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval_request', schema=None) as batch_op:
        batch_op.create_index('ix_approval_record', ['tenant', 'handoff', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_request_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('approval_request')
