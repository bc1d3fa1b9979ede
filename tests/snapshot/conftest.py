"""A sandbox pair with books worth a backup: the seeded CRM and accounting records plus three
invoices created through the accounting connector and one of them part-paid, as a go-live
rehearsal would leave them. Real HTTP on loopback; nothing is mocked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

PAIRS = [("hubspot", "xero"), ("pipedrive", "quickbooks")]
TENANT = "books"


@dataclass
class Books:
    pair: object  # connectors.sandbox.pairs.SandboxPair
    tenant: object  # ledgerlink.tenants.Tenant
    home: object  # the data folder (LEDGERLINK_HOME)
    invoice_numbers: list[str]


def _invoices(tenant, store) -> list[str]:
    """Three authorised invoices for seeded customers, through the connector as a handoff would."""
    from ledgerlink.model import Invoice, InvoiceLine, Party, TaxTreatment
    from ledgerlink.money import Money
    from ledgerlink.spec import load_spec
    from tasks.connect import accounting_connector

    rules = load_spec("won-deal-to-invoice").invoice.for_system(tenant.accounting.system)
    with accounting_connector(tenant, store) as books:
        codes = {rate.name: rate.code for rate in books.tax_rates()} | {r.code: r.code for r in books.tax_rates()}
        contacts = [c for page in books.contacts_modified_since(None) for c in page][:3]
        invoices = [Invoice(deal_id=str(n), reference=f"DEAL-SNAP{n}", customer=Party(c.name, accounting_id=c.id),
                            currency="ZAR", issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2),
                            lines=(InvoiceLine("Irrigation survey", Decimal("2"), Money.of("1250.00", "ZAR"),
                                               Decimal(0), TaxTreatment.STANDARD, Decimal("0.15"),
                                               codes[rules.tax_types[TaxTreatment.STANDARD]],
                                               rules.account_code),))
                    for n, c in enumerate(contacts, start=1)]
        results = books.create_invoices(invoices, "snapshot-test-setup")
    assert all(r.ok for r in results), results
    return [r.number for r in results]


@pytest.fixture(params=PAIRS, ids=lambda pair: "+".join(pair))
def books(request, tmp_path, monkeypatch):
    from connectors.ratelimit import REGISTRY
    from connectors.sandbox.pairs import start_pair
    from flows.demo import demo_tenants_file
    from ledgerlink.store import open_store
    from ledgerlink.tenants import load_tenants

    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("LEDGERLINK_TENANTS", "")  # set by demo_tenants_file, removed after the test
    REGISTRY.clear()
    pair = start_pair(*request.param, seed=42, limits=False)
    try:
        tenant = load_tenants(demo_tenants_file(tmp_path, pair, rate_limits=False, tenant=TENANT))[TENANT]
        store = open_store()
        numbers = _invoices(tenant, store)
        currency, due = pair.accounting.invoice(numbers[0])
        pair.accounting.pay(numbers[0], (due / 2).quantize(Decimal("0.01")), date(2026, 11, 20))
        _expire_access_token(store, tenant.accounting.system)
        pair.reset_stats()
        yield Books(pair, tenant, tmp_path, numbers)
    finally:
        pair.stop(save=False)


def _expire_access_token(store, vendor: str) -> None:
    """The next call must refresh: the accounting system then rotates the refresh token."""
    row = store.tokens.load(TENANT, vendor)
    store.tokens.save(TENANT, vendor, row.access_token, row.refresh_token, datetime(2000, 1, 1, tzinfo=timezone.utc))
