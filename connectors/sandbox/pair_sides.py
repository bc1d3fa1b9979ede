"""One running vendor emulator seen the same way whichever vendor it is: how a tenant connects to
it, its counters and knobs, its saved state, and (for accounting) a customer paying an invoice.

`pairs.start_pair` puts a CRM side and an accounting side together, so the demo, the tests and
the benchmarks can run any CRM with any accounting system without code for the pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.loopback import LoopbackServer


@dataclass
class Side:
    """A vendor emulator: `state` is its live state object, `url` where it listens."""

    system: str
    state: Any
    url: str
    server: LoopbackServer | None = None

    @property
    def stats(self):  # noqa: ANN201 - gateway.Stats
        return self.state.stats

    def set_limits(self, enabled: bool | None = None, time_scale: float | None = None) -> None:
        settings = self.state.limit_settings
        if enabled is not None:
            settings.enabled = enabled
        if time_scale is not None:
            settings.time_scale = time_scale

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def connection(self, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The tenant's connection section (secrets by env reference) and the env values to set."""
        raise NotImplementedError


class HubSpotSide(Side):
    def connection(self, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
        return ({"system": "hubspot", "base_url": self.url, "token": f"env:{prefix}_HUBSPOT_TOKEN"},
                {f"{prefix}_HUBSPOT_TOKEN": self.state.token})

    def won_deals(self) -> dict[str, str | None]:
        """Won deal id -> the seeder's defect mark (None for a good deal), read from the state."""
        return {str(d.id): d.props.get("ll_seed_defect") for d in self.state.deals.objects.values()
                if d.props.get("dealstage") == "closedwon" and not d.archived}

    def deal_value(self, deal_id: str, name: str) -> str | None:
        return self.state.deals.get(deal_id).props.get(name)

    def record_counts(self) -> dict[str, int]:
        """Live companies, deals and the line items of live deals, counted in the state itself."""
        with self.state.lock:
            deals = [d.id for d in self.state.deals.objects.values() if not d.archived]
            lines = {line for deal in deals for line, _ in self.state.associations.targets("deals", deal, "line_items")
                     if (item := self.state.line_items.get(line)) is not None and not item.archived}
            return {"companies": sum(not c.archived for c in self.state.companies.objects.values()),
                    "deals": len(deals), "line_items": len(lines)}


class PipedriveSide(Side):
    def connection(self, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
        return ({"system": "pipedrive", "base_url": self.url, "token": f"env:{prefix}_PIPEDRIVE_TOKEN"},
                {f"{prefix}_PIPEDRIVE_TOKEN": self.state.token})

    def won_deals(self) -> dict[str, str | None]:
        return {str(record_id): self.state.custom_value("deals", record_id, "ll_seed_defect")
                for record_id, record in self.state.deals.records.items()
                if record.data.get("status") == "won" and not record.data.get("is_deleted")}

    def deal_value(self, deal_id: str, name: str) -> str | None:
        value = self.state.custom_value("deals", int(deal_id), name)
        if isinstance(value, dict):  # a monetary custom field
            value = value.get("value")
        return None if value is None else (format(value, "f") if isinstance(value, Decimal) else str(value))

    def record_counts(self) -> dict[str, int]:
        """Live organizations, deals and the products attached to live deals, from the state."""
        with self.state.lock:
            deals = [i for i, r in self.state.deals.records.items() if not r.data.get("is_deleted")]
            return {"companies": sum(not r.data.get("is_deleted") for r in self.state.organizations.records.values()),
                    "deals": len(deals), "line_items": len(self.state.deal_products.of_deals(deals))}


class XeroSide(Side):
    def connection(self, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
        auth = self.state.auth
        return ({"system": "xero", "base_url": self.url, "token_url": f"{self.url}/connect/token",
                 "tenant_id": self.state.default_tenant_id, "client_id": f"env:{prefix}_XERO_CLIENT_ID",
                 "client_secret": f"env:{prefix}_XERO_CLIENT_SECRET",
                 "refresh_token": f"env:{prefix}_XERO_REFRESH_TOKEN"},
                {f"{prefix}_XERO_CLIENT_ID": auth.client_id, f"{prefix}_XERO_CLIENT_SECRET": auth.client_secret,
                 f"{prefix}_XERO_REFRESH_TOKEN": auth.current_refresh_token})

    def invoice(self, number: str) -> tuple[str, Decimal]:
        """(currency, amount due) of a sales invoice by its number."""
        invoice = self.state.default_books.invoice_by_number(number)
        return invoice["CurrencyCode"], Decimal(str(invoice["AmountDue"]))

    def pay(self, number: str, amount: Decimal, on: date) -> None:
        self.state.default_books.pay(number, amount, on)

    def credit(self, number: str, amount: Decimal, on: date) -> None:
        self.state.default_books.credit(number, amount, on)

    def sales_invoices(self) -> list[dict]:
        """(reference, number, status) of every sales invoice, read straight from the books."""
        return [{"reference": i.get("Reference"), "number": i.get("InvoiceNumber"), "status": i.get("Status")}
                for i in self.state.default_books.invoices.values() if i.get("Type") == "ACCREC"]

    def contacts(self) -> list[dict]:
        return [{"id": c["ContactID"], "crm_id": c.get("ContactNumber"), "name": c.get("Name")}
                for c in self.state.default_books.contacts.values()]

    def record_counts(self) -> dict[str, int]:
        """Contacts, sales invoices, payments and credit notes in the books."""
        books = self.state.default_books
        with books.lock:
            return {"contacts": len(books.contacts),
                    "invoices": sum(i.get("Type") == "ACCREC" for i in books.invoices.values()),
                    "payments": len(books.payments), "credit_notes": len(books.credit_notes)}


class QuickBooksSide(Side):
    def connection(self, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
        auth = self.state.auth
        return ({"system": "quickbooks", "base_url": self.url, "token_url": f"{self.url}{_token_path()}",
                 "realm_id": self.state.realm_id, "client_id": f"env:{prefix}_QUICKBOOKS_CLIENT_ID",
                 "client_secret": f"env:{prefix}_QUICKBOOKS_CLIENT_SECRET",
                 "refresh_token": f"env:{prefix}_QUICKBOOKS_REFRESH_TOKEN"},
                {f"{prefix}_QUICKBOOKS_CLIENT_ID": auth.client_id,
                 f"{prefix}_QUICKBOOKS_CLIENT_SECRET": auth.client_secret,
                 f"{prefix}_QUICKBOOKS_REFRESH_TOKEN": auth.current_refresh_token})

    def _by_number(self, number: str) -> dict:
        found = [i for i in self.state.books.all("Invoice") if i.get("DocNumber") == number]
        if not found:
            raise KeyError(f"no invoice {number} in the QuickBooks sandbox")
        return found[0]

    def invoice(self, number: str) -> tuple[str, Decimal]:
        invoice = self._by_number(number)
        return invoice["CurrencyRef"]["value"], Decimal(str(invoice["Balance"]))

    def pay(self, number: str, amount: Decimal, on: date) -> None:
        from connectors.sandbox.quickbooks_payments import create_payment

        invoice = self._by_number(number)
        create_payment(self.state.books, {
            "CustomerRef": invoice["CustomerRef"], "TotalAmt": amount, "TxnDate": on.isoformat(),
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})

    def credit(self, number: str, amount: Decimal, on: date) -> None:
        """A credit memo for `amount` (no tax), applied to the invoice by a zero payment, as QBO does."""
        from connectors.sandbox.quickbooks_payments import create_payment
        from connectors.sandbox.quickbooks_sales import create_sales

        invoice = self._by_number(number)
        line = invoice["Line"][0]["SalesItemLineDetail"]
        exempt = next(c["Id"] for c in self.state.books.all("TaxCode") if c.get("Name") == "Exempt")
        memo = create_sales(self.state.books, "CreditMemo", {
            "CustomerRef": invoice["CustomerRef"], "TxnDate": on.isoformat(),
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": amount, "Description": f"Credit on {number}",
                      "SalesItemLineDetail": {"ItemRef": line["ItemRef"], "Qty": 1, "UnitPrice": amount,
                                              "TaxCodeRef": {"value": exempt}}}]})
        create_payment(self.state.books, {
            "CustomerRef": invoice["CustomerRef"], "TotalAmt": 0, "TxnDate": on.isoformat(),
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
                     {"Amount": amount, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}]})

    def sales_invoices(self) -> list[dict]:
        return [{"reference": i.get("DocNumber"), "number": i.get("DocNumber"),
                 "status": "VOIDED" if "Voided" in str(i.get("PrivateNote") or "") else "LIVE"}
                for i in self.state.books.all("Invoice")]

    def contacts(self) -> list[dict]:
        return [{"id": c["Id"], "crm_id": c.get("AcctNum"), "name": c.get("DisplayName")}
                for c in self.state.books.all("Customer")]

    def record_counts(self) -> dict[str, int]:
        """Customers, invoices, payments and credit memos in the books."""
        books = self.state.books
        with self.state.lock:
            return {name: sum(1 for _ in books.all(entity)) for name, entity in
                    (("contacts", "Customer"), ("invoices", "Invoice"), ("payments", "Payment"),
                     ("credit_notes", "CreditMemo"))}


def _token_path() -> str:
    from connectors.sandbox.quickbooks_app import TOKEN_PATH

    return TOKEN_PATH
