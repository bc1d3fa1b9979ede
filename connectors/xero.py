"""Xero Accounting API connector: settings, contact and invoice writes, lookups and delta reads.

Writes go in batches of at most 50 with `summarizeErrors=false`, so Xero answers per element and
a partial batch is normal; every write carries an `Idempotency-Key` and a findable key
(`ContactNumber` = CRM id, `Reference` = deterministic invoice reference), because an uncertain
write is settled by looking the records up, never by sending again blindly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from connectors.delta import DeltaCursor, keyset_pages
from connectors.errors import BadResponse, UncertainWrite, ValidationRejected
from connectors.http import RetryPolicy, VendorHttpClient
from connectors.oauth import OAuth2RefreshAuth, TokenStore
from connectors.paging import chunked_by_length
from connectors.ratelimit import XERO_LIMITS, RateLimiter, RateLimits
from connectors.xero_records import (contact_from_xero, credit_note_change, invoice_from_xero, payment_change,
                                     tax_rate_from_xero)
from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerTaxRate
from ledgerlink.model import Invoice, InvoiceStatus, Party, WriteResult
from ledgerlink.money import to_decimal
from ledgerlink.timestamps import epoch_ms

MAX_BATCH = 50
MAX_IDEMPOTENCY_KEY = 128
MAX_WHERE_CHARS = 1500  # URL-encoded `where` length per lookup call: well inside URL limits
MAX_WHERE_TERMS = 40
LOOKUP_PAGE_SIZE = 100
_STATUS = {InvoiceStatus.DRAFT: "DRAFT", InvoiceStatus.SUBMITTED: "SUBMITTED",
           InvoiceStatus.AUTHORISED: "AUTHORISED"}
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_NIL_ID = "00000000-0000-0000-0000-000000000000"
_ID_FIELDS = {"Invoices": "InvoiceID", "Contacts": "ContactID", "Payments": "PaymentID", "CreditNotes": "CreditNoteID"}


def parse_xero_date(value: str | None) -> datetime | None:
    """`/Date(1700000000000+0000)/` (or an ISO string) → timezone-aware UTC datetime.

    The milliseconds are UTC already; the offset suffix only says where the user sits.
    """
    if not value:
        return None
    match = _MS_DATE.match(value.strip())
    if match:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match[1]))
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def xero_pacer(headers: httpx.Headers, limiter: RateLimiter) -> None:
    """Fold Xero's remaining minute and day counts into our limiter's shortest and longest window.

    By position, not by length: a budget configured with a margin (a 61-second minute) or on a
    compressed clock would otherwise never match 60.0 and the server's count would be ignored."""
    windows = sorted(w.seconds for w in limiter.limits.windows)
    if not windows:
        return
    for header, window in (("X-MinLimit-Remaining", windows[0]), ("X-DayLimit-Remaining", windows[-1])):
        value = headers.get(header)
        if value and value.lstrip("-").isdigit():
            limiter.sync_remaining(window, int(value))


def where_literal(value: str) -> str:
    """A double-quoted string literal for a Xero `where` clause, quotes and backslashes escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: Decimal, what: str, max_places: int = 4) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal")
    if value.as_tuple().exponent < -max_places and value != value.quantize(
            Decimal(1).scaleb(-max_places)):
        raise ValueError(f"{what} {value} has more than {max_places} decimal places; Xero "
                         "would round it")
    return value


def contact_payload(party: Party) -> dict[str, Any]:
    """Canonical Party → Xero Contact. `ContactNumber` is the CRM id, so it can be found again."""
    if not party.crm_id:
        raise ValueError(f"party {party.name!r} has no crm_id; Xero ContactNumber needs it")
    contact: dict[str, Any] = {"Name": party.name, "ContactNumber": party.crm_id}
    if party.email:
        contact["EmailAddress"] = party.email
    if party.vat_number:
        contact["TaxNumber"] = party.vat_number
    if party.currency:
        contact["DefaultCurrency"] = party.currency
    if party.phone:
        contact["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": party.phone}]
    if party.address:
        lines = {"AddressLine1": party.address.line1, "City": party.address.city,
                 "PostalCode": party.address.postal_code, "Country": party.address.country}
        lines = {k: v for k, v in lines.items() if v}
        contact["Addresses"] = [{"AddressType": kind, **lines} for kind in ("POBOX", "STREET")]
    if party.payment_terms_days is not None:
        contact["PaymentTerms"] = {"Sales": {"Day": party.payment_terms_days,
                                             "Type": "DAYSAFTERBILLDATE"}}
    return contact


def invoice_payload(invoice: Invoice) -> dict[str, Any]:
    """Canonical Invoice → Xero ACCREC invoice, amounts as exact Decimals, tax exclusive."""
    if not invoice.customer.accounting_id:
        raise ValueError(f"invoice {invoice.reference!r}: customer has no Xero ContactID yet")
    if invoice.status not in _STATUS:
        raise ValueError(f"invoice {invoice.reference!r}: cannot create as {invoice.status.value}")
    lines = []
    for line in invoice.lines:
        if line.unit_price.currency != invoice.currency:
            raise ValueError(f"invoice {invoice.reference!r}: line in {line.unit_price.currency}")
        item: dict[str, Any] = {
            "Description": line.description,
            "Quantity": _number(line.quantity, "Quantity"),
            "UnitAmount": _number(line.unit_price.amount, "UnitAmount"),
            "TaxType": line.tax_type}
        if line.discount_percent:
            item["DiscountRate"] = _number(line.discount_percent, "DiscountRate")
        if line.account_code:
            item["AccountCode"] = line.account_code
        if line.sku:
            item["ItemCode"] = line.sku
        lines.append(item)
    return {"Type": "ACCREC", "Contact": {"ContactID": invoice.customer.accounting_id},
            "Date": invoice.issue_date.isoformat(), "DueDate": invoice.due_date.isoformat(),
            "LineAmountTypes": "Exclusive", "CurrencyCode": invoice.currency,
            "Reference": invoice.reference, "Status": _STATUS[invoice.status],
            "LineItems": lines}


def _element_errors(element: Mapping[str, Any]) -> list[str]:
    messages = [e.get("Message") for e in element.get("ValidationErrors") or []]
    for line in element.get("LineItems") or []:
        messages += [e.get("Message") for e in (line or {}).get("ValidationErrors") or []]
    return [m for m in messages if m]


def _failed(element: Mapping[str, Any]) -> bool:
    return bool(element.get("HasErrors") or element.get("HasValidationErrors")
                or element.get("StatusAttributeString") == "ERROR" or _element_errors(element))


class XeroConnector:
    """One Xero organisation (tenant) over OAuth2 with rotating refresh tokens."""

    vendor = "xero"
    change_time_resolution_ms = 1  # change times are stamped in milliseconds
    max_batch = MAX_BATCH

    def __init__(self, base_url: str, tenant_id: str, token_store: TokenStore, client_id: str,
                 client_secret: str | SecretStr, token_url: str, tenant: str, *,
                 http: VendorHttpClient | None = None,
                 limits: Mapping[str, RateLimits] | None = XERO_LIMITS,
                 retry: RetryPolicy = RetryPolicy(),
                 transport: httpx.BaseTransport | None = None) -> None:
        self.tenant = tenant
        self.tenant_id = tenant_id
        self.auth = OAuth2RefreshAuth(vendor=self.vendor, tenant=tenant, store=token_store,
                                      token_url=token_url, client_id=client_id,
                                      client_secret=client_secret, transport=transport)
        self.http = http or VendorHttpClient(
            self.vendor, base_url, tenant=tenant, auth=self.auth, limits=limits, retry=retry,
            default_headers={"xero-tenant-id": tenant_id}, pacer=xero_pacer, transport=transport)

    @property
    def stats(self):  # noqa: ANN201 - HttpStats
        return self.http.stats

    def close(self) -> None:
        self.http.close()
        self.auth.close()

    def __enter__(self) -> "XeroConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings ------------------------------------------------------------------------------
    def tax_rates(self) -> list[LedgerTaxRate]:
        return [tax_rate_from_xero(rate) for rate in self.http.get("/TaxRates").body.get("TaxRates") or []]

    def currencies(self) -> list[dict]:
        return self.http.get("/Currencies").body.get("Currencies") or []

    def organisation(self) -> dict:
        organisations = self.http.get("/Organisation").body.get("Organisations") or []
        if not organisations:
            raise BadResponse(self.vendor, "no organisation in response", method="GET",
                              path="/Organisation")
        return organisations[0]

    # -- lookups -------------------------------------------------------------------------------
    def _where_pages(self, path: str, key: str, where: str) -> Iterator[dict]:
        page = 1
        while True:
            body = self.http.get(path, params={"where": where, "page": page,
                                               "pageSize": LOOKUP_PAGE_SIZE}).body
            records = body.get(key) or []
            yield from records
            if len(records) < LOOKUP_PAGE_SIZE:
                return
            page += 1

    def _find(self, path: str, key: str, field: str,
              values: Sequence[str]) -> dict[str, list[dict]]:
        if not _FIELD.match(field):
            raise ValueError(f"not a Xero field name: {field!r}")
        wanted = {str(v).casefold(): str(v) for v in values}  # Xero compares case-insensitively
        found: dict[str, list[dict]] = {}
        clause = lambda v: f"{field}=={where_literal(v)}"  # noqa: E731
        for chunk in chunked_by_length(list(wanted.values()), lambda v: quote(clause(v)),
                                       max_chars=MAX_WHERE_CHARS, max_items=MAX_WHERE_TERMS,
                                       separator=quote(" OR ")):
            for record in self._where_pages(path, key, " OR ".join(map(clause, chunk))):
                value = wanted.get(str(record.get(field, "")).casefold())
                if value is not None:
                    found.setdefault(value, []).append(record)
        return found

    def find_contacts_by_crm_id(self, crm_ids: Sequence[str]) -> dict[str, LedgerContact]:
        """Contacts whose `ContactNumber` (the CRM id ledgerlink wrote) is one of `crm_ids`.

        If Xero holds several (it does not enforce ContactNumber uniqueness) the first wins.
        """
        return {v: contact_from_xero(found[0])
                for v, found in self._find("/Contacts", "Contacts", "ContactNumber", crm_ids).items()}

    def find_invoices_by_reference(self, references: Sequence[str]) -> dict[str, LedgerInvoice]:
        """Invoices by `Reference`: how crashes and uncertain writes are settled.

        When several invoices share a reference, a live one (not VOIDED/DELETED) is preferred.
        """
        result = {}
        for ref, found in self._find("/Invoices", "Invoices", "Reference", references).items():
            invoices = [invoice_from_xero(i) for i in found]
            result[ref] = next((i for i in invoices if i.live), invoices[0])
        return result

    def invoices_by_ids(self, invoice_ids: Sequence[str]) -> list[LedgerInvoice]:
        """Invoices by id, ≤ 50 per call (Xero's IDs filter misbehaves above about 50)."""
        found: list[LedgerInvoice] = []
        ids = list(dict.fromkeys(invoice_ids))
        for start in range(0, len(ids), 50):
            body = self.http.get("/Invoices", params={"IDs": ",".join(ids[start:start + 50])}).body
            found.extend(invoice_from_xero(i) for i in body.get("Invoices") or [])
        return found

    def open_balances(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """What each contact owes on authorised sales invoices, per currency (AmountDue summed).

        One paged call per 50 contacts, and only for the contacts a credit review needs.
        """
        owed: dict[str, dict[str, Decimal]] = {}
        ids = list(dict.fromkeys(contact_ids))
        for start in range(0, len(ids), 50):
            page = 1
            while True:
                body = self.http.get("/Invoices", params={
                    "ContactIDs": ",".join(ids[start:start + 50]), "Statuses": "AUTHORISED",
                    "where": 'Type=="ACCREC"', "page": page, "pageSize": 1000}).body
                invoices = body.get("Invoices") or []
                for invoice in invoices:
                    contact = (invoice.get("Contact") or {}).get("ContactID")
                    by_currency = owed.setdefault(contact, {})
                    currency = invoice.get("CurrencyCode")
                    by_currency[currency] = by_currency.get(currency, Decimal(0)) + to_decimal(
                        invoice.get("AmountDue") or 0, "AmountDue")
                count = (body.get("pagination") or {}).get("pageCount")
                if len(invoices) < 1000 or (count is not None and page >= count):
                    break
                page += 1
        return owed

    def invoices_modified_since(self, since: datetime | None,
                                page_size: int = 1000) -> Iterator[list[LedgerInvoice]]:
        """Pages of sales invoices changed since `since` (all when None), oldest change first."""
        for page in self._modified_since("/Invoices", "Invoices", since, page_size, where='Type=="ACCREC"'):
            yield [invoice_from_xero(i) for i in page]

    def contacts_modified_since(self, since: datetime | None,
                                page_size: int = 1000) -> Iterator[list[LedgerContact]]:
        """Pages of contacts changed since `since` (all when None): the matching directory."""
        for page in self._modified_since("/Contacts", "Contacts", since, page_size):
            yield [contact_from_xero(c) for c in page]

    def payments_modified_since(self, since: datetime | None,
                                page_size: int = 1000) -> Iterator[list[LedgerChange]]:
        """Pages of payments changed since `since`: Xero sends no webhook for payments, so poll."""
        for page in self._modified_since("/Payments", "Payments", since, page_size):
            yield [payment_change(p) for p in page]

    def credit_notes_modified_since(self, since: datetime | None,
                                    page_size: int = 1000) -> Iterator[list[LedgerChange]]:
        """Pages of credit notes changed since `since` (their allocations reduce invoices)."""
        for page in self._modified_since("/CreditNotes", "CreditNotes", since, page_size):
            yield [credit_note_change(c) for c in page]

    def _modified_since(self, path: str, key: str, since: datetime | None,
                        page_size: int, where: str | None = None) -> Iterator[list[dict]]:
        """Keyset pages (`connectors.delta`): each page asks again from the newest change seen, so a
        record changed mid-read is met once at its new time instead of shifting others past us."""
        if not 1 <= page_size <= 1000:
            raise ValueError("Xero pages hold 1 to 1000 records")
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        id_field = _ID_FIELDS[key]

        def fetch(cursor: DeltaCursor, page: int) -> list[dict]:
            headers = {}
            if cursor.since is not None:
                headers["If-Modified-Since"] = cursor.since.isoformat(timespec="milliseconds")
            params = {"page": page, "pageSize": page_size, "order": "UpdatedDateUTC ASC"}
            if where:
                params["where"] = where
            return self.http.get(path, headers=headers, params=params).body.get(key) or []

        start = DeltaCursor(epoch_ms(since)) if since else DeltaCursor()
        yield from keyset_pages(fetch, lambda r: epoch_ms(r.get("UpdatedDateUTC")), lambda r: r[id_field],
                                page_size, start)

    # -- writes --------------------------------------------------------------------------------
    def create_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        """Create up to 50 contacts; one result per party, keyed by its CRM id."""
        payload = [contact_payload(p) for p in parties]
        return self._create("/Contacts", "Contacts", payload, [p.crm_id or "" for p in parties],
                            ("ContactNumber", "ContactID", None), idempotency_key)

    def update_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        """Update up to 50 existing contacts (POST, each with its ContactID); keyed by CRM id."""
        if any(not p.accounting_id for p in parties):
            raise ValueError("every contact to update needs its accounting id (ContactID)")
        payload = [{"ContactID": p.accounting_id, **contact_payload(p)} for p in parties]
        return self._create("/Contacts", "Contacts", payload, [p.crm_id or "" for p in parties],
                            ("ContactNumber", "ContactID", None), idempotency_key, method="POST")

    def create_invoices(self, invoices: Sequence[Invoice],
                        idempotency_key: str) -> list[WriteResult]:
        """Create up to 50 sales invoices; one result per invoice, keyed by its reference.

        Amounts are sent as exact decimal numbers (see `connectors.http.dumps_exact`) with
        `unitdp=4`, so unit prices with up to four decimals are kept, not rounded to cents.
        """
        payload = [invoice_payload(i) for i in invoices]
        return self._create("/Invoices", "Invoices", payload, [i.reference for i in invoices],
                            ("Reference", "InvoiceID", "InvoiceNumber"), idempotency_key,
                            {"unitdp": 4})

    def _create(self, path: str, key: str, payload: list[dict], keys: list[str],
                fields: tuple[str, str, str | None], idempotency_key: str,
                extra_params: Mapping[str, Any] | None = None, method: str = "PUT") -> list[WriteResult]:
        """PUT (create) or POST (create-or-update) one batch; read Xero's answer per element.

        `fields` names (our key's field, the id field, the number field) in Xero's elements.
        """
        key_field, id_field, number_field = fields
        if not payload:
            return []
        if len(payload) > MAX_BATCH:
            raise ValueError(f"Xero takes at most {MAX_BATCH} {key} per call, got {len(payload)}")
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise ValueError(f"idempotency key must be 1..{MAX_IDEMPOTENCY_KEY} characters")
        try:
            reply = self.http.request(method, path, params={"summarizeErrors": "false", **(extra_params or {})},
                                      json_body={key: payload}, idempotency_key=idempotency_key)
        except ValidationRejected as err:  # whole request refused: nothing was written
            return _rejected(keys, err)
        elements = reply.body.get(key) if isinstance(reply.body, dict) else None
        if (not isinstance(elements, list) or len(elements) != len(payload)
                or any(e.get(key_field) not in (None, k) for k, e in zip(keys, elements))):
            self.http.stats.add(uncertain_writes=1)
            raise UncertainWrite(self.vendor, f"the answer does not list our {len(payload)} {key}",
                                 method=method, path=path, idempotency_key=idempotency_key,
                                 cause="answer does not match the request")
        out = []
        for item_key, element in zip(keys, elements):
            if _failed(element):
                out.append(WriteResult(key=item_key, ok=False,
                                       errors=tuple(_element_errors(element)) or ("rejected",)))
                continue
            target = element.get(id_field)
            out.append(WriteResult(key=item_key, ok=True,
                                   target_id=target if target != _NIL_ID else None,
                                   number=element.get(number_field) if number_field else None))
        return out


def _rejected(keys: list[str], err: ValidationRejected) -> list[WriteResult]:
    """Per-item failures from a whole-request 400: per element when Xero lists one per input."""
    elements = (err.detail or {}).get("Elements") if isinstance(err.detail, dict) else None
    if isinstance(elements, list) and len(elements) == len(keys):
        return [WriteResult(key=k, ok=False,
                            errors=tuple(_element_errors(e)) or (err.vendor_message or str(err),))
                for k, e in zip(keys, elements)]
    return [WriteResult(key=k, ok=False, errors=(err.vendor_message or str(err),)) for k in keys]
