"""GET list queries on Xero collections: filters, order, If-Modified-Since, paging.

A delta sync asks "changed since T, by page"; with If-Modified-Since the candidate set is a
binary-searched range of the (UpdatedDateUTC, id) index, so a page over 100,000 invoices stays
cheap. Matching ids are cached per collection version: later pages of the same query are slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from connectors.sandbox.xero_books import XeroBooks
from connectors.sandbox.xero_credit_notes import credit_note_fields
from connectors.sandbox.xero_overpayments import bank_transaction_fields, overpayment_fields
from connectors.sandbox.xero_payments import payment_document
from connectors.sandbox.xero_where import Field, WhereError, compile_where

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


def _contact_name(books: XeroBooks) -> Callable[[dict[str, Any]], Any]:
    return lambda r: (books.contact(r.get("_contact_id") or "") or {}).get("Name")


def invoice_fields(books: XeroBooks) -> dict[str, Field]:
    return {
        "InvoiceID": Field("guid", lambda r: r["InvoiceID"]),
        "InvoiceNumber": Field("string", lambda r: r.get("InvoiceNumber") or None),
        "Reference": Field("string", lambda r: r.get("Reference") or None),
        "Status": Field("string", lambda r: r["Status"]),
        "Type": Field("string", lambda r: r["Type"]),
        "Contact.ContactID": Field("guid", lambda r: r.get("_contact_id")),
        "Contact.Name": Field("string", _contact_name(books)),
        "Contact.ContactNumber": Field("string", lambda r: (books.contact(r.get("_contact_id") or "")
                                                              or {}).get("ContactNumber")),
        "AmountDue": Field("number", lambda r: r["AmountDue"]),
        "AmountPaid": Field("number", lambda r: r["AmountPaid"]),
        "AmountCredited": Field("number", lambda r: r["AmountCredited"]),
        "Total": Field("number", lambda r: r["Total"]),
        "SubTotal": Field("number", lambda r: r["SubTotal"]),
        "CurrencyCode": Field("string", lambda r: r["CurrencyCode"]),
        "Date": Field("date", lambda r: r.get("_date")),
        "DueDate": Field("date", lambda r: r.get("_due")),
        "FullyPaidOnDate": Field("date", lambda r: r.get("_fully_paid")),
        "UpdatedDateUTC": Field("datetime", lambda r: r["_updated_ms"]),
    }


def contact_fields(books: XeroBooks) -> dict[str, Field]:
    fields = {name: Field("string", (lambda n: lambda r: r.get(n) or None)(name))
              for name in ("ContactNumber", "AccountNumber", "Name", "FirstName", "LastName",
                           "EmailAddress", "TaxNumber", "ContactStatus", "DefaultCurrency",
                           "CompanyNumber")}
    fields["ContactID"] = Field("guid", lambda r: r["ContactID"])
    fields["IsCustomer"] = Field("bool", lambda r: bool(r.get("IsCustomer")))
    fields["IsSupplier"] = Field("bool", lambda r: bool(r.get("IsSupplier")))
    fields["UpdatedDateUTC"] = Field("datetime", lambda r: r["_updated_ms"])
    return fields


def _paid_number(books: XeroBooks, payment: dict[str, Any]) -> str | None:
    collection, doc_id = payment_document(payment)
    document = books.records[collection].get(doc_id or "") or {}
    return document.get("InvoiceNumber") or document.get("CreditNoteNumber") or None


def payment_fields(books: XeroBooks) -> dict[str, Field]:
    return {
        "PaymentID": Field("guid", lambda r: r["PaymentID"]),
        "Status": Field("string", lambda r: r["Status"]),
        "PaymentType": Field("string", lambda r: r["PaymentType"]),
        "Reference": Field("string", lambda r: r.get("Reference") or None),
        "Amount": Field("number", lambda r: r["Amount"]),
        "Date": Field("date", lambda r: r["_date"]),
        "IsReconciled": Field("bool", lambda r: r["IsReconciled"]),
        # a refund names its credit note / overpayment in `Invoice`, as Xero writes it
        "Invoice.InvoiceID": Field("guid", lambda r: payment_document(r)[1]),
        "Invoice.InvoiceNumber": Field("string", lambda r: _paid_number(books, r)),
        "CreditNote.CreditNoteID": Field("guid", lambda r: r.get("_credit_note_id")),
        "Overpayment.OverpaymentID": Field("guid", lambda r: r.get("_overpayment_id")),
        "UpdatedDateUTC": Field("datetime", lambda r: r["_updated_ms"]),
    }


FIELD_TABLES = {"invoices": (invoice_fields, "Invoice"), "contacts": (contact_fields, "Contact"),
                "payments": (payment_fields, "Payment"), "credit_notes": (credit_note_fields, "CreditNote"),
                "overpayments": (overpayment_fields, "Overpayment"),
                "bank_transactions": (bank_transaction_fields, "BankTransaction")}
ID_KEYS = {"invoices": "InvoiceID", "contacts": "ContactID", "payments": "PaymentID",
           "credit_notes": "CreditNoteID", "overpayments": "OverpaymentID",
           "bank_transactions": "BankTransactionID"}


@dataclass(frozen=True)
class ListQuery:
    """A GET list request, reduced to what changes its result."""

    collection: str
    where: str = ""
    order: str = ""
    modified_since: int | None = None
    ids: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    contact_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    search_term: str = ""
    include_archived: bool = False
    references: tuple[str, ...] = ()


def _order(books: XeroBooks, query: ListQuery) -> tuple[Field | None, bool]:
    """(field, descending) from `order`; None means the default UpdatedDateUTC ascending."""
    text = query.order.strip()
    if not text:
        return None, False
    parts = text.split()
    descending = len(parts) > 1 and parts[1].upper() == "DESC"
    if len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
        raise WhereError(f"Cannot order by {text!r}; use 'Field ASC' or 'Field DESC'")
    builder, resource = FIELD_TABLES[query.collection]
    fields = {k.lower(): v for k, v in builder(books).items()}
    field = fields.get(parts[0].lower())
    if field is None:
        raise WhereError(f"No property or field '{parts[0]}' exists in type '{resource}'")
    return field, descending


def matching_ids(books: XeroBooks, query: ListQuery) -> list[str]:
    """Ids of every match in result order; cached until the collection next changes."""
    builder, resource = FIELD_TABLES[query.collection]
    predicate = compile_where(query.where, builder(books), resource)
    order_field, descending = _order(books, query)
    version = books.versions[query.collection]
    return books.cache.get_or_compute(query, version,
                                      lambda: _compute(books, query, predicate, order_field, descending))


def _compute(books: XeroBooks, query: ListQuery, predicate: Callable[[dict[str, Any]], bool],
             order_field: Field | None, descending: bool) -> list[str]:
    rows = books.records[query.collection]
    pairs = books.indexes[query.collection].range(query.modified_since, True)
    filters: list[Callable[[dict[str, Any]], bool]] = [predicate]
    if query.ids:
        wanted = {i.lower() for i in query.ids}
        id_key = ID_KEYS[query.collection]
        filters.append(lambda r: r[id_key] in wanted)
    if query.numbers:
        numbers = {n.lower() for n in query.numbers}
        filters.append(lambda r: (r.get("InvoiceNumber") or "").lower() in numbers)
    if query.contact_ids:
        contacts = {c.lower() for c in query.contact_ids}
        filters.append(lambda r: (r.get("_contact_id") or "") in contacts)
    if query.references:
        references = {ref.lower() for ref in query.references}
        filters.append(lambda r: (r.get("Reference") or "").lower() in references)
    if query.statuses:
        statuses = {s.upper() for s in query.statuses}
        filters.append(lambda r: r["Status"] in statuses)
    if query.collection == "contacts" and not query.include_archived and not query.ids:
        filters.append(lambda r: r.get("ContactStatus") != "ARCHIVED")
    if query.search_term:
        needle = query.search_term.lower()
        keys = (("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
                if query.collection == "contacts" else ("InvoiceNumber", "Reference"))
        filters.append(lambda r: any(needle in str(r.get(k) or "").lower() for k in keys))
    hits = [key for _, key in pairs if all(f(rows[key]) for f in filters)]
    if order_field is not None:
        def sort_key(key: str) -> tuple:
            value = order_field.get(rows[key])
            return (1, "") if value is None else (0, value.lower() if isinstance(value, str) else value)
        hits.sort(key=sort_key, reverse=descending)
    return hits


def page_of(ids: list[str], page: int | None, page_size: int | None) -> tuple[list[str], dict[str, int] | None]:
    """The slice for `page` (1-based) and the spec's pagination object; no page = everything."""
    if page is None:
        return ids, None
    size = min(MAX_PAGE_SIZE, max(1, page_size or DEFAULT_PAGE_SIZE))
    page = max(1, page)
    start = (page - 1) * size
    pagination = {"page": page, "pageSize": size, "pageCount": math.ceil(len(ids) / size),
                  "itemCount": len(ids)}
    return ids[start:start + size], pagination
