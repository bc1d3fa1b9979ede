"""Transform: spec mapping → draft → gate row, with the checksum skip for records already waiting.

A deal that is not won is not ours to touch; a deal that already has an invoice link is done
(accounting owns the invoice now); a deal waiting in the exception queue with the same checksum has
not been fixed yet, so it is skipped instead of failing again. Everything else goes to the gate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.conditions import ConditionError
from ledgerlink.mapping import DealDraft, MappingError, build_invoice, draft_from_bundle, gate_row
from ledgerlink.model import Invoice, Party
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext
from tasks.extract import flatten
from tasks.record import deal_exception
from tasks.scope import deal_fields, keep_in_scope


@dataclass
class Candidates:
    drafts: dict[str, DealDraft] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    problems: list[NewException] = field(default_factory=list)
    companies: dict[str, dict] = field(default_factory=dict)  # company id -> flat CRM company record
    warnings: dict[str, list[str]] = field(default_factory=dict)  # deal id -> the gate's warnings


@task(name="select-won-deals", cache_policy=NO_CACHE)
def select_won_unlinked(ctx: HandoffContext, deals: list[dict]) -> list[dict]:
    """Keep deals the trigger selects and that have no invoice yet — before any further API call."""
    mapping = ctx.mapping
    linked = ctx.store.links.for_crm_ids(ctx.tenant.name, "invoice", [str(d["id"]) for d in deals])
    selected = []
    for deal in deals:
        bundle = {"deal": flatten(deal), "company": None, "lines": []}
        try:
            draft = draft_from_bundle(bundle, mapping, ctx.tz)
            fields = {"status": draft.status.value, "stage": draft.stage, "currency": draft.currency,
                      "amount": draft.amount, "owner_id": draft.owner_id}
            triggered = ctx.spec.trigger_condition.evaluate(fields)
        except (MappingError, ConditionError):
            triggered = True  # unreadable deals go on, so the gate can say what is wrong with them
        if not triggered:
            ctx.counts["skipped_not_triggered"] += 1
        elif str(deal["id"]) in linked:
            ctx.counts["skipped_already_invoiced"] += 1
        else:
            selected.append(deal)
    invoiced = [str(deal["id"]) for deal in deals if str(deal["id"]) in linked]
    ctx.store.exceptions.resolve(ctx.tenant.name, ctx.name, invoiced, only_from=("retrying",))  # retried: done
    return keep_in_scope(ctx, selected, flatten, lambda flat: deal_fields(ctx, flat))


def raw_checksum(bundle: dict, modified_property: str) -> str:
    """Checksum of a bundle that could not even be mapped (ignoring the modified timestamp)."""
    deal = {key: value for key, value in bundle["deal"].items() if key != modified_property}
    text = json.dumps({**bundle, "deal": deal}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@task(name="map-deals", cache_policy=NO_CACHE)
def map_deals(ctx: HandoffContext, bundles: list[dict]) -> Candidates:
    result = Candidates()
    mapping, rules = ctx.mapping, ctx.invoice_rules
    waiting = ctx.store.exceptions.waiting_checksums(ctx.tenant.name, ctx.name,
                                                    [str(b["deal"]["id"]) for b in bundles])
    for bundle in bundles:
        deal_id = str(bundle["deal"]["id"])
        try:
            draft = draft_from_bundle(bundle, mapping, ctx.tz)
            checksum = draft.checksum()
            if deal_id in waiting and waiting[deal_id] == checksum:
                ctx.counts["skipped_unchanged_exception"] += 1
                continue
            row = gate_row(draft, mapping, rules, ctx.active_tax)
        except MappingError as err:
            checksum = raw_checksum(bundle, ctx.crm.modified_property("deals"))
            if waiting.get(deal_id) == checksum:
                ctx.counts["skipped_unchanged_exception"] += 1
                continue
            result.problems.append(
                deal_exception(ctx, deal_id, "unparseable_field", f"cannot read deal: {err}", checksum))
            continue
        result.drafts[deal_id] = draft
        ctx.changed_at[deal_id] = draft.modified_at  # for sync latency (source change → written in target)
        result.rows.append(row)
        if bundle.get("company"):
            result.companies[str(bundle["company"]["id"])] = bundle["company"]
        result.checksums[deal_id] = checksum
    ctx.counts["candidates"] += len(result.rows)
    return result


@task(name="build-invoices", cache_policy=NO_CACHE)
def build_invoices(ctx: HandoffContext, candidates: Candidates, passed: list[str],
                   customers: dict[str, Party]) -> list[Invoice]:
    """Canonical invoices for the deals that passed the gate and have an accounting customer."""
    rows = {row["deal_id"]: row for row in candidates.rows}
    invoices = []
    for deal_id in passed:
        draft = candidates.drafts[deal_id]
        customer = customers.get(str((draft.customer or {}).get("crm_id")))
        if customer is None:
            continue  # its exception was raised when the customer could not be resolved
        invoices.append(build_invoice(draft, rows[deal_id], ctx.mapping, ctx.invoice_rules, ctx.active_tax, customer))
    return invoices
