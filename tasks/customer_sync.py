"""The contact handoff's two-way bookkeeping: accounting ids written back to the CRM, and edits
made in the accounting system to CRM-owned fields reported (the CRM owns customers; an edit on the
other side is a question for a person, not something to overwrite silently)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.ledger import LedgerContact
from ledgerlink.privacy import mask_value
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext
from tasks.customers import EDIT_CONFLICT, HANDOFF, owned_fingerprint
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.record import raise_exceptions

CONTACT_FIELDS = {"name": "name", "email": "email", "vat_number": "tax_number"}  # owned field -> LedgerContact


@task(name="report-accounting-edits", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S,
      cache_policy=NO_CACHE)
def report_accounting_edits(ctx: HandoffContext, contacts: list[LedgerContact]) -> int:
    """Compare changed accounting contacts with what we last wrote to them; report differences."""
    tenant, spec = ctx.tenant.name, ctx.customer_spec
    links = ctx.store.links.for_accounting_ids(tenant, "customer", [c.id for c in contacts])
    company_of = {c.id: links[c.id.lower()].crm_id for c in contacts if c.id.lower() in links}
    states = ctx.store.sync_states.for_records(tenant, HANDOFF, company_of.values())
    conflicts, clean = [], []
    for contact in contacts:
        cid = company_of.get(contact.id)
        state = states.get(cid) if cid else None
        if state is None or not state.values:
            continue
        changed = [f for f in spec.owned_fields if CONTACT_FIELDS[f] not in contact.hidden  # unknown is no edit
                   and owned_fingerprint(getattr(contact, CONTACT_FIELDS[f])) != state.values.get(f)]
        if not changed:
            clean.append(cid)
            continue
        detail = "; ".join(f"{f} is now {mask_value(getattr(contact, CONTACT_FIELDS[f]) or '(empty)')} in "
                           f"{ctx.tenant.accounting.system}, not what the CRM last sent" for f in changed)
        conflicts.append(NewException("company", cid, EDIT_CONFLICT,
                                      f"edited in {ctx.tenant.accounting.system}, but the CRM owns these fields: "
                                      f"{detail}. Fix it in the CRM, or revert it in accounting.",
                                      spec.owner_for(EDIT_CONFLICT)))
    reasons = ctx.store.exceptions.open_reasons(tenant, HANDOFF, clean)
    ctx.store.exceptions.resolve(tenant, HANDOFF, [c for c in clean if reasons.get(c) == EDIT_CONFLICT])
    raise_exceptions(ctx, conflicts)
    ctx.counts["accounting_edit_conflicts"] += len(conflicts)
    return len(conflicts)


@task(name="write-back-accounting-ids", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S,
      cache_policy=NO_CACHE)
def write_back_customers(ctx: HandoffContext) -> int:
    """Put the accounting contact id on the CRM company (the cross-reference lives on both sides)."""
    templates = ctx.customer_spec.writeback
    pending = ctx.store.links.pending_write_back(ctx.tenant.name, "customer")
    if not pending or not templates:
        return 0
    updates = {link.crm_id: {prop: template.format(accounting_id=link.accounting_id)
                             for prop, template in templates.items()} for link in pending}
    results = ctx.crm.batch_update(ctx.customer_spec.source.object, updates)
    done = [r.key for r in results if r.ok]
    with ctx.store.transaction():  # marked written back and audited: both or neither
        ctx.store.links.mark_written_back(ctx.tenant.name, "customer", done)
        ctx.store.audit.append(ctx.tenant.name, [
            NewAuditEvent("company.written_back", handoff=HANDOFF, run_id=ctx.run_id, customer_id=cid,
                          after=updates[cid]) for cid in done])
    raise_exceptions(ctx, [NewException("company", r.key, "writeback_failed",
                                         "accounting id could not be written to the company: "
                                         + ("; ".join(r.errors) or "no message"), "ops")
                           for r in results if not r.ok])
    ctx.counts["customers_written_back"] += len(done)
    return len(done)
