"""Route: invoices a review rule holds wait for a person; the rest of the batch moves on at once.

Per invoice, the request on record for the same deal values decides: approved → it moves (with any
correction the approver made, and the approver on the audit trail); pending or rejected → it waits;
none, timed out, or one about older values → the rules are checked again and, if any fires, a new
approval request and its own approval run are made (an older pending one is superseded).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.model import Invoice
from ledgerlink.review import approval_context, fired_rules, review_facts
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.review_spec import Review
from ledgerlink.store.tables import ApprovalRequest, ApprovalStatus
from ledgerlink.money import MoneyError, to_decimal
from tasks.approval_runs import cancel_approval_run, start_approval_runs
from tasks.approval_slack import show_decision, slack_client
from tasks.context import HandoffContext
from tasks.transform import Candidates


def corrected(invoice: Invoice, corrections: dict | None) -> Invoice:
    """The invoice with the approver's corrections applied (only fields a rule allows)."""
    if not corrections or corrections.get("discount_percent") is None:
        return invoice
    discount = Decimal(str(corrections["discount_percent"]))
    return dataclasses.replace(invoice, lines=tuple(dataclasses.replace(line, discount_percent=discount)
                                                    for line in invoice.lines))


@task(name="route-for-review", cache_policy=NO_CACHE)
def route_for_review(ctx: HandoffContext, candidates: Candidates, invoices: list[Invoice]) -> list[Invoice]:
    """The invoices that may be created now; the others wait for (or were refused by) a person."""
    review = getattr(ctx.spec, "review", None)
    if review is None or not invoices:
        return invoices
    tenant, handoff = ctx.tenant.name, ctx.name
    latest = ctx.store.approvals.latest_for(tenant, handoff, [invoice.deal_id for invoice in invoices])
    warnings = {i.deal_id: list(candidates.warnings.get(i.deal_id, [])) for i in invoices}
    limits = {i.deal_id: _credit_limit(candidates.drafts[i.deal_id].customer, warnings[i.deal_id]) for i in invoices}
    balances = _open_balances(ctx, [i for i in invoices if limits[i.deal_id] is not None]) \
        if review.needs_open_balance else {}
    go, wanted = [], []
    for invoice in invoices:
        deal_id, checksum = invoice.deal_id, candidates.checksums[invoice.deal_id]
        request = latest.get(deal_id)
        if request is not None and request.checksum == checksum:
            if request.status == ApprovalStatus.APPROVED.value:
                ctx.approved[deal_id] = request
                go.append(corrected(invoice, request.corrections))
                continue
            if request.status in (ApprovalStatus.PENDING.value, ApprovalStatus.REJECTED.value):
                ctx.counts[f"review_{request.status}"] += 1
                continue
        limit = limits[deal_id]
        balance = None
        if review.needs_open_balance and limit is not None:
            balance = balances.get(invoice.customer.accounting_id, {}).get(invoice.currency, Decimal(0))
        facts = review_facts(invoice, credit_limit=limit, open_balance=balance,
                             gate_warnings=len(warnings[deal_id]))
        fired = fired_rules(review, facts)
        if not fired:
            go.append(invoice)
            continue
        context = approval_context(invoice, review, fired, facts, warnings[deal_id], _crm_url(ctx, deal_id))
        wanted.append(NewRequest("deal", deal_id, checksum, fired, context, request))
    open_requests(ctx, review, wanted)
    return go


@dataclass(frozen=True)
class NewRequest:
    record_type: str
    record_id: str
    checksum: str
    fired: list[str]
    context: dict
    previous: ApprovalRequest | None = None  # the record's last request (superseded if still pending)


def open_requests(ctx: HandoffContext, review: Review, wanted: list[NewRequest],
                  handoff: str | None = None) -> list[ApprovalRequest]:
    """Record the requests, audit them and start one approval run each; older pending ones of the
    same records are superseded (their values changed). `handoff` defaults to the run's own."""
    handoff = handoff or ctx.name
    _supersede(ctx, [w.previous for w in wanted
                     if w.previous is not None and w.previous.status == ApprovalStatus.PENDING.value])
    made = [ctx.store.approvals.create(
        ctx.tenant.name, handoff, w.record_type, w.record_id, w.checksum, rules=w.fired,
        approvers=sorted({review.rules[name].approvers for name in w.fired}),
        corrections_allowed=sorted({c for name in w.fired for c in review.rules[name].corrections}),
        context={**w.context, **({"escalation_channel": review.escalation_channel} if review.escalation_channel else {})})
        for w in wanted]
    if made:
        ctx.store.audit.append(ctx.tenant.name, [NewAuditEvent(
            "approval.requested", handoff=handoff, run_id=ctx.run_id,
            deal_id=r.record_id if r.record_type == "deal" else None,
            customer_id=r.context.get("customer_crm_id"),
            after={"request": r.id, "rules": r.rules, "total": r.context.get("total"),
                   "currency": r.context.get("currency")}) for r in made])
        ctx.counts["review_requested"] += len(made)
        if ctx.plan is not None:  # a dry run asks nobody: it says who would be asked, and why
            for request in made:
                ctx.plan.add("review", "ledgerlink", request.record_type, request.record_id,
                             f"{', '.join(request.rules)} → {', '.join(request.approvers)}")
        else:
            ctx.counts[f"approval_runs_{start_approval_runs(ctx.tenant.name, made, ctx.store)}"] += len(made)
    return made


def _supersede(ctx: HandoffContext, requests: list) -> None:
    client = slack_client(ctx.tenant) if requests and ctx.plan is None else None
    for request in requests:
        won, request = ctx.store.approvals.decide(request.id, ApprovalStatus.SUPERSEDED, by="ledgerlink",
                                                  via="ledgerlink", comment="the deal changed while it waited")
        if won:
            if ctx.plan is None:
                cancel_approval_run(request, "superseded: the deal changed while it waited")
                show_decision(client, request)
            ctx.counts["review_superseded"] += 1


def _credit_limit(customer: dict | None, warnings: list[str]) -> Decimal | None:
    """The customer's credit limit; an unreadable one counts as zero (so a credit rule asks a
    person) and says so in the request's warnings."""
    value = (customer or {}).get("credit_limit")
    if value in (None, ""):
        return None
    try:
        return to_decimal(value, "credit_limit")
    except MoneyError:
        warnings.append(f"the customer's credit limit {str(value)[:30]!r} is not a number; treated as 0")
        return Decimal(0)


def _open_balances(ctx: HandoffContext, invoices: list[Invoice]) -> dict:
    contacts = sorted({invoice.customer.accounting_id for invoice in invoices if invoice.customer.accounting_id})
    return ctx.accounting.open_balances(contacts) if contacts else {}


def _crm_url(ctx: HandoffContext, record_id: str) -> str | None:
    template = ctx.tenant.crm.record_url
    return template.format(id=record_id) if template else None
