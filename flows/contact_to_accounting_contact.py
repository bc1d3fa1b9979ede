"""Flow `contact-to-accounting-contact`: finance-ready CRM companies become accounting contacts.

    report accounting-side edits of CRM-owned fields (contacts changed since the last run) →
    for each page of companies changed since the cursor: finance-ready gate → link / match /
    create / update (batched) → accounting ids written back to the CRM → cursor → report.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from tasks.cursors import Window, advance_crm_cursor, advance_ledger_cursor, fresh_crm, fresh_ledger, read_cursor
from tasks.customer_sync import report_accounting_edits, write_back_customers
from tasks.customers import HANDOFF, CustomerOutcome, ensure_customers
from tasks.extract import flatten
from tasks.record import raise_exceptions
from tasks.run_record import handoff_run
from tasks.scope import keep_in_scope, widened
from tasks.ops_alerts import ALERT_HOOKS

ACCOUNTING_CURSOR = f"{HANDOFF}:accounting"


@flow(name=HANDOFF, log_prints=False, **ALERT_HOOKS)
def contact_to_accounting_contact(tenant: str = "demo", only_retries: bool = False, dry_run: bool = False,
                                  backfill_since: date | None = None, backfill_until: date | None = None) -> dict:
    """Create or update accounting contacts from finance-ready CRM companies; ids both ways.
    `only_retries` re-processes just the companies set to retry (`ledgerlink exceptions retry --now`);
    `dry_run` returns the plan of what a real run would do, writing nothing; `backfill_since`/`_until`
    move the companies changed in those days on a cursor of their own."""
    logger = get_run_logger()
    with handoff_run(tenant, HANDOFF, dry_run=dry_run) as ctx:
        spec = ctx.customer_spec
        properties = sorted({path.split(".", 1)[1] for path in spec.fields_for(ctx.tenant.crm.system).values()
                             if path.startswith("company.")} - {"id"})
        backfill = backfill_since is not None
        retry = [] if backfill else [item.record_id for item in ctx.store.exceptions.list(
            tenant, HANDOFF, status="retrying", limit=5_000)]
        rescoped = [] if backfill else widened(ctx)
        if rescoped:
            logger.info("judging %d compan(ies) again: the scope has changed", len(rescoped))
            _process(ctx, spec, list(ctx.crm.batch_read(spec.source.object, rescoped, properties).values()))
        if retry:
            logger.info("re-processing %d compan(ies) marked for retry", len(retry))
            outcome = _process(ctx, spec, list(ctx.crm.batch_read(spec.source.object, retry, properties).values()))
            ctx.counts["retried"] += len(retry)
            ctx.store.exceptions.resolve(tenant, HANDOFF, [cid for cid in retry if cid not in outcome.problems],
                                         only_from=("retrying",))  # not raised again
        if not only_retries:
            if not backfill:
                _report_accounting_edits(ctx)
            window = Window.backfill(HANDOFF, backfill_since, backfill_until, ctx.tz) if backfill else Window(HANDOFF)
            cursor = window.start(ctx)
            kind = spec.source.object
            for number, page in enumerate(ctx.crm.search_modified_since(kind, cursor.at_ms, properties), start=1):
                page, ended = window.within(fresh_crm(ctx, cursor, kind, page), lambda c: ctx.crm.modified_ms(kind, c))
                ctx.counts["companies_read"] += len(page)
                _process(ctx, spec, page)
                cursor = advance_crm_cursor(ctx, window.key, kind, page, cursor)
                logger.info("page %d: %d companies", number, len(page))
                if ended:
                    break
    return ctx.report.as_dict()


def _process(ctx, spec, companies: list[dict]) -> CustomerOutcome:
    companies = keep_in_scope(ctx, companies, flatten, lambda flat: {}, company_of=lambda c: str(c["id"]))
    if not companies:
        return CustomerOutcome()
    outcome = ensure_customers(quote(ctx), quote(spec), quote({str(c["id"]): flatten(c) for c in companies}),
                               update_changed=True)
    raise_exceptions(ctx, list(outcome.problems.values()))
    write_back_customers(quote(ctx))
    return outcome


def _report_accounting_edits(ctx) -> None:
    cursor = read_cursor(ctx, ACCOUNTING_CURSOR)
    for page in ctx.accounting.contacts_modified_since(cursor.since):
        page = fresh_ledger(cursor, page)
        report_accounting_edits(quote(ctx), quote(page))
        cursor = advance_ledger_cursor(ctx, ACCOUNTING_CURSOR, page, cursor)
