"""config versions: what configuration each run, audit event and write intent used; config_version history

Revision ID: 0005
Revises: 0004

The new columns are nullable: rows written before this revision have no version, and the audit
hash chain includes the version only when it is set, so those rows still verify.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

VERSIONED = ('sync_run', 'audit_event', 'write_intent')


def upgrade() -> None:
    s = sqlmodel.sql.sqltypes.AutoString
    for table in VERSIONED:  # SQLite adds a nullable column in place (no table copy: triggers stay)
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('config_version', s(length=16), nullable=True))
    op.create_table('config_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', s(length=64), nullable=False),
    sa.Column('kind', s(length=16), nullable=False),
    sa.Column('name', s(length=128), nullable=False),
    sa.Column('hash', s(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('first_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('check_summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'kind', 'name', 'hash', name='uq_config_version')
    )
    with op.batch_alter_table('config_version') as batch:
        batch.create_index(batch.f('ix_config_version_tenant'), ['tenant'], unique=False)


def downgrade() -> None:
    op.drop_table('config_version')
    for table in VERSIONED:  # SQLite drops a column by copying the table, which loses its triggers
        with op.batch_alter_table(table) as batch:
            batch.drop_column('config_version')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_audit_append_only()


def _sqlite_audit_append_only() -> None:
    """The append-only triggers of 0001, again: the table copy above dropped them on SQLite."""
    for verb in ('UPDATE', 'DELETE'):
        op.execute(f'DROP TRIGGER IF EXISTS audit_event_no_{verb.lower()}')
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
        )
