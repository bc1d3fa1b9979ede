"""The customers a page of won deals needs, through the contact handoff (`ensure_customers`):
a deal whose company cannot become an accounting contact waits with its company's reason."""

from __future__ import annotations

from prefect.utilities.annotations import quote

from ledgerlink.model import Party
from ledgerlink.store.exception_queue import NewException
from tasks.context import HandoffContext
from tasks.customers import ensure_customers
from tasks.record import deal_exception
from tasks.transform import Candidates


def waiting_on(company_id: str) -> str:
    """How a deal's exception names the customer it waits for (see retry_where_detail_starts)."""
    return f"customer {company_id}: "


def customers_for_deals(ctx: HandoffContext, candidates: Candidates,
                        passed: list[str]) -> tuple[dict[str, Party], list[NewException]]:
    company_of = {d: str((candidates.drafts[d].customer or {}).get("crm_id")) for d in passed}
    companies = {cid: candidates.companies[cid] for cid in set(company_of.values()) if cid in candidates.companies}
    outcome = ensure_customers(quote(ctx), quote(ctx.customer_spec), quote(companies))
    problems = []
    for deal_id, cid in company_of.items():
        problem = outcome.problems.get(cid)
        if problem is not None:
            problems.append(deal_exception(ctx, deal_id, problem.reason_code, waiting_on(cid) + problem.detail,
                                           candidates.checksums.get(deal_id), owner=problem.owner,
                                           retry=problem.retry))
            ctx.counts["deals_waiting_on_customer_in_flight"] += problem.retry
    return outcome.resolved, problems
