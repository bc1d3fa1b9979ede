"""Overpayments as Xero records them: a RECEIVE-OVERPAYMENT bank transaction creates the credit.

Xero has no POST /Overpayments: money received beyond what is owed is entered as a bank
transaction of Type RECEIVE-OVERPAYMENT (into a BANK account, for a contact), and Xero creates an
Overpayment whose OverpaymentID is the bank transaction's id (the spec's own example links an
overpayment's attachment under /banktransaction/{OverpaymentID}). Its RemainingCredit is then used
up by allocations to that contact's invoices or by refunds (PUT /Payments with an Overpayment).

Deliberate limits, each refused with a readable message rather than half-emulated: only
RECEIVE-OVERPAYMENT bank transactions (no plain RECEIVE/SPEND, prepayments or transfers), created
AUTHORISED and never edited. Line items follow the invoice line rules except that AccountCode is
optional (the amount goes to Accounts Receivable) and, as the spec's LineItem allows, a LineAmount
may stand in for UnitAmount.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.timeutil import day_ms, ms_date, parse_xero_date, today_utc, xero_date_string
from connectors.sandbox.xero_invoices import (
    LINE_AMOUNT_TYPES, ZERO_GUID, apply_contact, apply_currency, contact_summary, document_lines,
    line_totals)
from connectors.sandbox.xero_payments import payment_account
from connectors.sandbox.xero_where import Field

SUPPORTED_TYPE = "RECEIVE-OVERPAYMENT"


@dataclass
class BankTransactionDraft:
    transaction: dict[str, Any]
    overpayment: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    new_contact_name: str | None = None


def _with_unit_amount(line: Any) -> Any:
    """A line given as LineAmount only: Xero derives UnitAmount = LineAmount / Quantity."""
    if not isinstance(line, dict) or line.get("UnitAmount") not in (None, "") \
            or line.get("LineAmount") in (None, ""):
        return line
    try:
        quantity = Decimal(str(line.get("Quantity") or 1))
        return {**line, "UnitAmount": Decimal(str(line["LineAmount"])) / quantity}
    except (InvalidOperation, ZeroDivisionError):
        return line


def prepare_bank_transaction(books: Any, raw: dict[str, Any], unitdp: int = 2) -> BankTransactionDraft:
    """Validate a RECEIVE-OVERPAYMENT bank transaction and the Overpayment it creates."""
    txn_id = str(uuid.uuid4())
    txn: dict[str, Any] = {"BankTransactionID": txn_id, "Type": raw.get("Type"), "Status": "AUTHORISED",
                           "_overpayment_id": txn_id}
    draft = BankTransactionDraft(txn, {}, [])
    errors = draft.errors
    if txn["Type"] != SUPPORTED_TYPE:
        errors.append(f"The sandbox emulates only {SUPPORTED_TYPE} bank transactions (got Type "
                      f"{txn['Type']!r})" if txn["Type"] else "The bank transaction Type must be specified")
    status = str(raw.get("Status") or "AUTHORISED").upper()
    if status != "AUTHORISED":
        errors.append(f"Overpayments are created AUTHORISED, not {status}")
    account = payment_account(books, raw.get("BankAccount"), errors, bank_only=True)
    txn["_account_code"] = account["Code"] if account else None
    apply_contact(books, raw, txn, draft)
    try:
        txn["_date"] = parse_xero_date(raw["Date"]) if raw.get("Date") else today_utc()
    except ValueError:
        errors.append(f"Date must be a valid date, got {raw.get('Date')!r}")
        txn["_date"] = today_utc()
    txn["Reference"] = str(raw.get("Reference") or "")
    txn["IsReconciled"] = bool(raw.get("IsReconciled", False))
    bank_currency = (account or {}).get("CurrencyCode") or books.org["BaseCurrency"]
    apply_currency(books, {"CurrencyCode": bank_currency, **raw}, txn, errors)
    if account is not None and txn["CurrencyCode"] != bank_currency:
        errors.append(f"The bank transaction currency ({txn['CurrencyCode']}) must be the bank account's "
                      f"currency ({bank_currency})")
    amount_types = raw.get("LineAmountTypes", "Exclusive")
    txn["LineAmountTypes"] = LINE_AMOUNT_TYPES.get(str(amount_types).lower(), "")
    if not txn["LineAmountTypes"]:
        errors.append(f"LineAmountTypes must be Exclusive, Inclusive or NoTax, got {amount_types!r}")
    lines = raw.get("LineItems")
    txn["LineItems"] = document_lines(books, [_with_unit_amount(li) for li in lines] if isinstance(lines, list)
                                      else lines, side="ACCREC", status="DRAFT",
                                      amount_types=txn["LineAmountTypes"] or "Exclusive",
                                      errors=errors, unitdp=unitdp)
    line_totals(txn, books.tax_rates)
    if txn["Total"] <= 0:
        errors.append("The overpayment total must be greater than zero")
    draft.overpayment = {
        "OverpaymentID": txn_id, "Type": SUPPORTED_TYPE, "Status": "AUTHORISED",
        "_contact_id": txn.get("_contact_id"), "_date": txn["_date"], "Reference": txn["Reference"],
        "LineAmountTypes": txn["LineAmountTypes"], "LineItems": [dict(li) for li in txn["LineItems"]],
        "SubTotal": txn["SubTotal"], "TotalTax": txn["TotalTax"], "Total": txn["Total"],
        "RemainingCredit": txn["Total"], "CurrencyCode": txn["CurrencyCode"],
        "CurrencyRate": txn["CurrencyRate"], "_allocations": [], "_bank_transaction_id": txn_id}
    return draft


def render_bank_transaction(txn: dict[str, Any], contact: dict[str, Any] | None,
                            account: dict[str, Any] | None) -> dict[str, Any]:
    account = account or {}
    out: dict[str, Any] = {
        "BankTransactionID": txn["BankTransactionID"], "OverpaymentID": txn["_overpayment_id"],
        "Type": txn["Type"], "Status": txn["Status"], "Contact": contact_summary(txn, contact),
        "BankAccount": {"AccountID": account.get("AccountID", ZERO_GUID), "Code": account.get("Code", ""),
                        "Name": account.get("Name", "")},
        "IsReconciled": txn["IsReconciled"], "DateString": xero_date_string(txn["_date"]),
        "Date": ms_date(day_ms(txn["_date"])), "Reference": txn["Reference"],
        "CurrencyCode": txn["CurrencyCode"], "CurrencyRate": txn["CurrencyRate"],
        "LineAmountTypes": txn["LineAmountTypes"], "LineItems": [dict(li) for li in txn["LineItems"]],
        "SubTotal": txn["SubTotal"], "TotalTax": txn["TotalTax"], "Total": txn["Total"],
        "HasAttachments": False,
    }
    if txn.get("_updated_ms"):
        out["UpdatedDateUTC"] = ms_date(txn["_updated_ms"])
    return out


def render_overpayment(over: dict[str, Any], contact: dict[str, Any] | None, payments: list[dict[str, Any]],
                       allocations: list[dict[str, Any]], *, summary: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "OverpaymentID": over["OverpaymentID"], "ID": over["OverpaymentID"], "Type": over["Type"],
        "Reference": over["Reference"], "RemainingCredit": over["RemainingCredit"],
        "Allocations": allocations, "Payments": payments, "HasAttachments": False,
        "Contact": contact_summary(over, contact), "DateString": xero_date_string(over["_date"]),
        "Date": ms_date(day_ms(over["_date"])), "Status": over["Status"],
        "LineAmountTypes": over["LineAmountTypes"], "SubTotal": over["SubTotal"],
        "TotalTax": over["TotalTax"], "Total": over["Total"], "CurrencyCode": over["CurrencyCode"],
        "CurrencyRate": over["CurrencyRate"],
    }
    if over.get("_updated_ms"):
        out["UpdatedDateUTC"] = ms_date(over["_updated_ms"])
    if not summary:
        out["LineItems"] = [dict(li) for li in over["LineItems"]]
    return out


def overpayment_summary(over: dict[str, Any], applied_amount: Decimal) -> dict[str, Any]:
    """How an overpayment appears in the Overpayments list of an invoice it was allocated to."""
    return {"OverpaymentID": over["OverpaymentID"], "ID": over["OverpaymentID"], "Type": over["Type"],
            "DateString": xero_date_string(over["_date"]), "Date": ms_date(day_ms(over["_date"])),
            "Status": over["Status"], "Total": over["Total"], "AppliedAmount": applied_amount,
            "RemainingCredit": over["RemainingCredit"], "CurrencyCode": over["CurrencyCode"],
            "LineItems": []}


def render_invalid_bank_transaction(raw: dict[str, Any], draft: BankTransactionDraft) -> dict[str, Any]:
    out = dict(raw) if isinstance(raw, dict) else {}
    out["BankTransactionID"] = ZERO_GUID
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out


def _contact_field(books: Any) -> Any:
    return lambda r: (books.contact(r.get("_contact_id") or "") or {}).get("Name")


def overpayment_fields(books: Any) -> dict[str, Field]:
    """What `where` and `order` may name on GET /Overpayments."""
    return {
        "OverpaymentID": Field("guid", lambda r: r["OverpaymentID"]),
        "Type": Field("string", lambda r: r["Type"]),
        "Status": Field("string", lambda r: r["Status"]),
        "Reference": Field("string", lambda r: r.get("Reference") or None),
        "Contact.ContactID": Field("guid", lambda r: r.get("_contact_id")),
        "Contact.Name": Field("string", _contact_field(books)),
        "Total": Field("number", lambda r: r["Total"]),
        "RemainingCredit": Field("number", lambda r: r["RemainingCredit"]),
        "CurrencyCode": Field("string", lambda r: r["CurrencyCode"]),
        "Date": Field("date", lambda r: r["_date"]),
        "UpdatedDateUTC": Field("datetime", lambda r: r["_updated_ms"]),
    }


def bank_transaction_fields(books: Any) -> dict[str, Field]:
    """What `where` and `order` may name on GET /BankTransactions."""
    return {
        "BankTransactionID": Field("guid", lambda r: r["BankTransactionID"]),
        "Type": Field("string", lambda r: r["Type"]),
        "Status": Field("string", lambda r: r["Status"]),
        "Reference": Field("string", lambda r: r.get("Reference") or None),
        "Contact.ContactID": Field("guid", lambda r: r.get("_contact_id")),
        "Contact.Name": Field("string", _contact_field(books)),
        "BankAccount.Code": Field("string", lambda r: r.get("_account_code")),
        "Total": Field("number", lambda r: r["Total"]),
        "Date": Field("date", lambda r: r["_date"]),
        "UpdatedDateUTC": Field("datetime", lambda r: r["_updated_ms"]),
    }
