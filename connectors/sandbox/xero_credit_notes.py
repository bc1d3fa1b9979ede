"""Xero credit note rules: what is accepted, how totals and remaining credit follow, how one is written.

A credit note is an invoice turned around: the same contact, currency, line and rounding rules
(shared with xero_invoices, so a credit for R 115.00 incl. VAT carries exactly the VAT the invoice
charged), its own numbering (CN-0001 …, unique among sales credit notes) and a RemainingCredit that
allocations to invoices and cash refunds use up. Fully used → PAID, as Xero marks it. Once any of
it is used its lines are frozen and it cannot be voided — the same rule as a paid invoice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.sandbox.timeutil import day_ms, ms_date, parse_xero_date, today_utc, xero_date_string
from connectors.sandbox.xero_invoices import (
    LINE_AMOUNT_TYPES, ZERO, ZERO_GUID, Books, apply_contact, apply_currency, apply_document_number,
    contact_summary,
    document_lines, line_totals, money)
from connectors.sandbox.xero_where import Field

SIDES = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}   # credit note type -> invoice type it credits
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
_ALLOWED_MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"}, "VOIDED": set(), "DELETED": set(),
}
FROZEN_MESSAGE = "This document cannot be edited as it has a payment or credit note allocated to it."


@dataclass
class CreditNoteDraft:
    """A credit note checked against the books: ready to commit when `errors` is empty."""

    note: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    existing: dict[str, Any] | None = None
    new_contact_name: str | None = None      # Xero creates a contact named on the document


def used_credit(note: dict[str, Any]) -> Decimal:
    """How much of a credit note (or overpayment) allocations and refunds have taken."""
    return note.get("Total", ZERO) - note.get("RemainingCredit", note.get("Total", ZERO))


def prepare_credit_note(books: Books, raw: dict[str, Any], existing: dict[str, Any] | None,
                        taken_numbers: set[str], unitdp: int = 2) -> CreditNoteDraft:
    """Validate `raw` (a create, or an update of `existing`) and compute the resulting credit note."""
    note = dict(existing) if existing else {"CreditNoteID": str(uuid.uuid4()), "SentToContact": False,
                                            "_allocations": []}
    if existing:
        note["LineItems"] = [dict(line) for line in existing.get("LineItems", [])]
    draft = CreditNoteDraft(note, [], existing)
    errors = draft.errors
    old_status = existing["Status"] if existing else None
    if old_status in ("PAID", "VOIDED", "DELETED"):
        errors.append(FROZEN_MESSAGE if old_status == "PAID" else
                      "Credit note not of valid status for modification")
        return draft
    used = used_credit(existing) if existing else ZERO
    if used > 0 and "LineItems" in raw:
        errors.append(FROZEN_MESSAGE)
        return draft
    note["Type"] = raw.get("Type", note.get("Type"))
    if note["Type"] not in SIDES:
        errors.append('Credit note Type must be "ACCRECCREDIT" or "ACCPAYCREDIT"' if note["Type"] else
                      "The credit note Type must be specified")
    apply_contact(books, raw, note, draft)
    status = str(raw.get("Status") or note.get("Status") or "DRAFT").upper()
    if existing is None and status not in CREATE_STATUSES:
        errors.append(f"Credit notes cannot be created with Status {status}; use DRAFT, SUBMITTED or AUTHORISED")
    elif existing is not None and status not in _ALLOWED_MOVES.get(old_status or "", set()):
        errors.append(f"Credit notes with a status of {old_status} cannot be changed to {status}")
    elif status == "VOIDED" and used > 0:
        errors.append("Credit note could not be voided as it has been allocated or refunded")
    note["Status"] = status
    for key, target in (("Date", "_date"), ("DueDate", "_due")):
        if raw.get(key) not in (None, ""):
            try:
                note[target] = parse_xero_date(raw[key])
            except ValueError:
                errors.append(f"{key} must be a valid date, got {raw[key]!r}")
    note.setdefault("_date", today_utc())
    note.setdefault("_due", None)
    if raw.get("Reference") is not None:
        note["Reference"] = str(raw["Reference"])
    note.setdefault("Reference", "")
    apply_currency(books, raw, note, errors)
    amount_types = raw.get("LineAmountTypes", note.get("LineAmountTypes", "Exclusive"))
    note["LineAmountTypes"] = LINE_AMOUNT_TYPES.get(str(amount_types).lower(), "")
    if not note["LineAmountTypes"]:
        errors.append(f"LineAmountTypes must be Exclusive, Inclusive or NoTax, got {amount_types!r}")
    apply_document_number(raw, note, errors, taken_numbers, number_field="CreditNoteNumber",
                          id_field="CreditNoteID", numbered_type="ACCRECCREDIT", label="Credit Note",
                          find=books.credit_note_by_number)
    if "LineItems" in raw or existing is None:
        old_ids = {li["LineItemID"] for li in (existing or {}).get("LineItems", [])}
        note["LineItems"] = document_lines(books, raw.get("LineItems"), side=SIDES.get(note["Type"], "ACCREC"),
                                           status=status, amount_types=note["LineAmountTypes"] or "Exclusive",
                                           errors=errors, old_ids=old_ids, unitdp=unitdp)
    line_totals(note, books.tax_rates)
    if note["Total"] < 0:
        errors.append("The credit note total must not be negative")
    if used > note["Total"]:
        errors.append("The credit note total cannot be less than the credit already used")
    note["RemainingCredit"] = money(note["Total"] - used)
    return draft


def render_credit_note(note: dict[str, Any], contact: dict[str, Any] | None, payments: list[dict[str, Any]],
                       allocations: list[dict[str, Any]], *, summary: bool = False) -> dict[str, Any]:
    """The credit note as Xero's JSON writes it (the spec's examples carry `ID` = CreditNoteID too)."""
    out: dict[str, Any] = {
        "CreditNoteID": note["CreditNoteID"], "ID": note["CreditNoteID"],
        "CreditNoteNumber": note.get("CreditNoteNumber", ""), "Type": note["Type"],
        "Reference": note.get("Reference", ""), "Payments": payments, "Allocations": allocations,
        "RemainingCredit": note["RemainingCredit"], "CurrencyRate": note["CurrencyRate"],
        "HasAttachments": False, "HasErrors": False, "SentToContact": note.get("SentToContact", False),
        "Contact": contact_summary(note, contact),
        "DateString": xero_date_string(note["_date"]), "Date": ms_date(day_ms(note["_date"])),
        "Status": note["Status"], "LineAmountTypes": note["LineAmountTypes"],
        "SubTotal": note["SubTotal"], "TotalTax": note["TotalTax"], "Total": note["Total"],
        "CurrencyCode": note["CurrencyCode"],
    }
    if note.get("_updated_ms"):
        out["UpdatedDateUTC"] = ms_date(note["_updated_ms"])
    if note.get("_due"):
        out["DueDate"] = ms_date(day_ms(note["_due"]))
    if note.get("_fully_paid"):
        out["FullyPaidOnDate"] = ms_date(day_ms(note["_fully_paid"]))
    if not summary:
        out["LineItems"] = [dict(line) for line in note.get("LineItems", [])]
    return out


def credit_note_summary(note: dict[str, Any], applied_amount: Decimal) -> dict[str, Any]:
    """How a credit note appears in the CreditNotes list of an invoice it was allocated to."""
    return {"CreditNoteID": note["CreditNoteID"], "ID": note["CreditNoteID"],
            "CreditNoteNumber": note.get("CreditNoteNumber", ""), "Type": note["Type"],
            "DateString": xero_date_string(note["_date"]), "Date": ms_date(day_ms(note["_date"])),
            "Status": note["Status"], "Total": note["Total"], "AppliedAmount": applied_amount,
            "RemainingCredit": note["RemainingCredit"], "CurrencyCode": note["CurrencyCode"],
            "LineItems": [], "HasErrors": False}


def render_invalid_credit_note(raw: dict[str, Any], draft: CreditNoteDraft) -> dict[str, Any]:
    out = dict(raw) if isinstance(raw, dict) else {}
    for key in ("SubTotal", "TotalTax", "Total", "RemainingCredit"):
        if key in draft.note:
            out[key] = draft.note[key]
    out["CreditNoteID"] = draft.existing["CreditNoteID"] if draft.existing else ZERO_GUID
    out["HasErrors"] = True
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out


def credit_note_fields(books: Any) -> dict[str, Field]:
    """What `where` and `order` may name on GET /CreditNotes."""
    contact = lambda r: books.contact(r.get("_contact_id") or "") or {}  # noqa: E731
    return {
        "CreditNoteID": Field("guid", lambda r: r["CreditNoteID"]),
        "CreditNoteNumber": Field("string", lambda r: r.get("CreditNoteNumber") or None),
        "Reference": Field("string", lambda r: r.get("Reference") or None),
        "Status": Field("string", lambda r: r["Status"]),
        "Type": Field("string", lambda r: r["Type"]),
        "Contact.ContactID": Field("guid", lambda r: r.get("_contact_id")),
        "Contact.Name": Field("string", lambda r: contact(r).get("Name")),
        "Total": Field("number", lambda r: r["Total"]),
        "RemainingCredit": Field("number", lambda r: r["RemainingCredit"]),
        "CurrencyCode": Field("string", lambda r: r["CurrencyCode"]),
        "Date": Field("date", lambda r: r.get("_date")),
        "UpdatedDateUTC": Field("datetime", lambda r: r["_updated_ms"]),
    }
