"""Serve won-deal-to-invoice for every tenant in the tenants file from one process (a small business's
whole installation): `python -m deployments.serve`. Runs every 5 minutes, Johannesburg time."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.won_deal_to_invoice import won_deal_to_invoice
from ledgerlink.tenants import load_tenants, tenants_path

WON_DEALS_EVERY = "*/5 * * * *"


def deployments_for_tenants():
    tenants = load_tenants(tenants_path())
    return [
        won_deal_to_invoice.to_deployment(
            name=f"won-deal-to-invoice-{name}",
            parameters={"tenant": name},
            schedule=Cron(WON_DEALS_EVERY, timezone="Africa/Johannesburg"),
            concurrency_limit=1,
            tags=[f"tenant:{name}", "handoff:won-deal-to-invoice"],
            description=f"Won deals → invoices for tenant {name}",
        )
        for name, tenant in tenants.items()
        if "won-deal-to-invoice" in tenant.handoffs
    ]


if __name__ == "__main__":  # pragma: no cover - long-running server process
    serve(*deployments_for_tenants())
