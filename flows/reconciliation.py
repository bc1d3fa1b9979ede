"""Flow `reconciliation` (nightly): do the CRM and accounting agree, and is the integration healthy?

    stage both sides page by page into a scratch SQLite file (bounded memory) → the checks
    (tasks.recon_checks) → the safe fixes the spec declares (each audited; everything else is
    only reported) → CSV + self-contained HTML under the reports folder, Prefect artifacts, and a
    Slack summary to finance when a threshold is crossed → health figures for the period.
"""

from __future__ import annotations

from datetime import datetime, timezone

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from ledgerlink import settings
from ledgerlink.ledger import active_tax_codes
from ledgerlink.recon_report import (Discrepancy, ReconSummary, crosses_threshold, markdown_summary,
                                     slack_summary, write_csv, write_html)
from ledgerlink.spec import load_spec
from tasks.approval_slack import run_url, slack_client
from tasks.extract import deal_properties
from tasks.recon_checks import register_functions, run_checks, stuck_findings
from tasks.recon_fixes import relink_exact_reference, repush_payment_status
from tasks.recon_health import health
from tasks.recon_stage import (open_scratch, stage_contacts, stage_deals, stage_invoices, stage_links,
                               stage_waiting)
from tasks.run_record import handoff_run
from tasks.ops_alerts import ALERT_HOOKS

NAME = "reconciliation"


@task(name="stage-both-sides", cache_policy=NO_CACHE)
def stage(ctx, db, invoice_spec, payment_spec) -> dict[str, int]:
    """Deals, invoices, contacts and links into the scratch database, one page at a time."""
    read = {"deals": 0, "invoices": 0, "contacts": 0, "links": 0}
    invoice_rules = invoice_spec.invoice.for_system(ctx.tenant.accounting.system)
    mapping = invoice_spec.mapping_for(ctx.tenant.crm.system)
    won = {stage for stage, status in mapping.stages.items() if status.value == "won"}
    crm_properties = sorted(payment_spec.properties)
    for page in ctx.crm.search_modified_since("deals", 0, sorted(set(deal_properties(mapping)) | set(crm_properties)),
                                              200):
        stage_deals(db, page, mapping, won, crm_properties)
        read["deals"] += len(page)
    active = active_tax_codes(ctx.accounting.tax_rates())
    rates = {rate.code: rate.rate for rate in active.values()}
    expected = {active[name].code for name in invoice_rules.tax_types.values() if name in active}
    for page in ctx.accounting.invoices_modified_since(None):
        stage_invoices(db, page, rates, expected, payment_spec, ctx.tz)
        read["invoices"] += len(page)
    for page in ctx.accounting.contacts_modified_since(None):
        stage_contacts(db, page)
        read["contacts"] += len(page)
    stage_waiting(db, ctx.store.exceptions.list(ctx.tenant.name, invoice_spec.name, status="open", limit=1_000_000))
    for page in ctx.store.links.pages(ctx.tenant.name, "invoice"):
        stage_links(db, "link", page)
        read["links"] += len(page)
    for page in ctx.store.links.pages(ctx.tenant.name, "customer"):
        stage_links(db, "customer_link", [(crm_id, accounting_id) for crm_id, accounting_id, _ in page])
    deal_ids = [row[0] for row in db.execute("SELECT id FROM deal ORDER BY id")]
    for start in range(0, len(deal_ids), 1000):  # each deal's company: customer balances and date-window matches
        found = ctx.crm.read_associations("deals", "companies", deal_ids[start:start + 1000])
        db.executemany("INSERT OR REPLACE INTO deal_company VALUES (?, ?)",
                       [(deal_id, ids[0]) for deal_id, ids in found.items() if ids])
    return read


def findings(db):
    for row in db.execute("SELECT cls, severity, record_type, crm_id, accounting_id, invoice_number, detail, action, "
                          "fixed FROM finding ORDER BY cls, seq"):
        yield Discrepancy(*row[:8], fixed=bool(row[8]))


@flow(name=NAME, validate_parameters=True, **ALERT_HOOKS)
def reconciliation(tenant: str = "demo", fix: bool = True) -> dict:
    """Compare the tenant's CRM and accounting; `fix=False` reports only (no safe fixes)."""
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    with handoff_run(tenant, NAME) as ctx:
        spec = ctx.spec
        invoice_spec, payment_spec = load_spec(spec.invoices_from), load_spec(spec.payments_from)
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        db = open_scratch(settings.home() / "tmp" / f"reconciliation-{tenant}-{stamp}.sqlite")
        try:
            register_functions(db)
            read = stage(quote(ctx), quote(db), quote(invoice_spec), quote(payment_spec))
            run_checks(db, spec, invoice_spec.invoice.reference, started)
            stuck_findings(db, spec, ctx.store, tenant, started)
            fixed = {}
            if fix and "relink_exact_reference" in spec.safe_fixes:
                fixed["link_missing"] = relink_exact_reference(ctx, db)
            if fix and "repush_payment_status" in spec.safe_fixes:
                fixed["status_mismatch"] = repush_payment_status(ctx, db, spec.payments_from)
            counts = dict(db.execute("SELECT cls, count(*) FROM finding GROUP BY cls").fetchall())
            summary = ReconSummary(
                tenant=tenant, started_at=started, finished_at=datetime.now(timezone.utc), counts=counts,
                fixed={cls: n for cls, n in fixed.items() if n}, severities={cls: spec.severity(cls) for cls in counts},
                records_read=read, run_url=run_url(ctx.run_id),
                health=health(ctx.store, db, tenant, ctx.tenant.currencies[0], started))
            folder = settings.home() / "reports"
            csv_path = folder / f"reconciliation-{tenant}-{stamp}.csv"
            html_path = folder / f"reconciliation-{tenant}-{stamp}.html"
            write_csv(csv_path, findings(db))
            write_html(html_path, summary, findings(db))
            publish(ctx, summary, spec)
            ctx.counts.update({f"recon_{cls}": n for cls, n in counts.items()})
            ctx.counts.update({f"recon_fixed_{cls}": n for cls, n in summary.fixed.items()})
            logger.info("reconciliation of %s: %s; report %s", tenant, counts or "no discrepancies", html_path)
        finally:
            db.close()
            (settings.home() / "tmp" / f"reconciliation-{tenant}-{stamp}.sqlite").unlink(missing_ok=True)
    return {"tenant": tenant, "counts": counts, "fixed": summary.fixed, "read": read, "health": summary.health,
            "csv": str(csv_path), "html": str(html_path), "alerted": ctx.counts.get("recon_alerted", 0) > 0}


def publish(ctx, summary: ReconSummary, spec) -> None:
    """Prefect artifacts always; Slack only when a declared threshold is crossed."""
    key = f"reconciliation-{summary.tenant}".lower()
    create_table_artifact(key=key, table=[
        {"class": cls, "severity": summary.severities.get(cls, ""), "found": n, "fixed": summary.fixed.get(cls, 0)}
        for cls, n in sorted(summary.counts.items())] or [{"class": "none", "severity": "", "found": 0, "fixed": 0}],
        description=f"reconciliation of {summary.tenant}")
    create_markdown_artifact(key=f"{key}-summary", markdown=markdown_summary(summary))
    reasons = crosses_threshold(summary, spec.thresholds)
    client = slack_client(ctx.tenant) if reasons and spec.slack_channel else None
    if client is not None:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            client.chat_postMessage(channel=spec.slack_channel, text=slack_summary(summary, summary.run_url))
            ctx.counts["recon_alerted"] = 1
        except (SlackApiError, SlackClientError, OSError) as error:
            get_run_logger().warning("could not send the reconciliation summary to Slack: %s", type(error).__name__)
