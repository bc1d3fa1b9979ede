"""Serve every handoff for every tenant in the tenants file from one process — a small business's
whole installation: `python -m deployments.serve`. Schedules are in Africa/Johannesburg time."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.contact_to_accounting_contact import contact_to_accounting_contact
from flows.linked_update import payment_to_crm
from flows.won_deal_to_invoice import won_deal_to_invoice
from ledgerlink.tenants import load_tenants, tenants_path

SCHEDULES = {  # handoff -> (flow, cron)
    "contact-to-accounting-contact": (contact_to_accounting_contact, "*/15 * * * *"),
    "won-deal-to-invoice": (won_deal_to_invoice, "*/5 * * * *"),
    "payment-to-crm": (payment_to_crm, "*/15 * * * *"),
}


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
    return deployments


if __name__ == "__main__":  # pragma: no cover - long-running server process
    serve(*deployments_for_tenants())
