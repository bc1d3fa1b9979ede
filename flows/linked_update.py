"""Flows for `update-linked` handoffs. `payment-to-crm` is one; `declared-handoff` runs any such
spec by name or path, so a new handoff of this kind needs a YAML file and no flow code.

    records set to retry → revisit records whose declared date has come → each page of source records changed since the
    cursor → update-linked-records → cursor moves after the page's writes are durable → report.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from ledgerlink import transforms
from tasks.cursors import Window, advance_ledger_cursor, fresh_ledger, ledger_stamp, read_cursor
from tasks.linked_update import update_linked
from tasks.ops_alerts import ALERT_HOOKS
from tasks.run_record import handoff_run

READERS = {  # (system, object) -> how to read changed records and records by id (linked_spec.SUPPORTED_SOURCES)
    ("accounting", "invoices"): ("invoices_modified_since", "invoices_by_ids"),
}


def run_linked_update(handoff: str, tenant: str, only_retries: bool = False, dry_run: bool = False,
                      backfill_since: date | None = None, backfill_until: date | None = None) -> dict:
    with handoff_run(tenant, handoff, dry_run=dry_run) as ctx:
        spec = ctx.spec
        if spec.kind != "update-linked":
            raise ValueError(f"{handoff} is a {spec.kind} handoff, not update-linked")
        source = ctx.accounting if spec.source.system == "accounting" else ctx.crm
        changed, by_id = (getattr(source, name) for name in READERS[(spec.source.system, spec.source.object)])
        if backfill_since is not None:  # history only: no retries, revisits or followed changes
            read_window(ctx, changed, Window.backfill(spec.name, backfill_since, backfill_until, ctx.tz))
        else:
            retry_records(ctx, by_id)
            if not only_retries:
                read_changes(ctx, changed, by_id)
    return ctx.report.as_dict()


def read_changes(ctx, changed, by_id) -> None:
    """Records whose revisit date has come, records touched by followed changes, then every page of
    records changed since the cursor."""
    logger = get_run_logger()
    spec, tenant = ctx.spec, ctx.tenant.name
    due = ctx.store.sync_states.due(tenant, spec.name, transforms.today(ctx.tz))
    if due:
        logger.info("revisiting %d record(s) whose declared date has come", len(due))
        update_linked(quote(ctx), quote(by_id(due)))
    for kind in spec.follow:  # payments and credit notes change invoices: re-read those invoices
        _follow(ctx, kind, by_id)
    read_window(ctx, changed, Window(spec.name))


def read_window(ctx, changed, window: Window) -> None:
    """Every page of source records changed since the window's cursor, up to its end."""
    logger = get_run_logger()
    cursor = window.start(ctx)
    for number, page in enumerate(changed(cursor.since), start=1):
        page, ended = window.within(fresh_ledger(cursor, page), ledger_stamp)
        ctx.counts["records_read"] += len(page)
        update_linked(quote(ctx), quote(page))
        cursor = advance_ledger_cursor(ctx, window.key, page, cursor)  # the page's writes are durable
        logger.info("page %d: %d records, %d updated so far", number, len(page), ctx.counts["records_updated"])
        if ended:
            break


def retry_records(ctx, by_id) -> None:
    """Records set to retry (`ledgerlink exceptions retry`) are read by id and go through again; an
    item whose record now goes through (or has nothing to change) is resolved."""
    ids = [item.record_id for item in ctx.store.exceptions.list(ctx.tenant.name, ctx.spec.name, status="retrying",
                                                                  limit=5_000)]
    if not ids:
        return
    get_run_logger().info("re-processing %d record(s) marked for retry", len(ids))
    update_linked(quote(ctx), quote(by_id(ids)))
    ctx.counts["retried"] += len(ids)
    ctx.store.exceptions.resolve(ctx.tenant.name, ctx.spec.name, ids, only_from=("retrying",))


FOLLOWERS = {"payments": "payments_modified_since", "credit_notes": "credit_notes_modified_since"}


def _follow(ctx, kind: str, by_id) -> None:
    """Read `kind` changed since its own cursor; re-read (by id) the invoices those changes touch."""
    key = f"{ctx.spec.name}:{kind}"
    cursor = read_cursor(ctx, key)
    for page in getattr(ctx.accounting, FOLLOWERS[kind])(cursor.since):
        page = fresh_ledger(cursor, page)
        ids = sorted({invoice_id for change in page for invoice_id in change.invoice_ids})
        ctx.counts[f"{kind}_read"] += len(page)
        if ids:
            update_linked(quote(ctx), quote(by_id(ids)))
        cursor = advance_ledger_cursor(ctx, key, page, cursor)


@flow(name="payment-to-crm", log_prints=False, **ALERT_HOOKS)
def payment_to_crm(tenant: str = "demo", only_retries: bool = False, dry_run: bool = False,
                   backfill_since: date | None = None, backfill_until: date | None = None) -> dict:
    """Invoice payment status, amounts and paid date onto the linked CRM deals; `only_retries`
    re-processes just the records set to retry; `dry_run` returns the plan, writing nothing;
    `backfill_since`/`_until` bring invoices changed in those days up to date on a cursor of their own."""
    return run_linked_update("payment-to-crm", tenant, only_retries, dry_run, backfill_since, backfill_until)


@flow(name="declared-handoff", log_prints=False, **ALERT_HOOKS)
def declared_handoff(handoff: str, tenant: str = "demo", only_retries: bool = False, dry_run: bool = False,
                     backfill_since: date | None = None, backfill_until: date | None = None) -> dict:
    """Any update-linked handoff, by spec name (flows/specs) or path: no flow code per handoff."""
    return run_linked_update(handoff, tenant, only_retries, dry_run, backfill_since, backfill_until)
