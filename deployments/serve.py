"""Serve every handoff for every tenant in the tenants file from one process — a small business's
whole installation: `python -m deployments.serve`. Schedules are in Africa/Johannesburg time."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.approval_deadlines import approval_deadlines
from flows.contact_to_accounting_contact import contact_to_accounting_contact
from flows.linked_update import payment_to_crm
from flows.ops_alerts import exception_digest, watchdog
from flows.reconciliation import reconciliation
from flows.review_approval import review_approval
from flows.won_deal_to_invoice import won_deal_to_invoice
from ledgerlink.tenants import load_tenants, tenants_path
from tasks.approval_runs import APPROVAL_FLOW

SCHEDULES = {  # handoff -> (flow, cron)
    "contact-to-accounting-contact": (contact_to_accounting_contact, "*/15 * * * *"),
    "won-deal-to-invoice": (won_deal_to_invoice, "*/5 * * * *"),
    "payment-to-crm": (payment_to_crm, "*/15 * * * *"),
}


RECONCILIATION_CRON = "30 1 * * *"  # nightly, after the day's handoffs and before finance starts


def deployments_for_tenants():
    deployments = []
    for name, tenant in load_tenants(tenants_path()).items():
        for handoff in tenant.handoffs:
            flow, cron = SCHEDULES[handoff]
            deployments.append(flow.to_deployment(
                name=f"{handoff}-{name}",
                parameters={"tenant": name},
                schedule=Cron(cron, timezone="Africa/Johannesburg"),
                concurrency_limit=1,  # one run per tenant and handoff at a time
                tags=[f"tenant:{name}", f"handoff:{handoff}"],
                description=f"{handoff} for tenant {name}",
            ))
        deployments += approval_deployments(name)
        deployments.append(reconciliation.to_deployment(
            name=f"reconciliation-{name}", parameters={"tenant": name},
            schedule=Cron(RECONCILIATION_CRON, timezone="Africa/Johannesburg"), concurrency_limit=1,
            tags=[f"tenant:{name}", "handoff:reconciliation"], description=f"nightly reconciliation for {name}"))
        for ops_flow, cron in ((watchdog, "5 * * * *"), (exception_digest, "0 7 * * 1-5")):
            deployments.append(ops_flow.to_deployment(
                name=f"{ops_flow.name}-{name}", parameters={"tenant": name},
                schedule=Cron(cron, timezone="Africa/Johannesburg"), concurrency_limit=1,
                tags=[f"tenant:{name}", "ops"], description=f"{ops_flow.name} for {name}"))
    return deployments


def approval_deployments(tenant: str) -> list:
    """Review items run as `review-approval-<tenant>` (started per item by the handoff, suspended
    while they wait) and the deadline sweep every 15 minutes."""
    return [
        review_approval.to_deployment(name=f"{APPROVAL_FLOW}-{tenant}", tags=[f"tenant:{tenant}", "approval"],
                                      description=f"one review item of tenant {tenant} waiting for finance"),
        approval_deadlines.to_deployment(
            name=f"approval-deadlines-{tenant}", parameters={"tenant": tenant},
            schedule=Cron("*/15 * * * *", timezone="Africa/Johannesburg"), concurrency_limit=1,
            tags=[f"tenant:{tenant}", "approval"], description=f"approval reminders and timeouts for {tenant}"),
    ]


if __name__ == "__main__":  # pragma: no cover - long-running server process
    serve(*deployments_for_tenants())
