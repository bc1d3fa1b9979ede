"""Load: invoices created in batches (≤ the vendor's batch size) through the write-intent protocol,
links and their audit events stored with the intents' confirmation (one transaction, once per
invoice however often a lookup finds it again), per-item rejections queued for finance."""

from __future__ import annotations

import hashlib

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.model import Invoice, WriteResult
from ledgerlink.privacy import mask_value
from ledgerlink.store.audit_log import NewAuditEvent
from tasks.context import HandoffContext
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.idempotent import chunked, create_batch, settle_left_over
from tasks.record import deal_exception, raise_exceptions


def invoice_hash(invoice: Invoice) -> str:
    """What an intent was for: the invoice's full dataclass repr (exact Decimals, every field in
    declared order), hashed — `asdict` deep-copied every line and cost more than the rest of the
    mapping."""
    return hashlib.sha256(repr(invoice).encode()).hexdigest()


def find_invoices(ctx: HandoffContext, deal_ids: list[str]) -> dict[str, WriteResult]:
    """Invoices found again by their deterministic reference — how crashes and lost answers settle."""
    template = ctx.invoice_rules.reference
    by_reference = {template.format(deal_id=deal_id): deal_id for deal_id in deal_ids}
    found = ctx.accounting.find_invoices_by_reference(list(by_reference))
    return {
        by_reference[ref]: WriteResult(by_reference[ref], True, target_id=inv.id, number=inv.number)
        for ref, inv in found.items() if ref in by_reference
    }


def _persist(ctx: HandoffContext, checksums: dict[str, str], invoices: dict[str, Invoice]):
    def persist(created: dict[str, WriteResult]) -> None:
        if not created:
            return
        tenant = ctx.tenant.name
        new = ctx.store.links.save(tenant, "invoice", [
            {"crm_id": deal_id, "accounting_id": r.target_id, "accounting_number": r.number,
             "checksum": checksums.get(deal_id)} for deal_id, r in created.items()])
        events = []
        for deal_id, result in created.items():
            if deal_id not in new:
                continue  # recorded already (by a run that crashed after, or one running alongside)
            invoice = invoices.get(deal_id)
            after = {"invoice_id": result.target_id, "invoice_number": result.number}
            if invoice is not None:
                after.update(reference=invoice.reference, currency=invoice.currency, total=str(invoice.total.amount),
                             customer_name=invoice.customer.name, lines=len(invoice.lines))
                ctx.note("created", {"deal": deal_id, "invoice": result.number, "total": str(invoice.total.rounded()),
                                     "customer": mask_value(invoice.customer.name)})
            if ctx.changed_at.get(deal_id):
                after["source_changed_at"] = ctx.changed_at[deal_id].isoformat()
            approval = ctx.approved.get(deal_id)
            if approval is not None:  # the person who let it move is on the invoice's audit trail
                after.update(approved_by=approval.decided_by, approval_request=approval.id,
                             approval_corrections=approval.corrections)
            events.append(NewAuditEvent("invoice.created", handoff=ctx.name, run_id=ctx.run_id, deal_id=deal_id,
                                        invoice_number=result.number,
                                        customer_id=invoice.customer.crm_id if invoice else None, after=after))
        ctx.store.audit.append(tenant, events)
        ctx.store.exceptions.resolve(tenant, ctx.name, list(created))
        for deal_id, result in created.items():
            if deal_id in ctx.approved:
                ctx.store.approvals.mark_applied([ctx.approved[deal_id].id],
                                                 outcome=f"invoice {result.number or result.target_id}")
        ctx.counts["invoices_created"] += sum(1 for deal_id in created if deal_id in invoices and deal_id in new)
    return persist


@task(name="create-invoices", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def create_invoices(ctx: HandoffContext, invoices: list[Invoice], checksums: dict[str, str]) -> None:
    by_deal = {invoice.deal_id: invoice for invoice in invoices}
    persist = _persist(ctx, checksums, by_deal)
    for part in chunked(invoices, min(ctx.spec.batch_size, ctx.accounting.max_batch)):
        reference_to_deal = {invoice.reference: invoice.deal_id for invoice in part}

        def create(batch: list[Invoice], key: str) -> list[WriteResult]:
            results = ctx.accounting.create_invoices(batch, key)
            return [WriteResult(reference_to_deal.get(r.key, r.key), r.ok, r.target_id, r.number, r.errors)
                    for r in results]

        outcome = create_batch(ctx, "invoice", {i.deal_id: (i, invoice_hash(i)) for i in part},
                               create=create, find=lambda keys: find_invoices(ctx, keys), persist=persist)
        raise_exceptions(ctx, [
            deal_exception(ctx, deal_id, "accounting_rejected",
                           f"{ctx.tenant.accounting.system} rejected the invoice: " + ("; ".join(r.errors) or "no message"),
                           checksums.get(deal_id))
            for deal_id, r in outcome.rejected.items()])
        ctx.counts["invoices_in_flight_elsewhere"] += len(outcome.in_flight)
        raise_exceptions(ctx, _waiting(ctx, outcome.in_flight, "invoice_in_flight",
                                       "another run is creating this invoice right now"))


@task(name="settle-interrupted-writes", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def settle_interrupted(ctx: HandoffContext) -> list[str]:
    """Before new work: settle what an interrupted run left behind. Returns deal ids to process again."""
    return settle_left_over(ctx, "invoice", lambda keys: find_invoices(ctx, keys), _persist(ctx, {}, {}),
                            queue_missing=lambda keys: raise_exceptions(ctx, _waiting(
                                ctx, keys, "invoice_resend_pending",
                                f"an interrupted run's invoice is not in {ctx.tenant.accounting.system}; it is sent again")))


def _waiting(ctx: HandoffContext, deal_ids: list[str], reason: str, why: str) -> list:
    """Deals the cursor may pass although their invoice is not made yet: each waits as an item set to
    retry (the next run takes it up; it closes when the invoice is linked), never passed silently."""
    return [deal_exception(ctx, deal_id, reason, f"{why}; looked at again on the next run", owner="ops", retry=True)
            for deal_id in deal_ids]
