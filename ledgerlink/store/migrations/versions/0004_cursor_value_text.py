"""sync_cursor.value as text: a delta cursor holds the ids delivered at its newest millisecond

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_cursor') as batch:
        batch.alter_column('value', type_=sa.Text(), existing_type=sqlmodel.sql.sqltypes.AutoString(length=256),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_cursor') as batch:
        batch.alter_column('value', type_=sqlmodel.sql.sqltypes.AutoString(length=256), existing_type=sa.Text(),
                           existing_nullable=False)
