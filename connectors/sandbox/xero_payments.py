"""Xero payment rules: what a payment may be applied to, and how one is written out.

A payment settles one document: an invoice (ACCRECPAYMENT / ACCPAYPAYMENT), or — as a refund —
a credit note (ARCREDITPAYMENT / APCREDITPAYMENT) or an overpayment (AROVERPAYMENTPAYMENT), the
payment types Xero's docs list for "Accounts Receivable Credit / Overpayment Payment (refund)".
`PaymentType` is read-only in the spec, so it is derived from the document, never taken from the
request. Like Xero: only AUTHORISED documents, amount > 0, never more than is outstanding (the
invoice's AmountDue or the credit's RemainingCredit) — overpaying an invoice is refused with Xero's
own message; real overpayments are recorded as RECEIVE-OVERPAYMENT bank transactions instead.

How refunds are written out is not fully documented: the spec's only example of a refund
(ARCREDITPAYMENT) names the credit note in the payment's `Invoice` object with Type ACCRECCREDIT,
so overpayment refunds name the overpayment the same way, with Type AROVERPAYMENT (a value of
the spec's Invoice.Type enum); no other keys are invented.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.sandbox.timeutil import day_ms, ms_date, parse_xero_date, today_utc
from connectors.sandbox.xero_invoices import ZERO_GUID, _decimal, money

EXCEEDS_MESSAGE = "Payment amount exceeds the amount outstanding on this document"
_PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT",
                  "ACCPAYCREDIT": "APCREDITPAYMENT", "RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT"}
# The document a payment settles: (collection, key of its id on the payment record)
DOCUMENT_KEYS = {"invoices": "_invoice_id", "credit_notes": "_credit_note_id",
                 "overpayments": "_overpayment_id"}


@dataclass
class PaymentDraft:
    payment: dict[str, Any]
    document: dict[str, Any] | None          # the invoice, credit note or overpayment it settles
    errors: list[str] = field(default_factory=list)

    @property
    def invoice(self) -> dict[str, Any] | None:   # kept for callers written before refunds existed
        return self.document


def payment_document(payment: dict[str, Any]) -> tuple[str, str | None]:
    """(collection, id) of the document a payment settles."""
    for collection, key in DOCUMENT_KEYS.items():
        if payment.get(key):
            return collection, payment[key]
    return "invoices", None


def outstanding(collection: str, document: dict[str, Any]) -> Decimal:
    return document["AmountDue"] if collection == "invoices" else document["RemainingCredit"]


def _find_document(books: Any, raw: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    """(collection, document, error) for the Invoice / CreditNote / Overpayment a payment names."""
    invoice, note, over = (raw.get(k) if isinstance(raw.get(k), dict) else None
                           for k in ("Invoice", "CreditNote", "Overpayment"))
    if over is not None:
        found = books.overpayment(str(over.get("OverpaymentID") or ""))
        return "overpayments", found, None if found else "The overpayment could not be found"
    if note is not None or raw.get("CreditNoteNumber"):
        note = note or {}
        found = (books.credit_note(str(note["CreditNoteID"])) if note.get("CreditNoteID") else
                 books.credit_note_by_number(str(note.get("CreditNoteNumber") or raw.get("CreditNoteNumber"))))
        return "credit_notes", found, None if found else "The credit note could not be found"
    found = None
    if invoice is not None and invoice.get("InvoiceID"):
        found = books.invoice(str(invoice["InvoiceID"]))
    elif invoice is not None and invoice.get("InvoiceNumber"):
        found = books.invoice_by_number(str(invoice["InvoiceNumber"]))
    elif raw.get("InvoiceNumber"):
        found = books.invoice_by_number(str(raw["InvoiceNumber"]))
    return "invoices", found, None if found else (
        "The invoice the payment is for could not be found (give Invoice.InvoiceID or Invoice.InvoiceNumber)")


def prepare_payment(books: Any, raw: dict[str, Any], pending: dict[str, Decimal]) -> PaymentDraft:
    """Validate one payment; `pending` carries amounts already taken by earlier batch elements."""
    errors: list[str] = []
    collection, document, missing = _find_document(books, raw)
    if missing:
        errors.append(missing)
    elif document["Status"] != "AUTHORISED":
        errors.append("Payments can only be made against Authorised documents")
    amount = _decimal(raw.get("Amount"), "Amount", errors)
    if amount is None:
        errors.append("Amount must be specified")
    elif amount <= 0:
        errors.append("Payment amount must be greater than zero")
    elif document is not None and document["Status"] == "AUTHORISED":
        left = outstanding(collection, document) - pending.get(_id_of(collection, document), Decimal("0"))
        if money(amount) > left:
            errors.append(EXCEEDS_MESSAGE)
    account = payment_account(books, raw.get("Account") or {}, errors)
    try:
        day = parse_xero_date(raw["Date"]) if raw.get("Date") else today_utc()
    except ValueError:
        errors.append(f"Date must be a valid date, got {raw.get('Date')!r}")
        day = today_utc()
    payment = {
        "PaymentID": str(uuid.uuid4()), "_invoice_id": None,
        "_account_code": account["Code"] if account else None, "_date": day,
        "Amount": money(amount) if amount is not None else Decimal("0.00"),
        "Reference": str(raw.get("Reference") or ""), "Status": "AUTHORISED",
        "IsReconciled": bool(raw.get("IsReconciled", False)),
        "CurrencyRate": document["CurrencyRate"] if document else Decimal("1.000000"),
        "PaymentType": _PAYMENT_TYPES.get(document["Type"] if document else "ACCREC", "ACCRECPAYMENT"),
    }
    if document is not None:
        payment[DOCUMENT_KEYS[collection]] = _id_of(collection, document)
    return PaymentDraft(payment, document, errors)


def _id_of(collection: str, document: dict[str, Any]) -> str:
    return document[{"invoices": "InvoiceID", "credit_notes": "CreditNoteID",
                     "overpayments": "OverpaymentID"}[collection]]


def payment_account(books: Any, given: Any, errors: list[str], *, bank_only: bool = False
                    ) -> dict[str, Any] | None:
    """The account money moves through: a BANK account, or one that accepts payments."""
    account = None
    given = given if isinstance(given, dict) else {}
    if given.get("AccountID"):
        account = next((a for a in books.accounts.values()
                        if a["AccountID"].lower() == str(given["AccountID"]).lower()), None)
    elif given.get("Code"):
        account = books.accounts.get(str(given["Code"]))
    if account is None:
        errors.append("Account must be specified by AccountID or Code and must exist")
    elif account["Type"] != "BANK" and (bank_only or not account.get("EnablePaymentsToAccount")):
        errors.append(f"Account {account['Code']} is not a bank account and does not accept payments")
        return None
    return account


def render_payment(payment: dict[str, Any], books: Any, *, with_invoice: bool = True) -> dict[str, Any]:
    account = books.accounts.get(payment["_account_code"] or "", {})
    out: dict[str, Any] = {
        "PaymentID": payment["PaymentID"], "Date": ms_date(day_ms(payment["_date"])),
        "BankAmount": payment["Amount"], "Amount": payment["Amount"], "Reference": payment["Reference"],
        "CurrencyRate": payment["CurrencyRate"], "PaymentType": payment["PaymentType"],
        "Status": payment["Status"], "UpdatedDateUTC": ms_date(payment["_updated_ms"]),
        "HasAccount": bool(account), "IsReconciled": payment["IsReconciled"],
        "HasValidationErrors": False,
        "Account": {"AccountID": account.get("AccountID", ZERO_GUID), "Code": account.get("Code", "")},
    }
    if account.get("Name"):
        out["Account"]["Name"] = account["Name"]
    collection, doc_id = payment_document(payment)
    document = books.records[collection].get(doc_id or "") if with_invoice else None
    if document is not None:
        contact = books.contact(document.get("_contact_id") or "") or {}
        number = document.get("InvoiceNumber", document.get("CreditNoteNumber", ""))
        out["Invoice"] = {"Type": "AROVERPAYMENT" if collection == "overpayments" else document["Type"],
                          "InvoiceID": _id_of(collection, document), "InvoiceNumber": number or "",
                          "CurrencyCode": document["CurrencyCode"],
                          "Contact": {"ContactID": contact.get("ContactID", ZERO_GUID),
                                      "Name": contact.get("Name", "")},
                          "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                          "HasErrors": False, "IsDiscounted": False, "HasAttachments": False}
    return out


def payment_summary(payment: dict[str, Any]) -> dict[str, Any]:
    """How a payment appears inside an invoice's (credit note's, overpayment's) Payments list."""
    return {"PaymentID": payment["PaymentID"], "Date": ms_date(day_ms(payment["_date"])),
            "Amount": payment["Amount"], "Reference": payment["Reference"],
            "CurrencyRate": payment["CurrencyRate"], "HasAccount": False, "HasValidationErrors": False}


def render_invalid_payment(raw: dict[str, Any], draft: PaymentDraft) -> dict[str, Any]:
    out = dict(raw) if isinstance(raw, dict) else {}
    out["PaymentID"] = ZERO_GUID
    out["HasValidationErrors"] = True
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out
