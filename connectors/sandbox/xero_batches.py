"""Batch writes (PUT/POST Contacts, Invoices, Payments) with Xero's summarizeErrors semantics.

summarizeErrors=true (the default): one bad element fails the whole request with 400 and an
ApiException listing the elements; nothing is saved. summarizeErrors=false: 200, valid elements
are saved, every element carries StatusAttributeString "OK"/"ERROR" and ValidationErrors — a
partial batch a connector must handle element by element. Elements are validated in order and
conflicts *within* a batch (two contacts with one name, one invoice number twice) are caught too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from connectors.sandbox.xero_books import XeroBooks
from connectors.sandbox.xero_contacts import (
    prepare_contact, prepare_payment, render_invalid_contact, render_invalid_payment, render_payment)
from connectors.sandbox.xero_http import XeroError, api_exception
from connectors.sandbox.xero_invoices import ZERO_GUID, Draft, prepare_invoice, render_invalid

VALIDATION_MESSAGE = "A validation exception occurred"


def elements_of(body: Any, key: str) -> list[dict[str, Any]]:
    """The element list of a write body: {"Invoices": [...]}, or one bare element."""
    if isinstance(body, dict) and key in body:
        items = body[key]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise XeroError(400, api_exception(f"{key} must be a list of objects", number=17,
                                               type_="PostDataInvalidException"))
        return items
    if isinstance(body, dict) and body:
        return [body]
    raise XeroError(400, api_exception(f"The request body must contain {key}", number=17,
                                       type_="PostDataInvalidException"))


def _finish(results: list[tuple[dict[str, Any], Any, dict[str, Any] | None]], summarize: bool,
            render_bad: Callable[[dict[str, Any], Any], dict[str, Any]], ok_flag: str
            ) -> tuple[int, list[dict[str, Any]]]:
    """Shape the per-element outcome; results are (raw, draft, rendered-if-saved)."""
    out = []
    for raw, draft, rendered in results:
        if rendered is None:
            out.append(render_bad(raw, draft))
            continue
        rendered["StatusAttributeString"] = "OK"
        if not summarize:
            rendered[ok_flag] = False
            rendered["ValidationErrors"] = []
        out.append(rendered)
    return 200, out


def _refuse(pairs: list[tuple[dict[str, Any], Any]], render_bad: Callable[[dict[str, Any], Any], dict[str, Any]],
            id_key: str) -> XeroError:
    elements = []
    for raw, draft in pairs:
        if draft.errors:
            elements.append(render_bad(raw, draft))
        else:
            elements.append({**raw, id_key: raw.get(id_key, ZERO_GUID), "ValidationErrors": []})
    return XeroError(400, api_exception(VALIDATION_MESSAGE, elements))


def write_contacts(books: XeroBooks, elements: list[dict[str, Any]], *, summarize: bool,
                   match_number: bool, forced_id: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    taken: set[str] = set()
    pairs = []
    for raw in elements:
        existing = None
        if forced_id:
            raw = {**raw, "ContactID": forced_id}
        if raw.get("ContactID"):
            existing = books.contact(str(raw["ContactID"]))
        elif match_number and raw.get("ContactNumber"):
            existing = books.contact_by_number(str(raw["ContactNumber"]))
        draft = prepare_contact(books, raw, existing, taken)
        if raw.get("ContactID") and existing is None:
            draft.errors.append(f"The contact with ContactID {raw['ContactID']} could not be found")
        if not draft.errors and draft.contact.get("ContactStatus") == "ACTIVE":
            taken.add(draft.contact["Name"].lower())
        pairs.append((raw, draft))
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid_contact, "ContactID")
    results = []
    for raw, draft in pairs:
        saved = None if draft.errors else books.render_contact(books.save_contact(draft.contact))
        results.append((raw, draft, saved))
    return _finish(results, summarize, render_invalid_contact, "HasValidationErrors")


def write_invoices(books: XeroBooks, elements: list[dict[str, Any]], *, summarize: bool,
                   match_number: bool, unitdp: int = 2, forced_id: str | None = None
                   ) -> tuple[int, list[dict[str, Any]]]:
    taken: set[str] = set()
    pairs: list[tuple[dict[str, Any], Draft]] = []
    for raw in elements:
        wanted_id = forced_id or raw.get("InvoiceID")
        existing = books.invoice(str(wanted_id)) if wanted_id else None
        if existing is None and match_number and raw.get("InvoiceNumber"):
            existing = books.invoice_by_number(str(raw["InvoiceNumber"]))
        draft = prepare_invoice(books, raw, existing, taken, unitdp)
        if wanted_id and existing is None:
            draft.errors.append(f"Invoice with InvoiceID {wanted_id} could not be found")
        number = draft.invoice.get("InvoiceNumber")
        if not draft.errors and number:
            taken.add(number.lower())
        pairs.append((raw, draft))
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid, "InvoiceID")
    results = []
    for raw, draft in pairs:
        if draft.errors:
            results.append((raw, draft, None))
            continue
        if draft.new_contact_name:
            contact = books.contact_by_name(draft.new_contact_name) or books.add_contact(draft.new_contact_name)
            draft.invoice["_contact_id"] = contact["ContactID"]
        saved = books.save_invoice(draft.invoice)
        results.append((raw, draft, books.render_invoice(saved)))
    return _finish(results, summarize, render_invalid, "HasErrors")


def write_payments(books: XeroBooks, elements: list[dict[str, Any]], *, summarize: bool
                   ) -> tuple[int, list[dict[str, Any]]]:
    pending: dict[str, Decimal] = {}
    pairs = []
    for raw in elements:
        draft = prepare_payment(books, raw, pending)
        if not draft.errors and draft.invoice is not None:
            key = draft.invoice["InvoiceID"]
            pending[key] = pending.get(key, Decimal("0")) + draft.payment["Amount"]
        pairs.append((raw, draft))
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid_payment, "PaymentID")
    results = []
    for raw, draft in pairs:
        saved = None if draft.errors else render_payment(books.save_payment(draft.payment), books)
        results.append((raw, draft, saved))
    return _finish(results, summarize, render_invalid_payment, "HasValidationErrors")
