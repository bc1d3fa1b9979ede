"""Xero for the contract suite: the Xero emulator, OAuth with rotating refresh tokens, and an
accountant's edits over the Accounting API (payments through the books, as a bank feed would)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping

from connectors.http import RetryPolicy
from connectors.loopback import LoopbackServer
from connectors.ratelimit import XERO_LIMITS, RateLimits
from connectors.sandbox.xero_app import build_xero_app
from connectors.sandbox.xero_state import XeroState
from connectors.xero import XeroConnector
from ledgerlink.model import Invoice, InvoiceLine, Party, TaxTreatment
from ledgerlink.money import Money

from .harness import RecordingTokenStore, unique
from .harness_oauth import OAuthAccountingHarness

API = "/api.xro/2.0"
TIGHT_PER_MINUTE = 8  # the organisation's minute budget in pacing tests: far below Xero's 60
COLLECTIONS = {"invoices": ("invoices", "Invoices"), "contacts": ("contacts", "Contacts"),
               "payments": ("payments", "Payments")}


class XeroHarness(OAuthAccountingHarness):
    vendor = "xero"
    control_name = "xero"
    token_path = "/connect/token"
    capabilities = frozenset({"oauth_refresh", "idempotency_key", "remaining_headers", "payments"})
    why_not = {"skips_unchanged_writes": "Xero creates take no 'unchanged' shortcut",
               "token_budget": "Xero counts calls per minute and day, not token costs"}
    time_scale = 120.0  # Xero's windows are a minute: 0.5 s under compression
    read_path = f"{API}/TaxRates"

    def start(self, *, tight: bool = False, **options: Any) -> None:
        self.state = XeroState()
        self.state.limit_settings.enabled = False
        limits = {"per_minute": TIGHT_PER_MINUTE} if tight else {}
        self.server = LoopbackServer(build_xero_app(self.state, **limits), "contract-xero").start()
        self.url = self.server.url
        self.stores: dict[int, RecordingTokenStore] = {}
        for kind in self.kinds:
            self.create(kind, 6)

    def _stop_sandbox(self) -> None:
        self.server.stop()

    def _build_connector(self, tenant: str, limits: Mapping[str, RateLimits] | None,
                         retry: RetryPolicy) -> XeroConnector:
        store = RecordingTokenStore(lambda: self.calls_to(API))
        store.save(tenant, "xero", self._tokens())
        connector = XeroConnector(f"{self.url}{API}", self.state.default_tenant_id, store,
                                  self.state.auth.client_id, self.state.auth.client_secret,
                                  f"{self.url}/connect/token", tenant, limits=limits, retry=retry)
        self.stores[id(connector)] = store
        return connector

    def _tokens(self) -> Any:
        from connectors.oauth import TokenSet
        return TokenSet.of(self.state.auth.issue_access_token()[0], self.state.auth.current_refresh_token,
                           datetime.now(timezone.utc) + timedelta(minutes=30))

    def client_budget(self, time_scale: float) -> Mapping[str, RateLimits]:
        return {bucket: budget.scaled(1 / time_scale) for bucket, budget in XERO_LIMITS.items()}

    # ---- the accountant's side -------------------------------------------------------------
    def _api(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}{API}{path}", json=body, headers={
            "Authorization": f"Bearer {self.state.auth.issue_access_token()[0]}",
            "xero-tenant-id": self.state.default_tenant_id})
        assert response.status_code < 300, response.text
        return response.json()

    def create(self, kind: str, count: int) -> list[str]:
        if kind == "contacts":
            body = {"Contacts": [{"Name": unique("Karoo Traders"), "ContactNumber": unique("crm")}
                                 for _ in range(count)]}
            return [c["ContactID"] for c in self._api("PUT", "/Contacts", body)["Contacts"]]
        if kind == "invoices":
            contact = self.customer().accounting_id
            body = {"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": contact}, "Date": "2026-11-02",
                                  "DueDate": "2026-12-02", "Status": "AUTHORISED", "Reference": unique("LL"),
                                  "LineItems": [{"Description": "Survey", "Quantity": 1, "UnitAmount": 1000,
                                                 "TaxType": "OUTPUT3", "AccountCode": "200"}]}
                                 for _ in range(count)]}
            return [i["InvoiceID"] for i in self._api("PUT", "/Invoices", body)["Invoices"]]
        invoices = self.create("invoices", 1) * count
        books = self.state.default_books
        return [books.pay(invoice, Decimal("10.00"), date(2026, 11, 20))["PaymentID"] for invoice in invoices]

    def touch(self, kind: str, ids: list[str]) -> None:
        for record_id in ids:
            if kind == "contacts":
                self._api("POST", f"/Contacts/{record_id}",
                          {"Contacts": [{"ContactID": record_id, "Name": unique("Renamed")}]})
            elif kind == "invoices":
                self._api("POST", f"/Invoices/{record_id}",
                          {"Invoices": [{"InvoiceID": record_id, "Reference": unique("LL")}]})
            else:
                self.state.default_books.reverse_payment(record_id)

    def changes_since(self, kind: str, since_ms: int) -> dict[str, int]:
        collection, _ = COLLECTIONS[kind]
        with self.state.lock:
            rows = self.state.default_books.records[collection].items()
            return {key: row["_updated_ms"] for key, row in rows if row["_updated_ms"] >= since_ms
                    and (kind != "invoices" or row.get("Type") == "ACCREC")
                    and (kind != "contacts" or row.get("ContactStatus") != "ARCHIVED")}

    def count(self, kind: str) -> int:
        return len(self.changes_since(kind, 0))

    def customer(self) -> Party:
        crm_id = unique("crm")
        [made] = self._api("PUT", "/Contacts", {"Contacts": [{"Name": f"Karoo {crm_id}",
                                                              "ContactNumber": crm_id}]})["Contacts"]
        return Party(name=made["Name"], crm_id=crm_id, accounting_id=made["ContactID"])

    def invoice(self, customer: Party, tax_type: str = "OUTPUT3") -> Invoice:
        line = InvoiceLine(description="Irrigation survey", quantity=Decimal("1.5"),
                           unit_price=Money.of("1234.5678", "ZAR"), discount_percent=Decimal("10"),
                           tax_treatment=TaxTreatment.STANDARD, tax_rate=Decimal("0.15"),
                           tax_type=tax_type, account_code="200")
        return Invoice(deal_id="d", reference=unique("DEAL"), customer=customer, currency="ZAR",
                       issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2), lines=(line,))

    def rejected_invoice(self, customer: Party) -> tuple[Invoice, str]:
        return self.invoice(customer, tax_type="OUTPUT"), "OUTPUT"  # the retired 14% code

    def rejected_party(self) -> tuple[Party, str]:
        crm_id = unique("crm")
        return Party(name=f"Broken {crm_id}", crm_id=crm_id, email="not-an-email"), "Email"

    def write_path(self, kind: str) -> tuple[str, str]:
        return "PUT", f"{API}/{COLLECTIONS[kind][1]}"

    # ---- errors and pacing -------------------------------------------------------------------
    def error_message(self, status: int) -> str:
        if status == 429:
            return "Rate limit exceeded: minute limit"
        if status == 404:
            return "The resource you're looking for cannot be found"  # plain text, as Xero sends it
        return "An error occurred in Xero. Check the API Status page for current service status."

    def paced_call(self, connector: XeroConnector) -> None:
        connector.tax_rates()

    def raw_call(self) -> int:
        return self.http.get(f"{self.url}{API}/TaxRates", headers={
            "Authorization": f"Bearer {self.state.auth.issue_access_token()[0]}",
            "xero-tenant-id": self.state.default_tenant_id}).status_code
