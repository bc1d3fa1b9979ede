"""Customers for the invoices: every deal's company must exist as an accounting contact first.

Resolution: existing link → the matching rules of `ledgerlink.matching` (CRM id carried by the
contact, VAT number, billing email, normalised name) against the tenant's contact directory, read
once per run and only when some company has no link → create (batched, idempotent). Ambiguous or
weak matches are never guessed: the deals wait in the queue as a customer-merge review for finance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.mapping import DealDraft, MappingError, customer_party
from ledgerlink.matching import ContactCandidate, ContactDirectory
from ledgerlink.model import Party, WriteResult
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext
from tasks.idempotent import chunked, create_batch
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.record import deal_exception

XERO_CONTACTS_PER_CALL = 50


def party_hash(party: Party) -> str:
    return hashlib.sha256(json.dumps(asdict(party), sort_keys=True, default=str).encode()).hexdigest()


def contact_directory(ctx: HandoffContext) -> ContactDirectory:
    """Every active accounting contact, read once per run (≤ 1,000 per call) and then reused."""
    if ctx.directory is None:
        candidates = []
        for page in ctx.accounting.contacts_modified_since(None):
            candidates.extend(
                ContactCandidate(c["ContactID"], c.get("Name"), c.get("TaxNumber"), c.get("EmailAddress"),
                                 c.get("ContactNumber"))
                for c in page if c.get("ContactStatus", "ACTIVE") == "ACTIVE")
        ctx.directory = ContactDirectory(candidates)
        ctx.counts["contact_directory_size"] = len(candidates)
    return ctx.directory


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

    def persist(created: dict[str, WriteResult], action: str = "customer.linked") -> None:
        if not created:
            return
        ctx.store.links.save(tenant, "customer", [
            {"crm_id": cid, "accounting_id": r.target_id, "accounting_number": cid, "checksum": party_hash(parties[cid])}
            for cid, r in created.items()])
        ctx.store.audit.append(tenant, [
            NewAuditEvent(action, handoff=ctx.name, run_id=ctx.run_id, customer_id=cid,
                          after={"accounting_id": r.target_id, "name": parties[cid].name, "rule": r.number})
            for cid, r in created.items()])
        resolved.update({cid: replace(parties[cid], accounting_id=r.target_id) for cid, r in created.items()})

    to_create = []
    unlinked = [cid for cid in parties if cid not in resolved]
    directory = contact_directory(ctx) if unlinked else None
    matched: dict[str, WriteResult] = {}
    for cid in unlinked:
        party = parties[cid]
        result = directory.match(crm_id=cid, vat_number=party.vat_number, email=party.email, name=party.name)
        if result.outcome == "matched":
            matched[cid] = WriteResult(cid, True, target_id=result.accounting_id, number=result.rule)
            ctx.counts[f"customers_matched_by_{result.rule}"] += 1
        elif result.outcome == "ambiguous":
            problems.extend(deal_exception(ctx, deal_id, "customer_merge_review",
                                           f"customer record merge needs a person: {result.reason}", owner="finance")
                            for deal_id in deals_of[cid])
        else:
            to_create.append(cid)
    persist(matched, "customer.matched")
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
        ctx.counts["customers_in_flight"] += len(outcome.in_flight)
    return resolved, problems


def find_customers(ctx: HandoffContext, company_ids: list[str]) -> dict[str, WriteResult]:
    """Accounting contacts that carry these CRM ids (so a re-run or a lost answer finds them again)."""
    found = ctx.accounting.find_contacts("ContactNumber", list(company_ids))
    return {cid: WriteResult(cid, True, target_id=contact["ContactID"]) for cid, contact in found.items()}
