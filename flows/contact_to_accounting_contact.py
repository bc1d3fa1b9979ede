"""Flow `contact-to-accounting-contact`: finance-ready CRM companies become accounting contacts.

    report accounting-side edits of CRM-owned fields (contacts changed since the last run) →
    for each page of companies changed since the cursor: finance-ready gate → link / match /
    create / update (batched) → accounting ids written back to the CRM → cursor → report.
"""

from __future__ import annotations


from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from tasks.cursors import advance_crm_cursor, advance_ledger_cursor, fresh_crm, fresh_ledger, read_cursor
from tasks.customer_sync import report_accounting_edits, write_back_customers
from tasks.customers import HANDOFF, ensure_customers
from tasks.extract import flatten
from tasks.record import raise_exceptions
from tasks.run_record import handoff_run
from tasks.ops_alerts import ALERT_HOOKS

ACCOUNTING_CURSOR = f"{HANDOFF}:accounting"


@flow(name=HANDOFF, log_prints=False, **ALERT_HOOKS)
def contact_to_accounting_contact(tenant: str = "demo", only_retries: bool = False) -> dict:
    """Create or update accounting contacts from finance-ready CRM companies; ids both ways.
    `only_retries` re-processes just the companies set to retry (`ledgerlink exceptions retry --now`)."""
    logger = get_run_logger()
    with handoff_run(tenant, HANDOFF) as ctx:
        spec = ctx.customer_spec
        properties = sorted({path.split(".", 1)[1] for path in spec.fields_for(ctx.tenant.crm.system).values()
                             if path.startswith("company.")} - {"id"})
        retry = [item.record_id for item in ctx.store.exceptions.list(tenant, HANDOFF, status="retrying", limit=5_000)]
        if retry:
            logger.info("re-processing %d compan(ies) marked for retry", len(retry))
            outcome = _process(ctx, spec, list(ctx.crm.batch_read(spec.source.object, retry, properties).values()))
            ctx.counts["retried"] += len(retry)
            ctx.store.exceptions.resolve(tenant, HANDOFF, [cid for cid in retry if cid not in outcome.problems],
                                         only_from=("retrying",))  # not raised again
        if not only_retries:
            _report_accounting_edits(ctx)
            cursor = read_cursor(ctx, HANDOFF)
            for number, page in enumerate(ctx.crm.search_modified_since(spec.source.object, cursor.at_ms, properties),
                                          start=1):
                page = fresh_crm(ctx, cursor, spec.source.object, page)
                ctx.counts["companies_read"] += len(page)
                _process(ctx, spec, page)
                cursor = advance_crm_cursor(ctx, HANDOFF, spec.source.object, page, cursor)
                logger.info("page %d: %d companies", number, len(page))
    return ctx.report.as_dict()


def _process(ctx, spec, companies: list[dict]):
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
