"""Flow `approval-deadlines` (scheduled): reminders, escalations and timeouts of pending approvals,
for every handoff of a tenant that declares review rules. See tasks.approval_deadlines."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from ledgerlink.spec import load_spec
from ledgerlink.store import open_store
from ledgerlink.tenants import load_tenants, tenants_path
from tasks.approval_deadlines import sweep
from tasks.connect import handoff_context
from tasks.ops_alerts import ALERT_HOOKS


@flow(name="approval-deadlines", validate_parameters=True, **ALERT_HOOKS)
def approval_deadlines(tenant: str = "demo") -> dict:
    logger = get_run_logger()
    store = open_store()
    tenants = load_tenants(tenants_path())
    summary = {}
    for handoff in tenants[tenant].handoffs:
        if getattr(load_spec(handoff), "review", None) is None:
            continue
        ctx = handoff_context(tenant, handoff, run_id=str(flow_run.id) if flow_run.id else None,
                              tenants=tenants, store=store)
        try:
            summary[handoff] = dict(sweep(ctx))
        finally:
            ctx.close()
        logger.info("%s: %s", handoff, summary[handoff] or "nothing due")
    return summary
