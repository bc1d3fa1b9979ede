"""Customers for the invoices: every deal's company must exist as an accounting contact first.

Resolution order: existing link → the accounting contact that carries the CRM id (Xero
`ContactNumber`) → the contact with the same VAT number → create (batched, idempotent). The contact handoff extends the matching rules;
this is the part the invoice flow needs to never create a customer twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.mapping import DealDraft, MappingError, customer_party
from ledgerlink.model import Party, WriteResult
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.idempotent import chunked, create_batch
from tasks.record import deal_exception

XERO_CONTACTS_PER_CALL = 50


def party_hash(party: Party) -> str:
    return hashlib.sha256(json.dumps(asdict(party), sort_keys=True, default=str).encode()).hexdigest()


@task(name="resolve-customers", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def resolve_customers(ctx: HandoffContext, drafts: list[DealDraft]) -> tuple[dict[str, Party], list[NewException]]:
    """Returns company id -> Party with its accounting id, and exceptions for deals left without one."""
    problems: list[NewException] = []
    parties: dict[str, Party] = {}
    deals_of: dict[str, list[str]] = {}
    for draft in drafts:
        try:
            party = customer_party(draft)
        except (MappingError, ValueError, KeyError) as err:
            problems.append(deal_exception(ctx, draft.deal_id, "unparseable_field", f"cannot read customer: {err}",
                                           draft.checksum()))
            continue
        parties.setdefault(party.crm_id, party)
        deals_of.setdefault(party.crm_id, []).append(draft.deal_id)
    tenant = ctx.tenant.name
    links = ctx.store.links.for_crm_ids(tenant, "customer", list(parties))
    resolved = {cid: replace(p, accounting_id=links[cid].accounting_id) for cid, p in parties.items() if cid in links}
    missing = [cid for cid in parties if cid not in resolved]

    def persist(created: dict[str, WriteResult]) -> None:
        if not created:
            return
        ctx.store.links.save(tenant, "customer", [
            {"crm_id": cid, "accounting_id": r.target_id, "accounting_number": cid, "checksum": party_hash(parties[cid])}
            for cid, r in created.items()])
        ctx.store.audit.append(tenant, [
            NewAuditEvent("customer.linked", handoff=ctx.name, run_id=ctx.run_id, customer_id=cid,
                          after={"accounting_id": r.target_id, "name": parties[cid].name}) for cid, r in created.items()])
        resolved.update({cid: replace(parties[cid], accounting_id=r.target_id) for cid, r in created.items()})

    if missing:
        persist(find_customers(ctx, missing))
    if [cid for cid in missing if cid not in resolved]:
        persist(match_by_vat_number(ctx, {cid: parties[cid] for cid in missing if cid not in resolved}))
    to_create = [cid for cid in missing if cid not in resolved]
    for part in chunked(to_create, XERO_CONTACTS_PER_CALL):
        outcome = create_batch(
            ctx, "customer", {cid: (parties[cid], party_hash(parties[cid])) for cid in part},
            create=ctx.accounting.create_contacts, find=lambda keys: find_customers(ctx, keys), persist=persist)
        ctx.counts["customers_created"] += len(outcome.created)
        for cid, result in outcome.rejected.items():
            reason = "; ".join(result.errors) or "rejected without a message"
            problems.extend(deal_exception(ctx, deal_id, "customer_not_created",
                                           f"customer could not be created in {ctx.tenant.accounting.system}: {reason}")
                            for deal_id in deals_of[cid])
        for cid in outcome.in_flight:
            ctx.counts["customers_in_flight"] += 1
    return resolved, problems


def match_by_vat_number(ctx: HandoffContext, parties: dict[str, Party]) -> dict[str, WriteResult]:
    """An accounting contact made by hand before ledgerlink: the VAT number identifies it exactly."""
    by_vat = {p.vat_number.replace(" ", ""): cid for cid, p in parties.items() if p.vat_number}
    if not by_vat:
        return {}
    found = ctx.accounting.find_contacts("TaxNumber", list(by_vat))
    ctx.counts["customers_matched_by_vat"] += len(found)
    return {by_vat[vat]: WriteResult(by_vat[vat], True, target_id=contact["ContactID"])
            for vat, contact in found.items() if vat in by_vat}


def find_customers(ctx: HandoffContext, company_ids: list[str]) -> dict[str, WriteResult]:
    """Accounting contacts that carry these CRM ids (so a re-run or a lost answer finds them again)."""
    found = ctx.accounting.find_contacts("ContactNumber", list(company_ids))
    return {cid: WriteResult(cid, True, target_id=contact["ContactID"]) for cid, contact in found.items()}
