"""QuickBooks Online for the contract suite: the QBO emulator, OAuth with rotating refresh tokens,
and an accountant's edits made in the company's books (the emulator's own write rules).

QBO stamps `MetaData.LastUpdatedTime` in whole seconds and sends no rate-limit headers: edits that
must move a change time wait for the next second, and pacing comes from the documented budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping

from connectors.http import RetryPolicy
from connectors.oauth import TokenSet
from connectors.quickbooks import QuickBooksConnector
from connectors.ratelimit import RateLimits, quickbooks_limits
from connectors.sandbox.quickbooks_app import TOKEN_PATH
from connectors.sandbox.quickbooks_customers import create_customer
from connectors.sandbox.quickbooks_payments import create_payment
from connectors.sandbox.quickbooks_runner import start_quickbooks_sandbox
from connectors.sandbox.quickbooks_sales import create_sales
from ledgerlink.model import Invoice, InvoiceLine, Party, TaxTreatment
from ledgerlink.money import Money

from .harness import RecordingTokenStore, unique
from .harness_oauth import OAuthAccountingHarness

ENTITIES = {"invoices": "Invoice", "contacts": "Customer", "payments": "Payment"}
TIGHT = {"per_minute": 20, "batch_per_minute": 4, "concurrent": 10}  # the realm's budget in pacing tests


class QuickBooksHarness(OAuthAccountingHarness):
    vendor = "quickbooks"
    control_name = "quickbooks"
    token_path = TOKEN_PATH
    capabilities = frozenset({"oauth_refresh", "idempotency_key", "payments"})
    why_not = {"remaining_headers": "QuickBooks Online sends no remaining-count headers",
               "skips_unchanged_writes": "QuickBooks creates take no 'unchanged' shortcut",
               "token_budget": "QuickBooks counts requests per minute, not token costs"}
    stamp_resolution_ms = 1000
    time_scale = 120.0  # QBO's windows are a minute: 0.5 s under compression

    def start(self, *, tight: bool = False, **options: Any) -> None:
        self.sandbox = start_quickbooks_sandbox(limits=False, limit_overrides=TIGHT if tight else None)
        self.state, self.url = self.sandbox.state, self.sandbox.url
        self.api = f"/v3/company/{self.state.realm_id}"
        self.read_path = f"{self.api}/query"
        self.stores: dict[int, RecordingTokenStore] = {}
        self.codes = {c["Name"]: c["Id"] for c in self.state.books.all("TaxCode")}
        for kind in self.kinds:
            self.create(kind, 6)

    def _stop_sandbox(self) -> None:
        self.sandbox.stop(save=False)

    def _build_connector(self, tenant: str, limits: Mapping[str, RateLimits] | None,
                         retry: RetryPolicy) -> QuickBooksConnector:
        store = RecordingTokenStore(lambda: self.calls_to(self.api))
        auth = self.state.auth
        store.save(tenant, "quickbooks", TokenSet.of(auth.issue_access_token()[0], auth.current_refresh_token,
                                                     datetime.now(timezone.utc) + timedelta(minutes=30)))
        connector = QuickBooksConnector(self.url, self.state.realm_id, store, auth.client_id, auth.client_secret,
                                        f"{self.url}{TOKEN_PATH}", tenant, limits=limits, retry=retry,
                                        throttle_wait_s=0.2)
        self.stores[id(connector)] = store
        return connector

    def client_budget(self, time_scale: float) -> Mapping[str, RateLimits]:
        budget = quickbooks_limits(per_minute=TIGHT["per_minute"], batch_per_minute=TIGHT["batch_per_minute"],
                                   concurrent=TIGHT["concurrent"], batch_share=TIGHT["batch_per_minute"])
        return {bucket: limits.scaled(1 / time_scale) for bucket, limits in budget.items()}

    # ---- the accountant's side -------------------------------------------------------------
    def create(self, kind: str, count: int) -> list[str]:
        books = self.state.books
        with self.state.lock:
            if kind == "contacts":
                return [create_customer(books, {"DisplayName": unique("Karoo Traders"),
                                                "AcctNum": unique("crm")})["Id"] for _ in range(count)]
            if kind == "invoices":
                customer = self.customer().accounting_id
                line = {"DetailType": "SalesItemLineDetail", "Amount": Decimal("1000.00"),
                        "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1,
                                                "UnitPrice": Decimal("1000.00"),
                                                "TaxCodeRef": {"value": self.codes["Standard rated (15%)"]}}}
                return [create_sales(books, "Invoice", {"CustomerRef": {"value": customer}, "TxnDate": "2026-11-02",
                                                        "DocNumber": unique("LL")[:21], "Line": [line]})["Id"]
                        for _ in range(count)]
        invoices = [books.get("Invoice", i) for i in self.create("invoices", count)]
        with self.state.lock:
            return [create_payment(books, {
                "CustomerRef": invoice["CustomerRef"], "TotalAmt": Decimal("10.00"), "TxnDate": "2026-11-20",
                "Line": [{"Amount": Decimal("10.00"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]
            })["Id"] for invoice in invoices]

    def touch(self, kind: str, ids: list[str]) -> None:
        books = self.state.books
        with self.state.lock:
            for record_id in ids:
                record = books.get(ENTITIES[kind], record_id)
                record["PrivateNote"] = unique("edited")
                books.save(ENTITIES[kind], record)

    def changes_since(self, kind: str, since_ms: int) -> dict[str, int]:
        with self.state.lock:
            return {str(r["Id"]): r["_updated_ms"] // 1000 * 1000 for r in self.state.books.all(ENTITIES[kind])
                    if r["_updated_ms"] // 1000 * 1000 >= since_ms}

    def count(self, kind: str) -> int:
        return len(self.changes_since(kind, 0))

    def customer(self) -> Party:
        crm_id = unique("crm")
        with self.state.lock:
            made = create_customer(self.state.books, {"DisplayName": f"Karoo {crm_id}", "AcctNum": crm_id})
        return Party(name=made["DisplayName"], crm_id=crm_id, accounting_id=made["Id"], currency="ZAR")

    def invoice(self, customer: Party, code: str = "Standard rated (15%)") -> Invoice:
        line = InvoiceLine("Irrigation survey", Decimal("1"), Money.of("1000", "ZAR"), Decimal("0"),
                           TaxTreatment.STANDARD, Decimal("0.15"), self.codes[code])
        return Invoice(deal_id="d", reference=unique("DEAL"), customer=customer, currency="ZAR",
                       issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2), lines=(line,))

    def rejected_invoice(self, customer: Party) -> tuple[Invoice, str]:
        return self.invoice(customer, "Standard rated (14%)"), "inactive"  # the retired 14% code

    def rejected_party(self) -> tuple[Party, str]:
        crm_id = unique("crm")
        return Party(name=f"Broken {crm_id}", crm_id=crm_id, email="not-an-email"), "Invalid Email"

    def write_path(self, kind: str) -> tuple[str, str]:
        return "POST", f"{self.api}/batch"

    # ---- errors and pacing -------------------------------------------------------------------
    def error_message(self, status: int) -> str:
        if status == 429:
            return ("message=ThrottleExceeded; errorCode=003001; statusCode=429 — The request limit was "
                    "reached.  Try again later (code 3001)")
        return ("An application error has occurred while processing your request — System Failure "
                f"Error: HTTP {status} (code 10000)")

    def paced_call(self, connector: QuickBooksConnector) -> None:
        connector.tax_rates()

    def raw_call(self) -> int:
        return self.http.get(f"{self.url}{self.api}/query", params={"query": "select * from TaxCode"},
                             headers={"Authorization": f"Bearer {self.state.auth.issue_access_token()[0]}"}
                             ).status_code
