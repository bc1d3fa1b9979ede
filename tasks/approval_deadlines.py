"""Approval deadlines: remind after N hours, escalate after M, and at the final timeout close the
request as "approval timed out" in the exception queue with its owner — nothing lost, nothing moved.

Run by the scheduled `approval-deadlines` flow, which also repairs the two ways a request can lose
touch with its run: a Slack message that could not be posted (posted again), and a decision recorded
while its run was not yet paused (the run is resumed now).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.timestamps import as_utc
from ledgerlink.store.exception_queue import NewException
from ledgerlink.store.tables import ApprovalRequest, ApprovalStatus, utcnow
from tasks.approval_runs import cancel_approval_run, resume_approval_run
from tasks.approval_slack import announce_request, escalate, mention, remind, show_decision, slack_client
from tasks.context import HandoffContext
from tasks.record import raise_exceptions


def expire(ctx: HandoffContext, request: ApprovalRequest) -> bool:
    """Close a request nobody decided in time; True if this call closed it."""
    review = ctx.spec.review
    won, request = ctx.store.approvals.decide(request.id, ApprovalStatus.TIMED_OUT, by="ledgerlink", via="timeout",
                                              comment=f"no decision within {review.timeout_hours:g} h")
    if not won:
        return False
    raise_exceptions(ctx, [NewException(
        request.record_type, request.record_id, "approval_timed_out",
        f"approval timed out: nobody decided '{request.context['rule_reason']}' within {review.timeout_hours:g} h "
        f"(request {request.id}); it was not moved", review.owner, request.checksum)])
    cancel_approval_run(request, "approval timed out")
    show_decision(slack_client(ctx.tenant), request)
    return True


def sweep(ctx: HandoffContext, now: datetime | None = None) -> Counter:
    """One pass over the handoff's pending requests of the tenant."""
    now = now or utcnow()
    review, store, counts = ctx.spec.review, ctx.store, Counter()
    client = slack_client(ctx.tenant)
    for request in store.approvals.list(ctx.tenant.name, status=ApprovalStatus.PENDING.value, handoff=ctx.name,
                                        limit=100_000):
        hours = (now - as_utc(request.created_at)).total_seconds() / 3600
        if hours >= review.timeout_hours:
            counts["timed_out"] += expire(ctx, request)
            continue
        if not request.slack_ts and announce_request(client, store, request.id, review.channel):
            counts["posted_again"] += 1
            request = store.approvals.get(request.id)
        if hours >= review.escalate_after_hours and request.escalated_at is None and review.escalation_channel:
            role = ctx.tenant.slack.roles.get(review.escalate_to) if ctx.tenant.slack and review.escalate_to else None
            posted = escalate(client, review.escalation_channel, request,
                              mention(role.users, role.groups) if role else "") if client else None
            store.approvals.update(request.id, escalated_at=now, escalation_ts=posted[1] if posted else None)
            _audit(ctx, request, "approval.escalated", channel=review.escalation_channel, to=review.escalate_to)
            counts["escalated"] += 1
        elif hours >= review.remind_after_hours and request.reminded_at is None:
            remind(client, request, _approver_mentions(ctx, request))
            store.approvals.update(request.id, reminded_at=now)
            _audit(ctx, request, "approval.reminded")
            counts["reminded"] += 1
    for status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        for request in store.approvals.list(ctx.tenant.name, status=status.value, handoff=ctx.name, limit=100_000):
            if request.applied_at is None and _is_paused(request.flow_run_id):
                decision = "approve" if status == ApprovalStatus.APPROVED else "reject"
                resume_approval_run(request, {"decision": decision, "approver": request.decided_by or "?",
                                              "comment": request.comment or ""}, patience=0)
                counts["resumed"] += 1
    return counts


def _approver_mentions(ctx: HandoffContext, request: ApprovalRequest) -> str:
    roles = [ctx.tenant.slack.roles.get(name) for name in request.approvers] if ctx.tenant.slack else []
    return mention([u for r in roles if r for u in r.users], [g for r in roles if r for g in r.groups])


def _audit(ctx: HandoffContext, request: ApprovalRequest, action: str, **after) -> None:
    ctx.store.audit.append(ctx.tenant.name, [NewAuditEvent(
        action, handoff=ctx.name, run_id=ctx.run_id, deal_id=request.record_id if request.record_type == "deal" else None,
        after={"request": request.id, **after})])


def _is_paused(flow_run_id: str | None) -> bool:
    if not flow_run_id:
        return False
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return bool(state and state.is_paused())

