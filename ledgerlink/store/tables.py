"""Store tables (SQLModel). The migrations in `migrations/` create them; these classes describe them.

Every table is keyed by tenant first: an integrator runs many businesses from one store, and one
business's rows must never be confused with another's.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ts(**kw) -> Field:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, **kw))


class IntentStatus(str, Enum):
    PENDING = "pending"  # written before the call: we are about to send
    SENT = "sent"  # the call went out; the answer is not recorded yet
    CONFIRMED = "confirmed"  # the vendor said it exists; target_id known
    UNCERTAIN = "uncertain"  # the call may or may not have committed: settle by lookup
    FAILED = "failed"  # the vendor rejected it; nothing exists


class ExceptionStatus(str, Enum):
    OPEN = "open"
    RETRYING = "retrying"
    RESOLVED = "resolved"
    IGNORED = "ignored"


class RecordLink(SQLModel, table=True):
    """Cross-reference between a CRM record and the accounting record made from it."""

    __tablename__ = "record_link"
    __table_args__ = (
        UniqueConstraint("tenant", "object_type", "crm_id", name="uq_record_link_crm"),
        UniqueConstraint("tenant", "object_type", "accounting_id", name="uq_record_link_accounting"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    object_type: str = Field(max_length=32)  # "invoice" (deal → invoice), "customer" (company → contact)
    crm_id: str = Field(max_length=64)
    accounting_id: str = Field(max_length=64)
    accounting_number: str | None = Field(default=None, max_length=64, index=True)
    checksum: str | None = Field(default=None, max_length=64)
    synced_version: str | None = Field(default=None, max_length=64)
    written_back: bool = Field(default=False)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class SyncCursor(SQLModel, table=True):
    """A handoff's watermark; moved only after the writes it covers are durable."""

    __tablename__ = "sync_cursor"
    tenant: str = Field(primary_key=True, max_length=64)
    handoff: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))  # a DeltaCursor: time and the ids at that time
    updated_at: datetime = _ts()


class WriteIntent(SQLModel, table=True):
    """One outbound create per record, written BEFORE the call so a crash leaves a trace to settle."""

    __tablename__ = "write_intent"
    __table_args__ = (UniqueConstraint("tenant", "object_type", "record_key", name="uq_write_intent_record"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    handoff: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    record_key: str = Field(max_length=128)  # e.g. the deterministic invoice reference
    idempotency_key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    status: str = Field(default=IntentStatus.PENDING.value, max_length=16, index=True)
    target_id: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=2000)
    attempts: int = Field(default=1)
    run_id: str | None = Field(default=None, max_length=64)
    config_version: str | None = Field(default=None, max_length=16)  # ledgerlink.config_versions id
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ExceptionItem(SQLModel, table=True):
    """A record that could not move, with a readable reason and somebody who owns fixing it."""

    __tablename__ = "exception_item"
    __table_args__ = (UniqueConstraint("tenant", "handoff", "record_id", name="uq_exception_record"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    handoff: str = Field(max_length=64)
    record_type: str = Field(max_length=32)
    record_id: str = Field(max_length=128)
    reason_code: str = Field(max_length=64, index=True)
    detail: str = Field(max_length=4000)
    owner: str = Field(max_length=64)
    status: str = Field(default=ExceptionStatus.OPEN.value, max_length=16, index=True)
    attempts: int = Field(default=1)
    checksum: str | None = Field(default=None, max_length=64)
    first_seen: datetime = _ts()
    last_seen: datetime = _ts()
    resolved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained record of every change ledgerlink made (PII masked, hashed)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_tenant_seq", "tenant", "seq", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    seq: int
    at: datetime = _ts()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    handoff: str | None = Field(default=None, max_length=64)
    run_id: str | None = Field(default=None, max_length=64)
    deal_id: str | None = Field(default=None, max_length=64, index=True)
    customer_id: str | None = Field(default=None, max_length=64, index=True)
    invoice_number: str | None = Field(default=None, max_length=64, index=True)
    before: dict | None = Field(default=None, sa_column=Column(JSON))
    after: dict | None = Field(default=None, sa_column=Column(JSON))
    config_version: str | None = Field(default=None, max_length=16)  # hashed only when set (older rows)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHead(SQLModel, table=True):
    """Per-tenant head of the audit hash chain; locked while appending so the chain never forks."""

    __tablename__ = "audit_chain_head"
    tenant: str = Field(primary_key=True, max_length=64)
    seq: int = 0
    hash: str = Field(max_length=64)


class OAuthToken(SQLModel, table=True):
    """Current OAuth token set per tenant and vendor: Xero rotates refresh tokens, so losing the
    newest one loses the connection. Saved (committed) before the new access token is used."""

    __tablename__ = "oauth_token"
    tenant: str = Field(primary_key=True, max_length=64)
    vendor: str = Field(primary_key=True, max_length=32)
    access_token: str = Field(max_length=4096)
    refresh_token: str = Field(max_length=4096)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = _ts()


class SyncRun(SQLModel, table=True):
    """One handoff run's outcome and API usage, for summaries and (later) health figures."""

    __tablename__ = "sync_run"
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    handoff: str = Field(max_length=64)
    run_id: str | None = Field(default=None, max_length=64)
    started_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    status: str = Field(default="running", max_length=16)
    counts: dict | None = Field(default=None, sa_column=Column(JSON))
    api: dict | None = Field(default=None, sa_column=Column(JSON))
    config_version: str | None = Field(default=None, max_length=16)


class SyncState(SQLModel, table=True):
    """What a handoff last wrote for one record: the checksum that lets an unchanged record be
    skipped, and the date it must be looked at again even if nothing changes (e.g. a due date,
    after which 'awaiting payment' becomes 'overdue' without the invoice being touched)."""

    __tablename__ = "sync_state"
    tenant: str = Field(primary_key=True, max_length=64)
    handoff: str = Field(primary_key=True, max_length=64)
    record_id: str = Field(primary_key=True, max_length=128)
    target_id: str | None = Field(default=None, max_length=128)
    checksum: str = Field(max_length=64)
    values: dict | None = Field(default=None, sa_column=Column(JSON))
    revisit_on: date | None = Field(default=None, index=True)
    updated_at: datetime = _ts()


class TriggerFired(SQLModel, table=True):
    """A declared trigger that fired for a record. The primary key is what makes it fire once."""

    __tablename__ = "trigger_fired"
    tenant: str = Field(primary_key=True, max_length=64)
    handoff: str = Field(primary_key=True, max_length=64)
    trigger: str = Field(primary_key=True, max_length=64)
    record_id: str = Field(primary_key=True, max_length=128)
    fired_at: datetime = _ts()
    run_id: str | None = Field(default=None, max_length=64)


class ApprovalStatus(str, Enum):
    PENDING = "pending"  # waiting for a person (Slack or the Prefect UI)
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"  # nobody decided in time: the record waits in the exception queue
    SUPERSEDED = "superseded"  # the record changed while waiting: a new request replaced this one


class ApprovalRequest(SQLModel, table=True):
    """One review item: the rules that fired, what finance saw, the Prefect run waiting on it, the
    Slack message, and the decision. The decision is written here first (compare-and-set on
    `status`), so a double click or a Slack click racing a Prefect UI resume decides exactly once."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_record", "tenant", "handoff", "record_id"),)
    id: str = Field(primary_key=True, max_length=32)
    tenant: str = Field(max_length=64)
    handoff: str = Field(max_length=64)
    record_type: str = Field(max_length=32)
    record_id: str = Field(max_length=128)
    checksum: str = Field(max_length=64)  # the record's values the decision is about
    rules: list = Field(sa_column=Column(JSON, nullable=False))
    approvers: list = Field(sa_column=Column(JSON, nullable=False))  # roles, any of which may decide
    corrections_allowed: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    context: dict = Field(sa_column=Column(JSON, nullable=False))  # what the Slack message shows
    status: str = Field(default=ApprovalStatus.PENDING.value, max_length=16, index=True)
    flow_run_id: str | None = Field(default=None, max_length=64)
    slack_channel: str | None = Field(default=None, max_length=64)
    slack_ts: str | None = Field(default=None, max_length=32)
    escalation_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()
    reminded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    escalated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decided_by: str | None = Field(default=None, max_length=128)
    decided_via: str | None = Field(default=None, max_length=16)  # slack | prefect | timeout
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    comment: str | None = Field(default=None, max_length=2000)
    corrections: dict | None = Field(default=None, sa_column=Column(JSON))
    applied_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    outcome: str | None = Field(default=None, max_length=256)


class ConfigVersion(SQLModel, table=True):
    """One version of one piece of a tenant's configuration (ledgerlink.config_versions): a spec, a
    suite, a mapping, or a handoff's combined version (kind `handoff`, hash = the short id runs
    record, content = its parts). Kept with its content so versions can be compared later; a row
    appears when a run first uses the version or `config check` passes it, whichever is first."""

    __tablename__ = "config_version"
    __table_args__ = (UniqueConstraint("tenant", "kind", "name", "hash", name="uq_config_version"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)  # handoff | spec | suite | mapping
    name: str = Field(max_length=128)
    hash: str = Field(max_length=64)
    content: str = Field(sa_column=Column(Text, nullable=False))
    first_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    checked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    check_summary: dict | None = Field(default=None, sa_column=Column(JSON))
