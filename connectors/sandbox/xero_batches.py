"""Batch writes (Contacts, Invoices, Payments, CreditNotes, BankTransactions, Allocations) with
Xero's summarizeErrors semantics.

summarizeErrors=true (the default): one bad element fails the whole request with 400 and an
ApiException listing the elements; nothing is saved. summarizeErrors=false: 200, valid elements
are saved, every element carries StatusAttributeString "OK"/"ERROR" and ValidationErrors — a
partial batch a connector must handle element by element. Elements are validated in order and
conflicts *within* a batch (two contacts with one name, one invoice number twice, two payments
that together overpay one invoice) are caught too. The HTTP routes and the Python shortcuts
(xero_money) both write through these functions, so the two can never apply different rules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from connectors.sandbox.xero_allocations import (
    SOURCES, prepare_allocation, render_allocation, render_invalid_allocation)
from connectors.sandbox.xero_contacts import prepare_contact, render_invalid_contact
from connectors.sandbox.xero_credit_notes import prepare_credit_note, render_invalid_credit_note
from connectors.sandbox.xero_http import NotFound, XeroError, api_exception
from connectors.sandbox.xero_invoices import ZERO_GUID, Draft, prepare_invoice, render_invalid
from connectors.sandbox.xero_overpayments import prepare_bank_transaction, render_invalid_bank_transaction
from connectors.sandbox.xero_payments import (
    payment_document, prepare_payment, render_invalid_payment, render_payment)

if TYPE_CHECKING:
    from connectors.sandbox.xero_books import XeroBooks

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
            render_bad: Callable[[dict[str, Any], Any], dict[str, Any]], ok_flag: str | None
            ) -> tuple[int, list[dict[str, Any]]]:
    """Shape the per-element outcome; results are (raw, draft, rendered-if-saved)."""
    out = []
    for raw, draft, rendered in results:
        if rendered is None:
            out.append(render_bad(raw, draft))
            continue
        rendered["StatusAttributeString"] = "OK"
        if not summarize:
            if ok_flag:
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
    pending: dict[str, Decimal] = {}     # document id -> amount taken by earlier elements
    pairs = []
    for raw in elements:
        draft = prepare_payment(books, raw, pending)
        if not draft.errors and draft.document is not None:
            key = payment_document(draft.payment)[1] or ""
            pending[key] = pending.get(key, Decimal("0")) + draft.payment["Amount"]
        pairs.append((raw, draft))
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid_payment, "PaymentID")
    results = []
    for raw, draft in pairs:
        saved = None if draft.errors else render_payment(books.save_payment(draft.payment), books)
        results.append((raw, draft, saved))
    return _finish(results, summarize, render_invalid_payment, "HasValidationErrors")


def reverse_payment(books: XeroBooks, payment: dict[str, Any]) -> dict[str, Any]:
    """POST /Payments/{id} {"Status": "DELETED"}: reverse it; reversing twice changes nothing."""
    if payment["Status"] != "DELETED":
        books.delete_payment(payment)
    return render_payment(payment, books)


def write_credit_notes(books: XeroBooks, elements: list[dict[str, Any]], *, summarize: bool,
                       match_number: bool, unitdp: int = 2, forced_id: str | None = None
                       ) -> tuple[int, list[dict[str, Any]]]:
    taken: set[str] = set()
    pairs = []
    for raw in elements:
        wanted_id = forced_id or raw.get("CreditNoteID")
        existing = books.credit_notes.get(str(wanted_id).lower()) if wanted_id else None
        if existing is None and match_number and raw.get("CreditNoteNumber"):
            existing = books.credit_note_by_number(str(raw["CreditNoteNumber"]))
        draft = prepare_credit_note(books, raw, existing, taken, unitdp)
        if wanted_id and existing is None:
            draft.errors.append("An existing Credit Note with the specified CreditNoteID could not be found")
        number = draft.note.get("CreditNoteNumber")
        if not draft.errors and number:
            taken.add(number.lower())
        pairs.append((raw, draft))
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid_credit_note, "CreditNoteID")
    results = []
    for raw, draft in pairs:
        if draft.errors:
            results.append((raw, draft, None))
            continue
        _settle_new_contact(books, draft, draft.note)
        results.append((raw, draft, books.render_credit_note(books.save_credit_note(draft.note))))
    return _finish(results, summarize, render_invalid_credit_note, "HasErrors")


def write_bank_transactions(books: XeroBooks, elements: list[dict[str, Any]], *, summarize: bool,
                            unitdp: int = 2) -> tuple[int, list[dict[str, Any]]]:
    pairs = [(raw, prepare_bank_transaction(books, raw, unitdp)) for raw in elements]
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid_bank_transaction, "BankTransactionID")
    results = []
    for raw, draft in pairs:
        if draft.errors:
            results.append((raw, draft, None))
            continue
        _settle_new_contact(books, draft, draft.transaction)
        draft.overpayment["_contact_id"] = draft.transaction["_contact_id"]
        saved = books.save_bank_transaction(draft.transaction, draft.overpayment)
        results.append((raw, draft, books.render_bank_transaction(saved)))
    return _finish(results, summarize, render_invalid_bank_transaction, None)


def write_allocations(books: XeroBooks, elements: list[dict[str, Any]], *, summarize: bool,
                      source: str, forced_id: str | None) -> tuple[int, list[dict[str, Any]]]:
    """PUT /CreditNotes/{id}/Allocations and /Overpayments/{id}/Allocations."""
    credit = books.records[source].get(str(forced_id or "").lower())
    if credit is None and source == "credit_notes":
        credit = books.credit_note_by_number(str(forced_id or ""))
    if credit is None:
        raise NotFound(f"{SOURCES[source][1]} {forced_id}")
    pending: dict[str, Decimal] = {}     # credit id / invoice id -> amount taken by earlier elements
    pairs = []
    for raw in elements:
        draft = prepare_allocation(books, source, credit, raw, pending)
        if not draft.errors and draft.invoice is not None:
            for key in (credit[SOURCES[source][0]], draft.invoice["InvoiceID"]):
                pending[key] = pending.get(key, Decimal("0")) + draft.allocation["Amount"]
        pairs.append((raw, draft))
    if summarize and any(d.errors for _, d in pairs):
        raise _refuse(pairs, render_invalid_allocation, "AllocationID")
    results = []
    for raw, draft in pairs:
        if draft.errors:
            results.append((raw, draft, None))
            continue
        books.allocate(source, credit, draft.allocation)
        results.append((raw, draft, render_allocation(draft.allocation, source, credit, draft.invoice)))
    return _finish(results, summarize, render_invalid_allocation, None)


def _settle_new_contact(books: XeroBooks, draft: Any, document: dict[str, Any]) -> None:
    """A document naming an unknown contact creates it, as Xero does (and as invoices do)."""
    if draft.new_contact_name:
        contact = books.contact_by_name(draft.new_contact_name) or books.add_contact(draft.new_contact_name)
        document["_contact_id"] = contact["ContactID"]

