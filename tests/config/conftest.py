"""Tenant `acme` on a seeded HubSpot + Xero sandbox pair with a throw-away store and home, its
tenants file rewritten by the test (overrides, require_checked_config) as a person would edit it."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml


class Acme:
    def __init__(self, home: Path, pair, crm: dict, accounting: dict):
        self.home, self.pair, self.crm, self.accounting = home, pair, crm, accounting
        self.tenants_file = home / "tenants.yaml"

    def configure(self, **settings) -> None:
        """Write the tenants file: acme on the sandboxes, plus `settings` (overrides, …)."""
        body = {"crm": self.crm, "accounting": self.accounting, "currencies": ["ZAR", "USD"],
                "rate_limits": False, **settings}
        self.tenants_file.write_text("# acme, as its integrator configured it\n"
                                     + yaml.safe_dump({"tenants": {"acme": body}}, sort_keys=False))

    def tenant(self):
        from ledgerlink.tenants import load_tenants

        return load_tenants(self.tenants_file)["acme"]

    def versions(self, handoff: str = "won-deal-to-invoice"):
        from ledgerlink.config_versions import versions_for

        return versions_for(self.tenant(), handoff)

    def run(self) -> dict:
        from flows.won_deal_to_invoice import won_deal_to_invoice

        return won_deal_to_invoice(tenant="acme")

    def store(self):
        from ledgerlink.store import open_store

        return open_store()

    def win(self, deal_id: str) -> None:
        """Sales marks an open deal won today (through the CRM's API, as a salesperson's edit)."""
        response = httpx.patch(f"{self.crm['base_url']}/crm/v3/objects/deals/{deal_id}", timeout=10,
                               headers={"Authorization": f"Bearer {os.environ['ACME_HUBSPOT_TOKEN']}"},
                               json={"properties": {"dealstage": "closedwon",
                                                    "closedate": f"{date.today().isoformat()}T00:00:00.000Z"}})
        response.raise_for_status()

    def open_deal_of_a_customer(self, store) -> str:
        """An open deal whose company is already an accounting contact, so it can be invoiced at once."""
        state = self.pair.crm.state
        customers = set(store.links.for_crm_ids("acme", "customer", [str(c) for c in state.companies.objects]))
        for deal in sorted(state.deals.objects.values(), key=lambda d: int(d.id)):
            if deal.props.get("dealstage") in ("closedwon", "closedlost") or deal.archived:
                continue
            companies = {str(t[0]) for t in state.associations.targets("deals", int(deal.id), "companies")}
            if companies & customers and state.associations.targets("deals", int(deal.id), "line_items"):
                return str(deal.id)
        raise AssertionError("the seed has no open deal of an invoiced customer")


@pytest.fixture
def acme(tmp_path, monkeypatch, prefect_server):
    from connectors.ratelimit import REGISTRY
    from connectors.sandbox.pairs import start_pair

    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("LEDGERLINK_TENANTS", str(tmp_path / "tenants.yaml"))
    REGISTRY.clear()  # a fresh sandbox is a fresh vendor budget
    pair = start_pair("hubspot", "xero", seed=42, limits=False)
    crm, accounting, secrets = pair.tenant_connections("ACME")
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    tenant = Acme(tmp_path, pair, crm, accounting)
    tenant.configure()
    yield tenant
    pair.stop(save=False)
