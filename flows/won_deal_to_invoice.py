"""Flow `won-deal-to-invoice`: CRM won deals → accounting invoices, numbers written back to the deals.

    settle interrupted writes → retry queued records → for each page of deals changed since the
    cursor: select won & not invoiced → enrich (batch reads) → map + checksum skip → gate →
    customers → build invoices → route (review rules: held invoices wait for a person, each in its
    own approval run; the rest move on) → idempotent batched create → links + audit → write back →
    cursor moves (only now: every write of the page is durable) → report + Prefect artifact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from tasks.cursors import Window, advance_crm_cursor, fresh_crm
from tasks.progress import Progress
from tasks.deal_customers import customers_for_deals
from tasks.extract import deal_properties, enrich_deals, read_deals_by_id
from tasks.gate import gate_candidates
from tasks.load import create_invoices, settle_interrupted
from tasks.policy import intent_lease_seconds
from tasks.reference_data import load_tax_rates
from tasks.record import raise_exceptions
from tasks.review import route_for_review
from tasks.run_record import handoff_run
from tasks.scope import widened
from tasks.transform import build_invoices, map_deals, select_won_unlinked
from tasks.writeback import write_back_invoices
from tasks.ops_alerts import ALERT_HOOKS

HANDOFF = "won-deal-to-invoice"


def process_deals(ctx, deals: list[dict]) -> None:
    """One page of deals through every step; each step is a Prefect task working on the whole page.

    Arguments are `quote`d: Prefect would otherwise walk every record of every page looking for
    futures, which cost more than the work itself.
    """
    context = quote(ctx)
    selected = select_won_unlinked(context, quote(deals))
    if not selected:
        return
    candidates = map_deals(context, quote(enrich_deals(context, quote(selected))))
    passed = gate_candidates(context, quote(candidates))
    customers, customer_problems = customers_for_deals(ctx, candidates, passed)
    raise_exceptions(ctx, candidates.problems + customer_problems)
    invoices = build_invoices(context, quote(candidates), passed, quote(customers))
    invoices = route_for_review(context, quote(candidates), quote(invoices))
    create_invoices(context, quote(invoices), quote(candidates.checksums))


MAX_PASSES = 3


def process_changed_deals(ctx, max_pages: int | None, window: Window) -> None:
    """Every deal changed since the window's cursor, a work batch of pages at a time (the gate and
    Prefect's per-task cost are paid per batch, not per page); the cursor moves once a batch's
    writes are durable.

    Writing invoice numbers back changes the deals, so they come back as changes. Deals that
    already hold an invoice id are left out of the search where the CRM can (HubSpot); elsewhere
    the run reads again until a pass writes nothing back, so its own echoes are consumed by the
    run that caused them, and the next run of an idle tenant costs a call or two.
    """
    for _ in range(MAX_PASSES):
        written = ctx.counts["written_back"]
        if not _one_pass(ctx, max_pages, window) or ctx.counts["written_back"] == written:
            return


def _one_pass(ctx, max_pages: int | None, window: Window) -> bool:
    """One read from the cursor to the newest change; False when it stopped early (a bound)."""
    logger = get_run_logger()
    cursor = window.start(ctx)
    progress = Progress(ctx.name, cursor.at_ms, window.until_ms)
    pages = ctx.crm.search_modified_since("deals", cursor.at_ms, deal_properties(ctx.mapping), ctx.spec.page_size,
                                          unless_set=ctx.mapping.invoiced_property)
    batch: list[dict] = []
    for number, page in enumerate(pages, start=1):
        page, ended = window.within(fresh_crm(ctx, cursor, "deals", page), lambda d: ctx.crm.modified_ms("deals", d))
        ctx.counts["deals_read"] += len(page)
        batch.extend(page)
        last = ended or bool(max_pages and number >= max_pages)
        if len(batch) >= ctx.spec.work_batch or last:
            cursor = _process_batch(ctx, window, cursor, batch)
            logger.info("%d deals read, %d invoices, %d exceptions so far", ctx.counts["deals_read"],
                        ctx.counts["invoices_created"], ctx.counts["exceptions"])
            progress.update(cursor.at_ms, ctx.counts)
            batch = []
        if last:
            progress.done()
            return False
    if batch:
        cursor = _process_batch(ctx, window, cursor, batch)
        logger.info("%d deals read, %d invoices, %d exceptions", ctx.counts["deals_read"],
                    ctx.counts["invoices_created"], ctx.counts["exceptions"])
        progress.update(cursor.at_ms, ctx.counts)
    progress.done()
    return True


def _process_batch(ctx, window: Window, cursor, deals: list[dict]):
    process_deals(ctx, deals)
    write_back_invoices(quote(ctx))
    ctx.changed_at.clear()
    return advance_crm_cursor(ctx, window.key, "deals", deals, cursor)  # every write of the batch is durable now


def approved_but_not_moved(ctx) -> list[str]:
    """Deals approved a while ago whose approval run never finished applying the decision."""
    before = datetime.now(timezone.utc) - timedelta(seconds=intent_lease_seconds())
    return [request.record_id for request in ctx.store.approvals.approved_unapplied(ctx.tenant.name, HANDOFF, before)]


@flow(name=HANDOFF, log_prints=False, validate_parameters=True, **ALERT_HOOKS)
def won_deal_to_invoice(tenant: str = "demo", max_pages: int | None = None, only_retries: bool = False,
                        dry_run: bool = False, backfill_since: date | None = None,
                        backfill_until: date | None = None) -> dict:
    """Run the handoff for one tenant. `max_pages` bounds a run (the cursor resumes the rest next time);
    `only_retries` re-processes just the records set to retry (`ledgerlink exceptions retry --now`);
    `dry_run` reads both sides and returns the plan of what a real run would do, writing nothing;
    `backfill_since`/`_until` move deals changed in those days (tenant's calendar), in resumable
    pages on a cursor of their own, leaving the live cursor where it is."""
    logger = get_run_logger()
    with handoff_run(tenant, HANDOFF, dry_run=dry_run) as ctx:
        load_tax_rates(quote(ctx))
        again = settle_interrupted(quote(ctx))
        if backfill_since is None:
            again += [item.record_id for item in ctx.store.exceptions.list(
                tenant, HANDOFF, status="retrying", limit=5_000)] + approved_but_not_moved(ctx) + widened(ctx)
        if again:
            logger.info("re-processing %d deal(s): interrupted, marked for retry, or outside an earlier scope",
                        len(again))
            process_deals(ctx, read_deals_by_id(quote(ctx), sorted(set(again))))
        write_back_invoices(quote(ctx))
        window = Window(HANDOFF) if backfill_since is None else Window.backfill(
            HANDOFF, backfill_since, backfill_until, ctx.tz)
        if not only_retries:
            process_changed_deals(ctx, max_pages, window)
    return ctx.report.as_dict()
