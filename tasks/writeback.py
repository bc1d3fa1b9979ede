"""Write-back: the invoice number and id go onto the CRM deal, so sales sees what finance sees.

Works from the store (links not yet written back), not from this run's memory, so a write-back an
earlier run could not finish is simply done by the next one.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.store.audit_log import NewAuditEvent
from tasks.context import HandoffContext
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.record import deal_exception, raise_exceptions


@task(name="write-back-invoice-numbers", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def write_back_invoices(ctx: HandoffContext) -> int:
    templates = ctx.mapping.writeback
    pending = ctx.store.links.pending_write_back(ctx.tenant.name, "invoice")
    if not pending or not templates:
        return 0
    updates = {
        link.crm_id: {prop: template.format(invoice_number=link.accounting_number or "", invoice_id=link.accounting_id)
                      for prop, template in templates.items()}
        for link in pending
    }
    results = ctx.crm.batch_update("deals", updates)
    done = [r.key for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    numbers = {link.crm_id: link.accounting_number for link in pending}
    with ctx.store.transaction():  # marked written back and audited: both or neither
        ctx.store.links.mark_written_back(ctx.tenant.name, "invoice", done)
        ctx.store.exceptions.resolve(ctx.tenant.name, ctx.name, done)
        ctx.store.audit.append(ctx.tenant.name, [
            NewAuditEvent("deal.written_back", handoff=ctx.name, run_id=ctx.run_id, deal_id=deal_id,
                          invoice_number=numbers.get(deal_id), after=updates[deal_id]) for deal_id in done])
    raise_exceptions(ctx, [
        deal_exception(ctx, r.key, "writeback_failed",
                       f"invoice {numbers.get(r.key)} exists but could not be written to the deal: "
                       + ("; ".join(r.errors) or "no message"), owner="ops")
        for r in failed])
    ctx.counts["written_back"] += len(done)
    return len(done)
