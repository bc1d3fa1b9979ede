"""contact-to-accounting-contact, the part every handoff shares: make sure CRM companies exist as
accounting contacts — finance-ready first (the gate), matched before created, never guessed.

Order per company: existing link → the spec's match order over the tenant's contact directory
(read once per run, only when some company has no link) → create (batched, write intents).
Ambiguous or weak matches wait for a person as a customer-merge review. The won-deal flow calls
`ensure_customers` for the companies of its deals; the contact flow also updates changed ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.customer_spec import CustomerSyncSpec
from ledgerlink.mapping import MappingError, party_from_fields, read_fields
from ledgerlink.matching import ContactCandidate, ContactDirectory
from ledgerlink.model import Party, WriteResult
from ledgerlink.privacy import fingerprint
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext
from tasks.idempotent import chunked, create_batch, settle_interrupted_keys
from tasks.merge_review import CREATE_NEW, merge_decisions
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S

HANDOFF = "contact-to-accounting-contact"
EDIT_CONFLICT = "accounting_edit_conflict"
IN_FLIGHT = "customer_in_flight"


@dataclass
class CustomerOutcome:
    resolved: dict[str, Party] = field(default_factory=dict)  # company id -> Party with accounting id
    problems: dict[str, NewException] = field(default_factory=dict)  # company id -> why not
    merges: dict[str, Any] = field(default_factory=dict)  # company id -> the merge decision applied


def party_hash(party: Party) -> str:
    data = asdict(replace(party, accounting_id=None))
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def owned_values(party: Party) -> dict[str, str | None]:
    """Fingerprints of the CRM-owned fields as written (edit-conflict checks compare fingerprints,
    so the store keeps no customer's name or email in clear)."""
    return {field: owned_fingerprint(value)
            for field, value in (("name", party.name), ("email", party.email), ("vat_number", party.vat_number))}


def owned_fingerprint(value: str | None) -> str | None:
    return fingerprint(value.strip().casefold()) if value and value.strip() else None


def contact_directory(ctx: HandoffContext) -> ContactDirectory:
    """Every active accounting contact, read once per run (≤ 1,000 per call) and then reused."""
    if ctx.directory is None:
        candidates = []
        for page in ctx.accounting.contacts_modified_since(None):
            candidates.extend(ContactCandidate(c.id, c.name, c.tax_number, c.email, c.crm_id)
                              for c in page if c.active)
        ctx.directory = ContactDirectory(candidates)
        ctx.counts["contact_directory_size"] = len(candidates)
    return ctx.directory


@task(name="ensure-customers", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def ensure_customers(ctx: HandoffContext, spec: CustomerSyncSpec, companies: dict[str, dict],
                     update_changed: bool = False) -> CustomerOutcome:
    """companies: company id -> flat company record (its properties plus `id`)."""
    outcome = CustomerOutcome()
    parties = _finance_ready(ctx, spec, companies, outcome)
    tenant = ctx.tenant.name
    links = ctx.store.links.for_crm_ids(tenant, "customer", list(parties))
    states = ctx.store.sync_states.for_records(tenant, HANDOFF, list(parties))
    reasons = ctx.store.exceptions.open_reasons(tenant, HANDOFF, list(parties))
    blocked = {cid for cid, reason in reasons.items() if reason == EDIT_CONFLICT}
    to_update: list[Party] = []
    for cid, party in parties.items():
        if cid in links:
            linked = replace(party, accounting_id=links[cid].accounting_id)
            outcome.resolved[cid] = linked
            state = states.get(cid)
            if update_changed and (state is None or state.checksum != party_hash(party)):
                if cid in blocked:
                    ctx.counts["customers_update_held_by_conflict"] += 1
                else:
                    to_update.append(linked)
    unlinked = [cid for cid in parties if cid not in links]
    if unlinked:  # a contact an interrupted run created is ours: settle it, never match it as a stranger's
        settled = settle_interrupted_keys(
            ctx, "customer", unlinked, find=lambda keys: _find_by_crm_id(ctx, keys),
            persist=lambda done: _persist_links(ctx, done, parties, "customer.created", outcome))
        _in_flight(ctx, spec, settled.in_flight, outcome)
        unlinked = [cid for cid in unlinked if cid not in settled.created and cid not in settled.in_flight]
    matched, to_create = _match(ctx, spec, {cid: parties[cid] for cid in unlinked}, outcome)
    _persist_links(ctx, matched, parties, "customer.matched", outcome)
    to_update.extend(outcome.resolved[cid] for cid in matched)  # one match: link and update
    batch = min(spec.batch_size, ctx.accounting.max_batch)  # the spec's size, within what the vendor takes
    for part in chunked(to_create, batch):
        created = create_batch(
            ctx, "customer", {cid: (parties[cid], party_hash(parties[cid])) for cid in part},
            create=ctx.accounting.create_contacts, find=lambda keys: _find_by_crm_id(ctx, keys),
            persist=lambda done: _persist_links(ctx, done, parties, "customer.created", outcome))
        ctx.counts["customers_created"] += len(created.created)
        _in_flight(ctx, spec, created.in_flight, outcome)
        for cid, result in created.rejected.items():
            outcome.problems[cid] = _problem(ctx, spec, cid, "customer_not_created",
                                             f"{ctx.tenant.accounting.system} refused the contact: "
                                             + ("; ".join(result.errors) or "no message"))
    for cid, request in outcome.merges.items():
        if cid in outcome.resolved:
            how = "created a new contact" if request.status == "rejected" else "linked to the existing contact"
            ctx.store.approvals.mark_applied([request.id], outcome=f"{how} {outcome.resolved[cid].accounting_id}")
    for part in chunked(to_update, batch):
        key = "ll-upd-" + hashlib.sha256("".join(party_hash(p) for p in part).encode()).hexdigest()[:40]
        for result in ctx.accounting.update_contacts(part, key):
            party = next(p for p in part if p.crm_id == result.key)
            if result.ok:
                _remember(ctx, [party])
                ctx.counts["customers_updated"] += 1
            else:
                outcome.problems[result.key] = _problem(ctx, spec, result.key, "customer_not_updated",
                                                        "; ".join(result.errors) or "no message")
    return outcome


def _finance_ready(ctx: HandoffContext, spec: CustomerSyncSpec, companies: dict[str, dict],
                   outcome: CustomerOutcome) -> dict[str, Party]:
    fields_map = spec.fields_for(ctx.tenant.crm.system)
    rows, parties = [], {}
    for cid, record in companies.items():
        try:
            fields = read_fields({"company": record}, fields_map)
            parties[cid] = party = party_from_fields(fields)
            rows.append({"company_id": cid, **{k: fields.get(k) for k in
                         ("name", "email", "address_line1", "city", "country", "currency")},
                         "vat_number": party.vat_number, "payment_terms_days": party.payment_terms_days})
        except (MappingError, ValueError) as err:
            outcome.problems[cid] = _problem(ctx, spec, cid, "unparseable_field", f"cannot read company: {err}")
    if not rows:
        return parties
    gate = ctx.gate_for(spec.expectations_path, "company_id")
    result = gate.validate(rows, parameters={"tenant_currencies": list(ctx.tenant.currencies)})
    for cid, failures in result.failed.items():
        outcome.problems[cid] = _problem(ctx, spec, cid, failures[0].reason_code,
                                         "; ".join(f.message for f in failures), failures[0].owner)
        parties.pop(cid, None)
    return parties


def _match(ctx: HandoffContext, spec: CustomerSyncSpec, parties: dict[str, Party],
           outcome: CustomerOutcome) -> tuple[dict[str, WriteResult], list[str]]:
    if not parties:
        return {}, []
    directory = contact_directory(ctx)
    matched, to_create, ambiguous = {}, [], {}
    for cid, party in parties.items():
        result = directory.match(crm_id=cid, vat_number=party.vat_number, email=party.email, name=party.name,
                                 order=spec.match_order)
        if result.outcome == "matched":
            matched[cid] = WriteResult(cid, True, target_id=result.accounting_id, number=result.rule)
            ctx.counts[f"customers_matched_by_{result.rule}"] += 1
        elif result.outcome == "ambiguous":
            ambiguous[cid] = (party, result)
        else:
            to_create.append(cid)
    decided, outcome.merges = merge_decisions(ctx, spec, ambiguous, {cid: party_hash(p) for cid, (p, _) in ambiguous.items()})
    for cid, (party, result) in ambiguous.items():
        if cid not in decided:
            waits = "; waiting for a decision in Slack or the Prefect UI" if spec.review else ""
            outcome.problems[cid] = _problem(ctx, spec, cid, "customer_merge_review",
                                             f"customer record merge needs a person: {result.reason}{waits}", "finance")
        elif decided[cid] == CREATE_NEW:
            to_create.append(cid)
        else:
            matched[cid] = WriteResult(cid, True, target_id=decided[cid], number="merge approved")
            ctx.counts["customers_merged_by_approval"] += 1
    return matched, to_create


def _persist_links(ctx: HandoffContext, done: dict[str, WriteResult], parties: dict[str, Party], action: str,
                   outcome: CustomerOutcome) -> None:
    if not done:
        return
    tenant = ctx.tenant.name
    linked = [replace(parties[cid], accounting_id=r.target_id) for cid, r in done.items()]
    with ctx.store.transaction():  # the link, what was written and its audit event: all or none
        new = ctx.store.links.save(tenant, "customer", [
            {"crm_id": cid, "accounting_id": r.target_id, "accounting_number": cid} for cid, r in done.items()])
        recorded = [p for p in linked if p.crm_id in new]  # not those another run recorded already
        if action == "customer.created":
            _remember(ctx, recorded)
        ctx.store.audit.append(tenant, [
            NewAuditEvent(action, handoff=HANDOFF, run_id=ctx.run_id, customer_id=p.crm_id,
                          after={"accounting_id": p.accounting_id, "name": p.name, "rule": done[p.crm_id].number})
            for p in recorded])
    outcome.resolved.update({p.crm_id: p for p in linked})


def _remember(ctx: HandoffContext, parties: list[Party]) -> None:
    """What we wrote: the checksum skips unchanged companies; owned values reveal accounting edits."""
    ctx.store.sync_states.save(ctx.tenant.name, HANDOFF, [
        {"record_id": p.crm_id, "target_id": p.accounting_id, "checksum": party_hash(p), "values": owned_values(p)}
        for p in parties])
    ctx.store.exceptions.resolve(ctx.tenant.name, HANDOFF, [p.crm_id for p in parties])


def _problem(ctx: HandoffContext, spec: CustomerSyncSpec, cid: str, reason: str, detail: str,
             owner: str | None = None, retry: bool = False) -> NewException:
    return NewException("company", cid, reason, detail, owner or spec.owner_for(reason), retry=retry)


def _in_flight(ctx: HandoffContext, spec: CustomerSyncSpec, company_ids: list[str], outcome: CustomerOutcome) -> None:
    """Customers another live run is creating right now: left to it, but never passed by silently —
    each waits as an item set to retry, which the next run takes up (and the creating run resolves)."""
    for cid in company_ids:
        outcome.problems[cid] = _problem(ctx, spec, cid, IN_FLIGHT, "another run is creating this customer "
                                         "right now; it is looked at again on the next run", "ops", retry=True)
    ctx.counts["customers_in_flight_elsewhere"] += len(company_ids)


def _find_by_crm_id(ctx: HandoffContext, company_ids: list[str]) -> dict[str, WriteResult]:
    """Accounting contacts that carry these CRM ids (so a re-run or a lost answer finds them again)."""
    found = ctx.accounting.find_contacts_by_crm_id(list(company_ids))
    return {cid: WriteResult(cid, True, target_id=contact.id) for cid, contact in found.items()}
