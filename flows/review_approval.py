"""Flow `review-approval`: one review item, waiting for a person, then carried out.

    announce in Slack (once: a persisted task result, and the request remembers its message) →
    wait: *suspend* when deployed (no process is held; the run starts again from the top when
    resumed, and the announce is not redone), *pause* when run ad hoc → record the decision
    (Slack's handler may have recorded it already: the first decision wins) → carry it out:
    approved → the handoff goes on for this record (invoice created, approver on its audit
    trail); rejected → closed with the reason; either way the CRM record is annotated and the
    Slack message shows the outcome.

The Prefect UI shows the paused run with a form for `ApprovalDecision`, so ops can decide there too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import deployment, flow_run
from prefect.utilities.annotations import quote
from pydantic import Field

from ledgerlink.store import open_store
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.tables import ApprovalRequest, ApprovalStatus
from tasks.approval_deadlines import expire
from tasks.approval_runs import APPROVAL_FLOW
from tasks.approval_slack import announce_request, decided_at_text, show_decision, slack_client
from tasks.connect import handoff_context
from tasks.context import HandoffContext
from tasks.decisions import record_decision
from tasks.merge_review import needs_a_pick
from tasks.ops_alerts import ALERT_HOOKS
from tasks.record import deal_exception, raise_exceptions

MAX_ANSWERS = 5  # an unusable answer (e.g. a rejection without a reason) asks again, this often
PAUSE_POLL_S = 0.5  # an ad hoc (paused) run notices a decision within this; each look is one local API read


class ApprovalDecision(RunInput):
    """What the Prefect UI asks for (Slack's buttons send the same)."""

    decision: Literal["approve", "reject"]
    approver: str = Field(min_length=1, max_length=120, description="Who decides (recorded on the audit trail)")
    comment: str = Field(default="", max_length=2000, description="Why; required to reject")
    corrected_discount_percent: Decimal | None = Field(
        default=None, ge=0, le=100, description="Approve with this discount on every line instead "
                                                "(only where the rule allows a correction)")
    accounting_contact_id: str | None = Field(
        default=None, max_length=64, description="Customer merges: the candidate contact to use "
                                                 "(required when several match)")


@task(name="announce-approval-request", persist_result=True,
      cache_key_fn=lambda _context, parameters: f"approval-announce-{parameters['request_id']}")
def announce(ctx: HandoffContext, request_id: str) -> bool:
    return announce_request(slack_client(ctx.tenant), ctx.store, request_id, ctx.spec.review.channel)


def problem_with(answer: ApprovalDecision, request: ApprovalRequest) -> str | None:
    if answer.decision == "reject" and not answer.comment.strip():
        return "a rejection needs a reason in the comment"
    for name, value in (("discount_percent", answer.corrected_discount_percent),
                        ("accounting_contact_id", answer.accounting_contact_id)):
        if value is None:
            continue
        if answer.decision != "approve":
            return "a correction only goes with an approval"
        if name not in request.corrections_allowed:
            return f"the rule(s) {', '.join(request.rules)} allow no {name} correction"
    candidates = {c["id"] for c in request.context.get("candidates") or []}
    if answer.accounting_contact_id is not None and answer.accounting_contact_id not in candidates:
        return "accounting_contact_id must be one of the candidate contacts"
    if answer.decision == "approve" and needs_a_pick(request) and not answer.accounting_contact_id:
        return "several contacts match: approving needs accounting_contact_id"
    return None


def wait_for_decision(ctx: HandoffContext, request: ApprovalRequest) -> ApprovalRequest:
    """Suspend (deployed) or pause (ad hoc) until decided; each answer has its own pause key, so a
    suspended run replaying from the top gets the same answers back in the same order."""
    logger = get_run_logger()
    timeout = int((ctx.spec.review.timeout_hours + 1) * 3600)  # the deadline sweep closes it at the hour
    deployed = deployment.id is not None
    wait = suspend_flow_run if deployed else pause_flow_run
    extra = {} if deployed else {"poll_interval": PAUSE_POLL_S}
    for attempt in range(1, MAX_ANSWERS + 1):
        try:
            answer = wait(wait_for_input=ApprovalDecision, timeout=timeout, key=f"decision-{attempt}", **extra)
        except FlowPauseTimeout:
            expire(ctx, request)
            return ctx.store.approvals.get(request.id)
        current = ctx.store.approvals.get(request.id)
        if current.status != ApprovalStatus.PENDING.value:
            return current  # decided in Slack (or timed out) before this answer arrived: the first wins
        problem = problem_with(answer, current)
        if problem:
            logger.warning("answer %d not used: %s; waiting for another", attempt, problem)
            continue
        corrections = {name: str(value) for name, value in (
            ("discount_percent", answer.corrected_discount_percent),
            ("accounting_contact_id", answer.accounting_contact_id)) if value is not None} or None
        record_decision(ctx.store, request.id, answer.decision, by=f"prefect:{answer.approver}", via="prefect",
                        comment=answer.comment or None, corrections=corrections)
        return ctx.store.approvals.get(request.id)
    expire(ctx, request)
    return ctx.store.approvals.get(request.id)


def carry_out(ctx: HandoffContext, request: ApprovalRequest) -> str | None:
    """Do what was decided; returns the outcome shown under the decision."""
    if request.record_type == "company":
        return carry_out_merge(ctx, request)
    if request.status == ApprovalStatus.APPROVED.value and request.applied_at is None:
        from flows.won_deal_to_invoice import process_deals
        from tasks.extract import read_deals_by_id
        from tasks.reference_data import load_tax_rates
        from tasks.writeback import write_back_invoices

        load_tax_rates(quote(ctx))
        process_deals(ctx, read_deals_by_id(quote(ctx), [request.record_id]))
        write_back_invoices(quote(ctx))
    elif request.status == ApprovalStatus.REJECTED.value and request.applied_at is None:
        ctx.store.approvals.mark_applied([request.id], outcome="rejected: not invoiced")
    if request.status in (ApprovalStatus.APPROVED.value, ApprovalStatus.REJECTED.value):
        annotate(ctx, request)
    request = ctx.store.approvals.get(request.id)
    if request.status == ApprovalStatus.APPROVED.value and request.applied_at is None:
        reasons = ctx.store.exceptions.open_reasons(ctx.tenant.name, ctx.name, [request.record_id])
        newer = ctx.store.approvals.latest_for(ctx.tenant.name, ctx.name, [request.record_id]).get(request.record_id)
        if newer is not None and newer.id != request.id:
            return "the deal changed since; a new request was posted"
        return f"not invoiced yet: {reasons.get(request.record_id, 'see the run log')}"
    return request.outcome


def carry_out_merge(ctx: HandoffContext, request: ApprovalRequest) -> str | None:
    """The company goes through the contact handoff again, now with the decision on record; the
    deals that waited for it are set to retry, so the next won-deal run invoices them."""
    if request.status in (ApprovalStatus.APPROVED.value, ApprovalStatus.REJECTED.value) and request.applied_at is None:
        from tasks.customer_sync import write_back_customers
        from tasks.customers import ensure_customers
        from tasks.extract import flatten

        spec = ctx.customer_spec
        properties = sorted({path.split(".", 1)[1] for path in spec.fields_for(ctx.tenant.crm.system).values()
                             if path.startswith("company.")} - {"id"})
        found = ctx.crm.batch_read("companies", [request.record_id], properties)
        if request.record_id not in found:
            return "the company no longer exists in the CRM"
        outcome = ensure_customers(quote(ctx), quote(spec),
                                   quote({request.record_id: flatten(found[request.record_id])}))
        raise_exceptions(ctx, list(outcome.problems.values()))
        write_back_customers(quote(ctx))
        if request.record_id in outcome.resolved:
            from tasks.deal_customers import waiting_on

            ctx.store.exceptions.retry_where_detail_starts(ctx.tenant.name, "deal", waiting_on(request.record_id))
    return ctx.store.approvals.get(request.id).outcome


def annotate(ctx: HandoffContext, request: ApprovalRequest) -> None:
    """The decision onto the CRM record (the spec's `review.annotate` properties)."""
    templates = ctx.spec.review.annotate
    if not templates or request.record_type != "deal":
        return
    values = {"decision": request.status, "decided_by": request.decided_by or "",
              "decided_at": decided_at_text(request.decided_at), "comment": request.comment or "",
              "rules": ", ".join(request.rules)}
    [result] = ctx.crm.batch_update("deals", {request.record_id: {
        prop: template.format(**values)[:1000] for prop, template in templates.items()}})
    if not result.ok:
        raise_exceptions(ctx, [deal_exception(ctx, request.record_id, "annotation_failed",
                                              "the review decision could not be noted on the deal: "
                                              + ("; ".join(result.errors) or "no message"), owner="ops")])


@flow(name=APPROVAL_FLOW, persist_result=True, validate_parameters=True, **ALERT_HOOKS)
def review_approval(tenant: str, request_id: str) -> dict:
    """Wait for a person's decision on one review item, then carry it out."""
    store = open_store()
    request = store.approvals.get(request_id)
    if request is None or request.tenant != tenant:
        raise ValueError(f"no approval request {request_id} for tenant {tenant}")
    run_id = str(flow_run.id) if flow_run.id else None
    if run_id and request.flow_run_id != run_id:
        store.approvals.update(request_id, flow_run_id=run_id)
        request = store.approvals.get(request_id)
    ctx = handoff_context(tenant, request.handoff, run_id=run_id, store=store)
    try:
        if request.status == ApprovalStatus.PENDING.value:
            announce(quote(ctx), request_id)
            request = wait_for_decision(ctx, request)
        outcome = carry_out(ctx, request)
        request = store.approvals.get(request_id)
        show_decision(slack_client(ctx.tenant), request, outcome)
        store.audit.append(tenant, [NewAuditEvent(
            "approval.carried_out", handoff=request.handoff, run_id=run_id,
            deal_id=request.record_id if request.record_type == "deal" else None,
            after={"request": request_id, "status": request.status, "outcome": outcome})])
        return {"request": request_id, "status": request.status, "decided_by": request.decided_by,
                "outcome": outcome, "invoices_created": ctx.counts["invoices_created"]}
    finally:
        ctx.close()
