"""QuickBooks Online connector: the `AccountingConnector` protocol over QBO's Accounting API v3.

Writes go in batches of at most 30 (`POST /batch`), each answered per item, with a `requestid`
derived from the idempotency key; every write is also findable afterwards — customers by
`AcctNum` (the CRM id), invoices by `DocNumber` (the deterministic reference) — and invoices are
looked up by DocNumber *before* they are created, because duplicates have been reported despite
requestid. Customer updates are sparse and carry the `SyncToken` just read; a stale one is
re-read and retried once, never overwritten blindly. Reads return `ledgerlink.ledger` records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.errors import ValidationRejected
from connectors.http import RetryPolicy, VendorHttpClient
from connectors.oauth import OAuth2RefreshAuth, TokenStore
from connectors.paging import chunked, chunked_by_length
from connectors.quickbooks_api import MINOR_VERSION, QuickBooksApi, ThrottleHint, fault_messages
from connectors.quickbooks_mapping import (
    customer_payload, customer_update, deleted_invoice, invoice_payload, is_voided, ledger_contact,
    ledger_invoice, ledger_tax_rate, linked_payment_ids, payment_change, query_literal, ref, updated_at)
from connectors.ratelimit import QUICKBOOKS_LIMITS, RateLimits
from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerTaxRate
from ledgerlink.model import Invoice, Party, WriteResult

ALL_ACTIVITY = "Active in (true, false)"
THROTTLE_WAIT_S = 60.0  # Intuit: after ThrottleExceeded, wait 60 seconds


class QuickBooksConnector:
    """One QuickBooks Online company (realm) over OAuth2 with rotating refresh tokens."""

    vendor = "quickbooks"
    change_time_resolution_ms = 1000  # change times are stamped in whole seconds
    max_batch = 30

    def __init__(self, base_url: str, realm_id: str, token_store: TokenStore, client_id: str,
                 client_secret: str | SecretStr, token_url: str, tenant: str, *,
                 sales_item_id: str = "1",
                 limits: Mapping[str, RateLimits] | None = QUICKBOOKS_LIMITS,
                 retry: RetryPolicy = RetryPolicy(), transport: httpx.BaseTransport | None = None,
                 http: VendorHttpClient | None = None, minor_version: int = MINOR_VERSION,
                 throttle_wait_s: float = THROTTLE_WAIT_S) -> None:
        self.tenant = tenant
        self.realm_id = realm_id
        self.sales_item_id = sales_item_id
        self.auth = OAuth2RefreshAuth(vendor=self.vendor, tenant=tenant, store=token_store,
                                      token_url=token_url, client_id=client_id,
                                      client_secret=client_secret, transport=transport)
        self.http = http or VendorHttpClient(
            self.vendor, f"{base_url.rstrip('/')}/v3/company/{realm_id}", tenant=tenant,
            auth=self.auth, limits=limits, retry=retry,
            transport=ThrottleHint(transport, throttle_wait_s))
        self.api = QuickBooksApi(self.http, minor_version)
        self._home_currency: str | None = None
        self._terms: dict[int, str] | None = None

    @property
    def stats(self):  # noqa: ANN201 - HttpStats
        return self.http.stats

    def close(self) -> None:
        self.http.close()
        self.auth.close()

    def __enter__(self) -> "QuickBooksConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reference data ------------------------------------------------------------------------
    def tax_rates(self) -> list[LedgerTaxRate]:
        """Every sales TaxCode, active or not, with its rate summed from its TaxRates (2 queries)."""
        rates = {str(r["Id"]): r for page in self.api.query_pages("TaxRate", f" where {ALL_ACTIVITY}")
                 for r in page}
        codes = [c for page in self.api.query_pages("TaxCode", f" where {ALL_ACTIVITY}") for c in page]
        return [rate for rate in (ledger_tax_rate(c, rates) for c in codes) if rate is not None]

    def home_currency(self) -> str:
        """The company's home currency (Preferences.CurrencyPrefs), read once."""
        if self._home_currency is None:
            prefs = self.api.get("/preferences").get("Preferences") or {}
            self._home_currency = ref((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency")) or "ZAR"
        return self._home_currency

    def _term_id(self, days: int | None) -> str | None:
        """The active Term due `days` after the invoice date (read once); None when no days given."""
        if days is None:
            return None
        if self._terms is None:
            self._terms = {int(t["DueDays"]): str(t["Id"]) for page in self.api.query_pages("Term")
                           for t in page if t.get("DueDays") is not None}
        if days not in self._terms:
            raise ValueError(f"QuickBooks has no payment term of {days} days; add one (Sales > Terms)")
        return self._terms[days]

    # -- contacts ------------------------------------------------------------------------------
    def contacts_modified_since(self, since: datetime | None,
                                page_size: int = 1000) -> Iterator[list[LedgerContact]]:
        """Pages of customers (active or not) changed since `since`, oldest change first."""
        _check_page(page_size)
        for page in self.api.changed_pages("Customer", since, page_size, ALL_ACTIVITY):
            yield [ledger_contact(c) for c in page]

    def find_contacts_by_crm_id(self, crm_ids: Sequence[str]) -> dict[str, LedgerContact]:
        """Customers carrying these CRM ids in `AcctNum`.

        QBO does not document AcctNum as filterable (a query on it is refused), so this reads the
        customer directory, 1,000 per call, and filters here; an active customer is preferred.
        """
        wanted = {str(c).strip() for c in crm_ids if c}
        found: dict[str, LedgerContact] = {}
        if not wanted:
            return found
        for page in self.contacts_modified_since(None):
            for contact in page:
                if contact.crm_id in wanted and (contact.crm_id not in found or
                                                 (contact.active and not found[contact.crm_id].active)):
                    found[contact.crm_id] = contact
        return found

    def create_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        """Create ≤ 30 customers in one batch; keyed by CRM id. A "Duplicate Name Exists" answer is
        settled by one lookup: a customer of that name carrying our CRM id was ours all along."""
        _check_batch(parties, idempotency_key, self.max_batch)
        results: dict[int, WriteResult] = {}
        items = []
        for n, party in enumerate(parties):
            try:
                payload = customer_payload(party, self._term_id(party.payment_terms_days))
            except ValueError as err:
                results[n] = WriteResult(party.crm_id or "", False, errors=(str(err),))
                continue
            items.append({"bId": str(n), "operation": "create", "Customer": payload})
        duplicates = []
        for n, answer in self._send(items, idempotency_key, results, [p.crm_id or "" for p in parties]):
            if "Customer" in answer:
                results[n] = WriteResult(parties[n].crm_id or "", True, target_id=str(answer["Customer"]["Id"]))
            else:
                messages, codes = fault_messages(answer)
                results[n] = WriteResult(parties[n].crm_id or "", False, errors=messages)
                if "6240" in codes:
                    duplicates.append(n)
        if duplicates:
            named = {str(c.get("DisplayName", "")).casefold(): c for c in self.api.where_in(
                "Customer", "DisplayName", [parties[n].name for n in duplicates])}
            for n in duplicates:
                mine = named.get(parties[n].name.casefold())
                if mine is not None and mine.get("AcctNum") == parties[n].crm_id:
                    results[n] = WriteResult(parties[n].crm_id or "", True, target_id=str(mine["Id"]))
        return [results[n] for n in range(len(parties))]

    def update_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        """Sparse updates with the SyncToken read just before (one query); a stale token is re-read
        and the update retried once. The currency of a QBO customer never changes."""
        _check_batch(parties, idempotency_key, self.max_batch)
        if any(not p.accounting_id for p in parties):
            raise ValueError("every contact to update needs its accounting id (Customer Id)")
        current = self._customers([p.accounting_id or "" for p in parties])
        results: dict[int, WriteResult] = {}
        pending = list(range(len(parties)))
        for attempt in (1, 2):
            items = []
            for n in pending:
                party = parties[n]
                found = current.get(str(party.accounting_id))
                try:
                    if found is None:
                        raise ValueError(f"QuickBooks has no customer {party.accounting_id}")
                    payload = customer_update(party, found, self._term_id(party.payment_terms_days))
                except ValueError as err:
                    results[n] = WriteResult(party.crm_id or "", False, errors=(str(err),))
                    continue
                items.append({"bId": str(n), "operation": "update", "Customer": payload})
            stale = []
            for n, answer in self._send(items, idempotency_key, results, [p.crm_id or "" for p in parties]):
                if "Customer" in answer:
                    results[n] = WriteResult(parties[n].crm_id or "", True, target_id=str(answer["Customer"]["Id"]))
                    continue
                messages, codes = fault_messages(answer)
                results[n] = WriteResult(parties[n].crm_id or "", False, errors=messages)
                if "5010" in codes and attempt == 1:
                    stale.append(n)
            if not stale:
                break
            current.update(self._customers([parties[n].accounting_id or "" for n in stale]))
            pending = stale
        return [results[n] for n in range(len(parties))]

    def _customers(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {str(c["Id"]): c for c in self.api.where_in("Customer", "Id", ids, f" and {ALL_ACTIVITY}")}

    def _send(self, items: list[dict[str, Any]], idempotency_key: str, results: dict[int, WriteResult],
              keys: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each item's answer from one batch call; a batch QBO refuses as a whole fails every item."""
        if not items:
            return
        try:
            answers = self.api.batch(items, idempotency_key)
        except ValidationRejected as err:
            for item in items:
                n = int(item["bId"])
                results[n] = WriteResult(keys[n], False, errors=(err.vendor_message or str(err),))
            return
        for item in items:
            yield int(item["bId"]), answers[item["bId"]]

    # -- invoices ------------------------------------------------------------------------------
    def create_invoices(self, invoices: Sequence[Invoice], idempotency_key: str) -> list[WriteResult]:
        """Create ≤ 30 invoices: one DocNumber query first (a live invoice with the reference is
        reported as created, never made twice), then one batch of creates; keyed by reference."""
        _check_batch(invoices, idempotency_key, self.max_batch)
        existing: dict[str, dict[str, Any]] = {}
        for raw in self.api.where_in("Invoice", "DocNumber", [i.reference for i in invoices]):
            if not is_voided(raw) and raw.get("DocNumber") not in existing:
                existing[raw["DocNumber"]] = raw
        results: dict[int, WriteResult] = {}
        items, sending = [], set()
        for n, invoice in enumerate(invoices):
            found = existing.get(invoice.reference)
            if found is not None:
                results[n] = WriteResult(invoice.reference, True, target_id=str(found["Id"]),
                                         number=found.get("DocNumber"))
                continue
            try:
                if invoice.reference in sending:
                    raise ValueError(f"reference {invoice.reference!r} appears twice in this call")
                payload = invoice_payload(invoice, self.sales_item_id)
            except ValueError as err:
                results[n] = WriteResult(invoice.reference, False, errors=(str(err),))
                continue
            sending.add(invoice.reference)
            items.append({"bId": str(n), "operation": "create", "Invoice": payload})
        for n, answer in self._send(items, idempotency_key, results, [i.reference for i in invoices]):
            if "Invoice" in answer:
                created = answer["Invoice"]
                results[n] = WriteResult(invoices[n].reference, True, target_id=str(created["Id"]),
                                         number=created.get("DocNumber"))
            else:
                results[n] = WriteResult(invoices[n].reference, False, errors=fault_messages(answer)[0])
        return [results[n] for n in range(len(invoices))]

    def find_invoices_by_reference(self, references: Sequence[str]) -> dict[str, LedgerInvoice]:
        """Invoices by DocNumber (one query per ~200 references), a live one preferred."""
        found: dict[str, LedgerInvoice] = {}
        wanted = set(references)
        for invoice in self._ledger_invoices(self.api.where_in("Invoice", "DocNumber", references)):
            key = invoice.reference
            if key in wanted and (key not in found or (invoice.live and not found[key].live)):
                found[key] = invoice
        return found

    def invoices_by_ids(self, invoice_ids: Sequence[str]) -> list[LedgerInvoice]:
        """`select * from Invoice where Id in (...)`, ≤ 200 ids per query; unknown ids are left out."""
        return self._ledger_invoices(self.api.where_in("Invoice", "Id", invoice_ids))

    def invoices_modified_since(self, since: datetime | None,
                                page_size: int = 1000) -> Iterator[list[LedgerInvoice]]:
        """By CDC when `since` is within its look-back (deletes included), else — or when CDC would
        have cut its answer at 1,000 — by a keyset query on MetaData.LastUpdatedTime."""
        _check_page(page_size)
        for page in self._changes("Invoice", since, page_size):
            yield self._ledger_invoices(page)

    def payments_modified_since(self, since: datetime | None) -> Iterator[list[LedgerChange]]:
        for page in self._changes("Payment", since, 1000):
            yield [payment_change(p) for p in page]

    def credit_notes_modified_since(self, since: datetime | None) -> Iterator[list[LedgerChange]]:
        """Credit memos changed since `since`, each naming the invoices it was applied to — QBO
        applies credit through Payments, so those payments are read (one query per page)."""
        for page in self._changes("CreditMemo", since, 1000):
            payments = self._payments(linked_payment_ids(page))
            changes = []
            for memo in page:
                invoices = [str(link["TxnId"]) for pid in linked_payment_ids([memo])
                            for line in (payments.get(pid) or {}).get("Line") or []
                            for link in line.get("LinkedTxn") or [] if link.get("TxnType") == "Invoice"]
                changes.append(LedgerChange(str(memo["Id"]), tuple(dict.fromkeys(invoices)), updated_at(memo)))
            yield changes

    def open_balances(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Open invoice balances per customer and currency: one paged query per ≤ 200 customers."""
        owed: dict[str, dict[str, Decimal]] = {}
        ids = list(dict.fromkeys(str(c) for c in contact_ids))
        for chunk in chunked_by_length(ids, query_literal, max_chars=1500, max_items=200, separator=","):
            where = f" where CustomerRef in ({','.join(map(query_literal, chunk))}) and Balance > '0'"
            for page in self.api.query_pages("Invoice", where):
                for invoice in self._ledger_invoices(page, with_payments=False):
                    by_currency = owed.setdefault(invoice.contact_id or "", {})
                    by_currency[invoice.currency] = by_currency.get(invoice.currency, Decimal(0)) + invoice.amount_due
        return owed

    # -- helpers -------------------------------------------------------------------------------
    def _changes(self, entity: str, since: datetime | None, page_size: int) -> Iterator[list[dict[str, Any]]]:
        if self.api.cdc_allowed(since):
            rows = self.api.cdc(entity, since)  # type: ignore[arg-type]
            if rows is not None:
                yield from chunked(rows, page_size)
                return
        yield from self.api.changed_pages(entity, since, page_size)

    def _payments(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {str(p["Id"]): p for p in self.api.where_in("Payment", "Id", ids)} if ids else {}

    def _ledger_invoices(self, raws: Sequence[dict[str, Any]], with_payments: bool = True) -> list[LedgerInvoice]:
        """QBO invoices → LedgerInvoice; their payments read in one go, only when some link one."""
        live = [r for r in raws if r.get("status") != "Deleted"]
        payments = self._payments(linked_payment_ids(live)) if with_payments else {}
        home = self.home_currency() if any(r.get("status") == "Deleted" or not r.get("CurrencyRef")
                                           for r in raws) else ""
        return [deleted_invoice(r, home) if r.get("status") == "Deleted" else ledger_invoice(r, payments, home)
                for r in raws]


def _check_batch(items: Sequence[Any], idempotency_key: str, limit: int) -> None:
    if len(items) > limit:
        raise ValueError(f"QuickBooks takes at most {limit} items per batch, got {len(items)}")
    if not idempotency_key or not idempotency_key.strip():
        raise ValueError("an idempotency key is required for every write")


def _check_page(page_size: int) -> None:
    if not 1 <= page_size <= 1000:
        raise ValueError("QuickBooks pages hold 1 to 1000 records")
