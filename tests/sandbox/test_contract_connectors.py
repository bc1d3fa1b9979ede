"""Every request ledgerlink's own connectors send on the spine's path, validated against the
vendors' official OpenAPI documents (the sandbox contract tests cover the responses).

The connectors run unchanged; a recording transport keeps each real exchange for checking.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import httpx
import pytest

from ledgerlink.model import Address, Invoice, InvoiceLine, Party, TaxTreatment
from ledgerlink.money import Money

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

HUBSPOT_SPECS = {"deals": ("hubspot/deals.v3.json", "0-3"), "companies": ("hubspot/companies.v3.json", None),
                 "line_items": ("hubspot/line_items.v3.json", None)}


class Recording(httpx.HTTPTransport):
    def __init__(self):
        super().__init__()
        self.exchanges: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.exchanges.append(httpx.Response(response.status_code, headers=response.headers,
                                             content=response.content, request=request))
        return response


def _hubspot_spec(path: str) -> tuple[str, str]:
    if path.startswith("/crm/v4/associations"):
        return "hubspot/associations.v4.json", path
    object_type = path.split("/")[4]
    spec, alias = HUBSPOT_SPECS[object_type]
    return spec, path.replace(f"/objects/{object_type}", f"/objects/{alias}") if alias else path


def test_every_connector_request_on_the_spine_matches_the_official_specs(fresh, spec_check):
    from connectors.hubspot import HubSpotConnector
    from connectors.oauth import InMemoryTokenStore, TokenSet
    from connectors.xero import XeroConnector

    sb = fresh(seed=42, limits=False)
    recorder = Recording()
    hubspot = HubSpotConnector(sb.hubspot_url, sb.hubspot_token, "contract", transport=recorder, limits=None)
    xero = XeroConnector(sb.xero_api_url, sb.xero_tenant_id, InMemoryTokenStore(), sb.xero_client_id,
                         sb.xero_client_secret, sb.xero_token_url, "contract", transport=recorder, limits=None)
    expired = datetime(2000, 1, 1, tzinfo=timezone.utc)  # forces the real refresh-token exchange first
    xero.auth.store.save("contract", "xero", TokenSet.of("", sb.xero_refresh_token, expired))

    deals = next(iter(hubspot.search_modified_since("deals", 0, ["dealname", "amount", "dealstage"], 50)))
    ids = [d["id"] for d in deals]
    companies = hubspot.read_associations("deals", "companies", ids)
    lines = hubspot.read_associations("deals", "line_items", ids)
    hubspot.batch_read("companies", sorted({c[0] for c in companies.values() if c}), ["name", "vat_number"])
    hubspot.batch_read("line_items", sorted({l for ls in lines.values() for l in ls}), ["name", "price"])
    hubspot.batch_update("deals", {ids[0]: {"ledgerlink_invoice_number": "INV-9999"}})

    xero.tax_rates()
    party = Party("Contract Test Traders (Pty) Ltd", crm_id="contract-1", email="accounts@contract.example.co.za",
                  vat_number="4000000001", currency="ZAR", payment_terms_days=30,
                  address=Address("1 Long Street", "Cape Town", "8001", "South Africa"))
    [contact] = xero.create_contacts([party], "contract-contacts-1")
    xero.find_contacts_by_crm_id(["contract-1"])
    line = InvoiceLine("Bell tent", Decimal("2"), Money.of("8999.00", "ZAR"), Decimal("10"), TaxTreatment.STANDARD,
                       Decimal("0.15"), "OUTPUT3", "200")
    invoice = Invoice("d-1", "DEAL-contract-1", Party(party.name, crm_id="contract-1", accounting_id=contact.target_id),
                      "ZAR", date(2026, 11, 1), date(2026, 12, 1), (line,))
    [created] = xero.create_invoices([invoice], "contract-invoices-1")
    assert created.ok and contact.ok
    xero.find_invoices_by_reference(["DEAL-contract-1"])

    checked = 0
    for exchange in recorder.exchanges:
        path = exchange.request.url.path
        if path == "/connect/token":
            continue  # OAuth token endpoint: not part of the Accounting API document
        if exchange.request.url.port == httpx.URL(sb.hubspot_url).port:
            spec, spec_path = _hubspot_spec(path)
            spec_check(spec, "https://api.hubapi.com", exchange, path=spec_path, check_response=False)
        else:
            spec_check("xero/xero_accounting.yaml", "https://api.xero.com",
                       exchange, path=path, check_response=False)
        checked += 1
    assert checked >= 11
