"""Writing down what happened: exception items (with owners) and audit events, in one place."""

from __future__ import annotations

from ledgerlink.privacy import mask_emails
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext


def raise_exceptions(ctx: HandoffContext, items: list[NewException]) -> None:
    """Queue records that cannot move; note them for the run's report and audit each new one."""
    if not items:
        return
    with ctx.store.transaction():  # queued and audited: both or neither
        changed = ctx.store.exceptions.raise_many(ctx.tenant.name, ctx.name, items)
        ctx.store.audit.append(ctx.tenant.name, [
            NewAuditEvent("exception.raised", handoff=ctx.name, run_id=ctx.run_id,
                          deal_id=item.record_id if item.record_type == "deal" else None,
                          customer_id=item.record_id if item.record_type == "company" else None,
                          after={"record_type": item.record_type, "record_id": item.record_id,
                                 "reason_code": item.reason_code, "owner": item.owner, "detail": item.detail})
            for item in items
        ])
    ctx.counts["exceptions"] += len(items)
    ctx.counts["exceptions_new_or_changed"] += changed
    for item in items:
        ctx.note("problems", {"record": item.record_id, "type": item.record_type, "reason": item.reason_code,
                              "owner": item.owner, "detail": mask_emails(item.detail)})


def deal_exception(ctx: HandoffContext, deal_id: str, reason_code: str, detail: str,
                   checksum: str | None = None, owner: str | None = None, retry: bool = False) -> NewException:
    """An exception item for a deal; the owner comes from the caller or the spec's owner table."""
    return NewException("deal", deal_id, reason_code, detail, owner or ctx.spec.owner_for(reason_code), checksum,
                        retry)
