"""Xero contact and payment rules: acceptance, and how each is written out.

Contacts: a name is required and must be unique among ACTIVE contacts — Xero's own wording is
kept because connectors match on it when they get it. Payments: only against AUTHORISED
invoices, never more than the amount due, into a bank account (or one that accepts payments);
applying one reduces AmountDue and marks the invoice PAID when nothing is left.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.sandbox.timeutil import day_ms, ms_date, parse_xero_date, today_utc
from connectors.sandbox.xero_invoices import ZERO_GUID, Books, _decimal, money

CONTACT_FIELDS = ("ContactNumber", "AccountNumber", "Name", "FirstName", "LastName", "CompanyNumber",
                  "EmailAddress", "TaxNumber", "Addresses", "Phones", "DefaultCurrency", "IsSupplier",
                  "IsCustomer", "PaymentTerms", "ContactPersons", "BankAccountDetails",
                  "AccountsReceivableTaxType", "AccountsPayableTaxType", "SalesDefaultAccountCode",
                  "PurchasesDefaultAccountCode")
_LIMITS = {"Name": 255, "FirstName": 255, "LastName": 255, "EmailAddress": 255, "TaxNumber": 50,
           "ContactNumber": 50, "AccountNumber": 50, "CompanyNumber": 50}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ContactDraft:
    contact: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    existing: dict[str, Any] | None = None


def duplicate_name_message(name: str) -> str:
    return (f"The contact name {name} is already assigned to another contact. The contact name "
            f"must be unique across all active contacts.")


def prepare_contact(books: Books, raw: dict[str, Any], existing: dict[str, Any] | None,
                    taken_names: set[str]) -> ContactDraft:
    """Validate a contact create (or update of `existing`)."""
    contact = dict(existing) if existing else {"ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE",
                                               "IsSupplier": False, "IsCustomer": False}
    draft = ContactDraft(contact, [], existing)
    for key in CONTACT_FIELDS:
        if key in raw:
            contact[key] = raw[key]
    if raw.get("ContactStatus"):
        status = str(raw["ContactStatus"]).upper()
        if status not in ("ACTIVE", "ARCHIVED"):
            draft.errors.append(f"ContactStatus must be ACTIVE or ARCHIVED, got {status}")
        contact["ContactStatus"] = status
    name = str(contact.get("Name") or "").strip()
    contact["Name"] = name
    if not name:
        draft.errors.append("The contact name must be specified.")
    elif contact["ContactStatus"] == "ACTIVE":
        other = books.contact_by_name(name)
        if (other is not None and other["ContactID"] != contact["ContactID"]) or name.lower() in taken_names:
            draft.errors.append(duplicate_name_message(name))
    for key, limit in _LIMITS.items():
        if isinstance(contact.get(key), str) and len(contact[key]) > limit:
            draft.errors.append(f"{key} must not exceed {limit} characters")
    email = contact.get("EmailAddress")
    if email and not _EMAIL.match(str(email)):
        draft.errors.append("Email address must be valid.")
    currency = contact.get("DefaultCurrency")
    if currency and currency not in books.currencies:
        draft.errors.append(f"Organisation is not subscribed to currency {currency}")
    for key in ("Addresses", "Phones", "ContactPersons"):
        if key in contact and not isinstance(contact[key], list):
            draft.errors.append(f"{key} must be a list")
    return draft


def render_contact(contact: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in contact.items() if not k.startswith("_")}
    out.setdefault("Addresses", [])
    out.setdefault("Phones", [])
    out["ContactGroups"] = []
    out.setdefault("ContactPersons", [])
    out["HasAttachments"] = False
    out["HasValidationErrors"] = False
    if contact.get("_updated_ms"):
        out["UpdatedDateUTC"] = ms_date(contact["_updated_ms"])
    return out


def render_invalid_contact(raw: dict[str, Any], draft: ContactDraft) -> dict[str, Any]:
    out = dict(raw) if isinstance(raw, dict) else {}
    out["ContactID"] = draft.existing["ContactID"] if draft.existing else ZERO_GUID
    out["HasValidationErrors"] = True
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out


@dataclass
class PaymentDraft:
    payment: dict[str, Any]
    invoice: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)


def prepare_payment(books: Any, raw: dict[str, Any], pending: dict[str, Decimal]) -> PaymentDraft:
    """Validate one payment; `pending` carries amounts already taken by earlier batch elements."""
    errors: list[str] = []
    given = raw.get("Invoice") or {}
    invoice = None
    if isinstance(given, dict) and given.get("InvoiceID"):
        invoice = books.invoice(str(given["InvoiceID"]))
    elif isinstance(given, dict) and given.get("InvoiceNumber"):
        invoice = books.invoice_by_number(str(given["InvoiceNumber"]))
    elif raw.get("InvoiceNumber"):
        invoice = books.invoice_by_number(str(raw["InvoiceNumber"]))
    if invoice is None:
        errors.append("The invoice the payment is for could not be found (give Invoice.InvoiceID "
                      "or Invoice.InvoiceNumber)")
    elif invoice["Status"] != "AUTHORISED":
        errors.append("Payments can only be made against Authorised documents")
    amount = _decimal(raw.get("Amount"), "Amount", errors)
    if amount is None:
        errors.append("Amount must be specified")
    elif amount <= 0:
        errors.append("Payment amount must be greater than zero")
    elif invoice is not None:
        due = invoice["AmountDue"] - pending.get(invoice["InvoiceID"], Decimal("0"))
        if money(amount) > due:
            errors.append(f"Payment amount ({money(amount)}) exceeds the amount outstanding on this "
                          f"document ({due})")
    account = _payment_account(books, raw.get("Account") or {}, errors)
    try:
        day = parse_xero_date(raw["Date"]) if raw.get("Date") else today_utc()
    except ValueError:
        errors.append(f"Date must be a valid date, got {raw.get('Date')!r}")
        day = today_utc()
    payment = {
        "PaymentID": str(uuid.uuid4()), "_invoice_id": invoice["InvoiceID"] if invoice else None,
        "_account_code": account["Code"] if account else None, "_date": day,
        "Amount": money(amount) if amount is not None else Decimal("0.00"),
        "Reference": str(raw.get("Reference") or ""), "Status": "AUTHORISED",
        "IsReconciled": bool(raw.get("IsReconciled", False)),
        "CurrencyRate": invoice["CurrencyRate"] if invoice else Decimal("1.000000"),
        "PaymentType": "ACCPAYPAYMENT" if invoice and invoice["Type"] == "ACCPAY" else "ACCRECPAYMENT",
    }
    return PaymentDraft(payment, invoice, errors)


def _payment_account(books: Any, given: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    account = None
    if given.get("AccountID"):
        account = next((a for a in books.accounts.values() if a["AccountID"] == given["AccountID"]), None)
    elif given.get("Code"):
        account = books.accounts.get(str(given["Code"]))
    if account is None:
        errors.append("Account must be specified by AccountID or Code and must exist")
    elif account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
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
    invoice = books.invoice(payment["_invoice_id"]) if with_invoice and payment["_invoice_id"] else None
    if invoice is not None:
        contact = books.contact(invoice.get("_contact_id") or "") or {}
        out["Invoice"] = {"Type": invoice["Type"], "InvoiceID": invoice["InvoiceID"],
                          "InvoiceNumber": invoice.get("InvoiceNumber", ""),
                          "CurrencyCode": invoice["CurrencyCode"],
                          "Contact": {"ContactID": contact.get("ContactID", ZERO_GUID),
                                      "Name": contact.get("Name", "")},
                          "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                          "HasErrors": False, "IsDiscounted": False, "HasAttachments": False}
    return out


def payment_summary(payment: dict[str, Any]) -> dict[str, Any]:
    """How a payment appears inside an invoice's Payments list."""
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
