"""Extract: changed deals page by page, then the associations and records a page needs — in batch
reads (one call per 100–1000 records), never one GET per deal. API calls are the scarce resource.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.spec import CrmMapping
from tasks.context import HandoffContext
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.scope import deal_fields, keep_in_scope


def properties_for(mapping: CrmMapping, prefix: str) -> list[str]:
    """The CRM properties a mapping reads from one object (paths like `company.vat_number`)."""
    paths = [*mapping.deal.values(), *mapping.customer.values(), *mapping.line.values()]
    names = {path.split(".", 1)[1] for path in paths if path.startswith(prefix + ".")}
    return sorted(names - {"id"})


def flatten(record: dict) -> dict:
    """A CRM record as one flat dict: its id plus its properties (what spec paths address)."""
    return {**(record.get("properties") or {}), "id": str(record["id"])}


def deal_properties(mapping: CrmMapping) -> list[str]:
    """What a deal read asks for: the mapped deal fields (the connector adds its change time)."""
    return properties_for(mapping, "deal")


@task(name="read-deals-by-id", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def read_deals_by_id(ctx: HandoffContext, deal_ids: list[str]) -> list[dict]:
    """Deals that need another look although unchanged (recovered intents, exceptions set to retry)."""
    if not deal_ids:
        return []
    found = ctx.crm.batch_read("deals", deal_ids, deal_properties(ctx.mapping))
    return [found[deal_id] for deal_id in deal_ids if deal_id in found]


@task(name="enrich-deals", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def enrich_deals(ctx: HandoffContext, deals: list[dict]) -> list[dict]:
    """Bundle each deal with its primary company and its line items: {deal, company, lines}."""
    if not deals:
        return []
    mapping = ctx.mapping
    ids = [str(deal["id"]) for deal in deals]
    company_ids = ctx.crm.read_associations("deals", "companies", ids)
    line_ids = ctx.crm.read_associations("deals", "line_items", ids)
    wanted_companies = sorted({found[0] for found in company_ids.values() if found})
    wanted_lines = sorted({line for found in line_ids.values() for line in found})
    company_properties = set(properties_for(mapping, "company")) | {  # the contact handoff's fields too
        path.split(".", 1)[1] for path in ctx.customer_spec.fields_for(ctx.tenant.crm.system).values()
        if path.startswith("company.")}
    companies = ctx.crm.batch_read("companies", wanted_companies, sorted(company_properties - {"id"}))
    lines = ctx.crm.batch_read("line_items", wanted_lines, properties_for(mapping, "line"))
    bundles = []
    for deal in deals:
        deal_id = str(deal["id"])
        company_id = (company_ids.get(deal_id) or [None])[0]
        deal_lines = [flatten(lines[line]) for line in line_ids.get(deal_id) or [] if line in lines]
        bundles.append({
            "deal": flatten(deal),
            "company": flatten(companies[company_id]) if company_id in companies else None,
            "lines": deal_lines,
        })
    ctx.counts["deals_enriched"] += len(bundles)
    if ctx.spec.scope.companies is None:
        return bundles
    return keep_in_scope(ctx, bundles, lambda b: b["deal"], lambda flat: deal_fields(ctx, flat),
                         company_of=lambda b: (b.get("company") or {}).get("id"))

