"""A seeded HubSpot + Xero sandbox pair, a fresh SQLite store and the demo tenant wired to both,
per test — the same set-up `ledgerlink demo` uses, minus the terminal output."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest


@pytest.fixture
def spine(request, tmp_path, monkeypatch, prefect_server):
    from connectors.sandbox import start_sandboxes
    from flows.demo import demo_tenants_file

    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    from connectors.ratelimit import REGISTRY

    REGISTRY.clear()  # a fresh sandbox is a fresh vendor budget: earlier tests' calls do not count
    sandboxes = start_sandboxes(seed=42, limits=False, deals=getattr(request, "param", 60))
    for name in ("LEDGERLINK_TENANTS", "LEDGERLINK_DEMO_HUBSPOT_TOKEN", "LEDGERLINK_DEMO_XERO_CLIENT_ID",
                 "LEDGERLINK_DEMO_XERO_CLIENT_SECRET", "LEDGERLINK_DEMO_XERO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    demo_tenants_file(tmp_path, sandboxes)
    yield Spine(sandboxes)
    sandboxes.stop()


SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack(spine, tmp_path, monkeypatch):
    """The demo tenant with a Slack app pointed at a fake Slack Web API: role `finance` is user
    U0FINANCE1, role `finance-lead` the user group S0FINLEADS (member U0LEAD0001), and sales-ops
    has its own channel. The signing secret is `SLACK_SIGNING_SECRET`."""
    from connectors.slack.fake_slack import BOT_TOKEN, start_fake_slack
    from flows.demo import demo_tenants_file

    fake = start_fake_slack()
    fake.usergroups["S0FINLEADS"] = ["U0LEAD0001"]
    monkeypatch.setenv("DEMO_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("DEMO_SLACK_SIGNING_SECRET", SLACK_SIGNING_SECRET)
    demo_tenants_file(tmp_path, spine.sandboxes, rate_limits=False, slack={
        "token": "env:DEMO_SLACK_BOT_TOKEN", "signing_secret": "env:DEMO_SLACK_SIGNING_SECRET",
        "base_url": fake.base_url, "owner_channels": {"sales-ops": "#sales-ops"},
        "roles": {"finance": {"users": ["U0FINANCE1"]}, "finance-lead": {"groups": ["S0FINLEADS"]}}})
    yield fake
    fake.stop()


class Spine:
    """Test-side views of both sandboxes, read straight from their state (not through ledgerlink)."""

    def __init__(self, sandboxes):
        self.sandboxes = sandboxes
        self.hubspot = sandboxes.hubspot
        self.books = sandboxes.xero.default_books

    def run(self, **kwargs) -> dict:
        from flows.won_deal_to_invoice import won_deal_to_invoice

        return won_deal_to_invoice(tenant="demo", **kwargs)

    def pay_invoices(self, **kwargs) -> dict:
        from flows.linked_update import payment_to_crm

        return payment_to_crm(tenant="demo", **kwargs)

    def sync_contacts(self, **kwargs) -> dict:
        from flows.contact_to_accounting_contact import contact_to_accounting_contact

        return contact_to_accounting_contact(tenant="demo", **kwargs)

    def xero(self, method: str, path: str, payload: dict | None = None) -> dict:
        """A call to the Xero sandbox as another Xero user would make it (edits made in accounting)."""
        headers = {"Authorization": f"Bearer {self.sandboxes.xero_access_token()}",
                   "xero-tenant-id": self.sandboxes.xero_tenant_id}
        response = httpx.request(method, f"{self.sandboxes.xero_api_url}{path}", json=payload, headers=headers,
                                 timeout=10)
        response.raise_for_status()
        return response.json()

    def hubspot_api(self, method: str, path: str, payload: dict | None = None) -> dict:
        """A call to the HubSpot sandbox as a salesperson's edit would make it."""
        response = httpx.request(method, f"{self.sandboxes.hubspot_url}{path}", json=payload, timeout=10,
                                 headers={"Authorization": f"Bearer {self.sandboxes.hubspot_token}"})
        response.raise_for_status()
        return response.json()

    def give_discount(self, deal_id: str, percent: str) -> Decimal:
        """Sales discounts the deal's first line by `percent` and fixes the deal amount to match;
        returns the invoice total Xero should then show."""
        [first, *_] = sorted(t[0] for t in self.hubspot.associations.targets("deals", int(deal_id), "line_items"))
        self.hubspot_api("PATCH", f"/crm/v3/objects/line_items/{first}",
                         {"properties": {"hs_discount_percentage": percent}})
        cent = Decimal("0.01")
        net = sum((Decimal(line["quantity"]) * Decimal(line["price"])
                   * (100 - Decimal(line.get("hs_discount_percentage") or 0)) / 100).quantize(cent, ROUND_HALF_UP)
                  for line in self.lines(deal_id))
        self.hubspot_api("PATCH", f"/crm/v3/objects/deals/{deal_id}", {"properties": {"amount": str(net)}})
        return self.expected_total(deal_id)

    def companies(self) -> dict[str, dict]:
        return {str(c.id): c.props for c in self.hubspot.companies.objects.values() if not c.archived}

    def contacts_numbered(self, company_id: str) -> list[dict]:
        return [c for c in self.books.contacts.values() if c.get("ContactNumber") == str(company_id)]

    def invoice_for(self, deal_id: str) -> dict:
        [invoice] = self.invoices_by_reference()[f"DEAL-{deal_id}"]
        return invoice

    def store(self):
        from ledgerlink.store import open_store

        return open_store()

    def won_deals(self) -> dict[str, dict]:
        return {str(d.id): d.props for d in self.hubspot.deals.objects.values()
                if d.props.get("dealstage") == "closedwon" and not d.archived}

    def eligible_deals(self) -> dict[str, dict]:
        return {i: p for i, p in self.won_deals().items() if not p.get("ll_seed_defect")}

    def defective_deals(self) -> dict[str, str]:
        return {i: p["ll_seed_defect"] for i, p in self.won_deals().items() if p.get("ll_seed_defect")}

    def deal(self, deal_id: str) -> dict:
        return self.hubspot.deals.get(deal_id).props

    def lines(self, deal_id: str) -> list[dict]:
        targets = self.hubspot.associations.targets("deals", int(deal_id), "line_items")
        return [self.hubspot.line_items.get(t[0]).props for t in sorted(targets)]

    def invoices(self) -> list[dict]:
        return [i for i in self.books.invoices.values() if i.get("Type") == "ACCREC"]

    def invoices_by_reference(self) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for invoice in self.invoices():
            found.setdefault(invoice.get("Reference"), []).append(invoice)
        return found

    def control(self, system: str, path: str, payload=None, method: str = "POST") -> dict:
        base = self.sandboxes.hubspot_url if system == "hubspot" else self.sandboxes.xero_url
        response = httpx.request(method, f"{base}/_sandbox/{path}", json=payload, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset_stats(self) -> None:
        for system in ("hubspot", "xero"):
            self.control(system, "stats/reset")

    def stats(self, system: str) -> dict:
        return self.control(system, "stats", method="GET")

    def expected_total(self, deal_id: str) -> Decimal:
        """Independent of ledgerlink: Xero's arithmetic on HubSpot's line items (15% on group 1 only)."""
        return _expected_total(self.lines(deal_id))


def _expected_total(lines: list[dict]) -> Decimal:
    cent = Decimal("0.01")
    total = Decimal(0)
    for line in lines:
        discount = Decimal(line.get("hs_discount_percentage") or 0)
        net = (Decimal(line["quantity"]) * Decimal(line["price"]) * (100 - discount) / 100).quantize(cent, ROUND_HALF_UP)
        vat = (net * Decimal("0.15")).quantize(cent, ROUND_HALF_UP) if line.get("hs_tax_rate_group_id") == "1" else 0
        total += net + vat
    return total
