"""Allocating credit (a credit note or an overpayment) to an invoice.

PUT /CreditNotes/{id}/Allocations and PUT /Overpayments/{id}/Allocations share one rule set:
the credit must be AUTHORISED with credit left, the invoice AUTHORISED, of the matching side
(sales credit → sales invoice), for the same contact and in the same currency, and the amount
must be > 0 and no more than *either* what is left on the credit *or* what is due on the
invoice. An allocation raises the invoice's AmountCredited ("sum of all credit notes,
over-payments and pre-payments applied", per the spec) — not AmountPaid — and lowers its AmountDue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.sandbox.timeutil import day_ms, ms_date, parse_xero_date, today_utc
from connectors.sandbox.xero_invoices import ZERO_GUID, _decimal, money

# collection of the credit -> (its id key, a label for messages, its key inside an Allocation)
SOURCES = {"credit_notes": ("CreditNoteID", "credit note", "CreditNote"),
           "overpayments": ("OverpaymentID", "overpayment", "Overpayment")}
# credit type -> the invoice type it may be allocated to
_INVOICE_TYPE = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY", "RECEIVE-OVERPAYMENT": "ACCREC"}


@dataclass
class AllocationDraft:
    allocation: dict[str, Any]
    invoice: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)


def prepare_allocation(books: Any, source_kind: str, source: dict[str, Any], raw: dict[str, Any],
                       pending: dict[str, Decimal]) -> AllocationDraft:
    """Validate one allocation of `source`; `pending` holds amounts taken earlier in the batch."""
    id_key, label, _ = SOURCES[source_kind]
    errors: list[str] = []
    if source["Status"] == "PAID":
        errors.append(f"This {label} has no remaining credit to allocate")
    elif source["Status"] != "AUTHORISED":
        errors.append(f"Only an AUTHORISED {label} can be allocated (this one is {source['Status']})")
    given = raw.get("Invoice") if isinstance(raw.get("Invoice"), dict) else {}
    invoice = None
    if given.get("InvoiceID"):
        invoice = books.invoice(str(given["InvoiceID"]))
    elif given.get("InvoiceNumber"):
        invoice = books.invoice_by_number(str(given["InvoiceNumber"]))
    if invoice is None:
        errors.append("The invoice to allocate to could not be found (give Invoice.InvoiceID or "
                      "Invoice.InvoiceNumber)")
    elif invoice["Status"] != "AUTHORISED":
        errors.append(f"Credit can only be allocated to an AUTHORISED invoice (this one is {invoice['Status']})")
    elif invoice["Type"] != _INVOICE_TYPE.get(source["Type"]):
        errors.append(f"A {source['Type']} {label} cannot be allocated to an {invoice['Type']} invoice")
    elif invoice.get("_contact_id") != source.get("_contact_id"):
        errors.append(f"The invoice and the {label} must belong to the same contact")
    elif invoice["CurrencyCode"] != source["CurrencyCode"]:
        errors.append(f"The invoice and the {label} must be in the same currency")
    amount = _decimal(raw.get("Amount"), "Amount", errors)
    if amount is None:
        errors.append("Amount must be specified")
    elif amount <= 0:
        errors.append("The amount allocated must be greater than zero")
    else:
        amount = money(amount)
        credit_left = source["RemainingCredit"] - pending.get(source[id_key], Decimal("0"))
        if amount > credit_left:
            errors.append(f"The amount allocated ({amount}) exceeds the remaining credit on this "
                          f"{label} ({credit_left})")
        if invoice is not None:
            due = invoice["AmountDue"] - pending.get(invoice["InvoiceID"], Decimal("0"))
            if amount > due:
                errors.append(f"The amount allocated ({amount}) exceeds the amount outstanding on the "
                              f"invoice ({due})")
    try:
        day = parse_xero_date(raw["Date"]) if raw.get("Date") else today_utc()
    except ValueError:
        errors.append(f"Date must be a valid date, got {raw.get('Date')!r}")
        day = today_utc()
    allocation = {"AllocationID": str(uuid.uuid4()), "_invoice_id": invoice["InvoiceID"] if invoice else None,
                  "Amount": amount if amount is not None and amount > 0 else Decimal("0.00"), "_date": day}
    return AllocationDraft(allocation, invoice, errors)


def render_allocation(allocation: dict[str, Any], source_kind: str, source: dict[str, Any],
                      invoice: dict[str, Any] | None) -> dict[str, Any]:
    """An allocation as the Allocations endpoints and a credit's Allocations list write it."""
    id_key, _, source_key = SOURCES[source_kind]
    out: dict[str, Any] = {
        "AllocationID": allocation["AllocationID"], "Amount": allocation["Amount"],
        "Date": ms_date(day_ms(allocation["_date"])), "IsDeleted": False,
        "Invoice": {"InvoiceID": allocation["_invoice_id"] or ZERO_GUID,
                    "InvoiceNumber": (invoice or {}).get("InvoiceNumber", ""),
                    "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                    "HasErrors": False, "IsDiscounted": False, "LineItems": []},
        source_key: {id_key: source[id_key], "ID": source[id_key], "LineItems": []},
    }
    if invoice is not None:
        out["Invoice"]["Type"] = invoice["Type"]
    if source_kind == "credit_notes":
        out[source_key]["CreditNoteNumber"] = source.get("CreditNoteNumber", "")
    return out


def render_invalid_allocation(raw: dict[str, Any], draft: AllocationDraft) -> dict[str, Any]:
    out = dict(raw) if isinstance(raw, dict) else {}
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out
