"""Xero invoice rules: what is accepted, how totals are computed, how an invoice is written out.

The emulator must refuse what Xero refuses (unknown contact, inactive tax type, unknown account,
currency not enabled, approval without due date, editing a paid invoice …) and compute what
Xero computes, to the cent: LineAmount = round(Quantity × UnitAmount × (1 − DiscountRate/100), 2),
tax per line at the tax type's rate (Exclusive, Inclusive or NoTax), totals as sums of lines.
All money is Decimal; rounding is half away from zero. Messages follow Xero's wording where it is
known; the others are written to be just as specific.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, Protocol

from connectors.sandbox.timeutil import day_ms, ms_date, parse_xero_date, today_utc, xero_date_string

CENT = Decimal("0.01")
QTY = Decimal("0.0001")
ZERO = Decimal("0.00")
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
TYPES = ("ACCREC", "ACCPAY")
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
LINE_AMOUNT_TYPES = {"exclusive": "Exclusive", "inclusive": "Inclusive", "notax": "NoTax"}
DEFAULT_RATES = {"USD": Decimal("0.054795")}
_ALLOWED_MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"}, "VOIDED": set(), "DELETED": set(),
}


class Books(Protocol):  # what invoice rules need to know about one organisation
    tax_rates: dict[str, dict[str, Any]]
    accounts: dict[str, dict[str, Any]]
    currencies: dict[str, dict[str, Any]]
    org: dict[str, Any]

    def contact(self, contact_id: str) -> dict[str, Any] | None: ...
    def contact_by_name(self, name: str) -> dict[str, Any] | None: ...
    def contact_by_number(self, number: str) -> dict[str, Any] | None: ...
    def invoice_by_number(self, number: str) -> dict[str, Any] | None: ...


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def applied(document: dict[str, Any]) -> Decimal:
    """What has already been settled against an invoice: payments plus allocated credit."""
    return document.get("AmountPaid", ZERO) + document.get("AmountCredited", ZERO)


def _decimal(raw: Any, name: str, errors: list[str], default: Decimal | None = None) -> Decimal | None:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        errors.append(f"{name} must be a number")
        return default
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        errors.append(f"{name} must be a number, got {raw!r}")
        return default
    if not value.is_finite():
        errors.append(f"{name} must be a number, got {raw!r}")
        return default
    return value


@dataclass
class Draft:
    """An invoice checked against the books: ready to commit when `errors` is empty."""

    invoice: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    existing: dict[str, Any] | None = None
    new_contact_name: str | None = None     # Xero creates a contact named on the invoice


def prepare_invoice(books: Books, raw: dict[str, Any], existing: dict[str, Any] | None,
                    taken_numbers: set[str], unitdp: int = 2) -> Draft:
    """Validate `raw` (a create, or an update of `existing`) and compute the resulting invoice."""
    errors: list[str] = []
    base = dict(existing) if existing else {"InvoiceID": str(uuid.uuid4()), "AmountPaid": ZERO,
                                            "AmountCredited": ZERO, "SentToContact": False}
    if existing:
        base["LineItems"] = [dict(line) for line in existing.get("LineItems", [])]
    inv = base
    draft = Draft(inv, errors, existing)
    old_status = existing["Status"] if existing else None
    if existing and old_status in ("PAID", "VOIDED", "DELETED"):
        errors.append("This document cannot be edited as it has a payment or credit note allocated to it."
                      if old_status == "PAID" else "Invoice not of valid status for modification")
        return draft
    if existing and applied(existing) > 0 and "LineItems" in raw:
        errors.append("This document cannot be edited as it has a payment or credit note allocated to it.")
        return draft
    inv["Type"] = raw.get("Type", inv.get("Type"))
    if inv["Type"] not in TYPES:
        errors.append('Invoice Type must be "ACCREC" or "ACCPAY"' if inv["Type"] else
                      "The invoice Type must be specified")
    apply_contact(books, raw, inv, draft)
    status = str(raw.get("Status") or inv.get("Status") or "DRAFT").upper()
    if existing is None and status not in CREATE_STATUSES:
        errors.append(f"Invoices cannot be created with Status {status}; use DRAFT, SUBMITTED or AUTHORISED")
    elif existing is not None and status not in _ALLOWED_MOVES.get(old_status or "", set()):
        errors.append(f"Invoices with a status of {old_status} cannot be changed to {status}")
    elif status == "VOIDED" and inv.get("AmountPaid", ZERO) > 0:
        errors.append("Invoice could not be voided as it has payments applied to it")
    elif status == "VOIDED" and inv.get("AmountCredited", ZERO) > 0:
        errors.append("Invoice could not be voided as it has credit notes or overpayments allocated to it")
    inv["Status"] = status
    for key, target in (("Date", "_date"), ("DueDate", "_due")):
        if raw.get(key) not in (None, ""):
            try:
                inv[target] = parse_xero_date(raw[key])
            except ValueError:
                errors.append(f"{key} must be a valid date, got {raw[key]!r}")
    inv.setdefault("_date", today_utc())
    inv.setdefault("_due", None)
    if status == "AUTHORISED" and inv["Type"] == "ACCREC" and not inv["_due"]:
        errors.append("Due Date is required for an approved (AUTHORISED) sales invoice")
    if raw.get("Reference") is not None:
        inv["Reference"] = str(raw["Reference"])
        if len(inv["Reference"]) > 255:
            errors.append("Reference must not exceed 255 characters")
    inv.setdefault("Reference", "")
    apply_currency(books, raw, inv, errors)
    amount_types = raw.get("LineAmountTypes", inv.get("LineAmountTypes", "Exclusive"))
    inv["LineAmountTypes"] = LINE_AMOUNT_TYPES.get(str(amount_types).lower(), "")
    if not inv["LineAmountTypes"]:
        errors.append(f"LineAmountTypes must be Exclusive, Inclusive or NoTax, got {amount_types!r}")
    apply_document_number(raw, inv, errors, taken_numbers, number_field="InvoiceNumber", id_field="InvoiceID",
                          numbered_type="ACCREC", label="Invoice", find=books.invoice_by_number)
    if "LineItems" in raw or existing is None:
        lines = raw.get("LineItems")
        if not isinstance(lines, list) or not lines:
            errors.append("At least one line item must be specified")
            lines = []
        old_ids = {li["LineItemID"] for li in (existing or {}).get("LineItems", [])}
        inv["LineItems"] = [_line(books, line, inv, errors, old_ids, unitdp, n)
                            for n, line in enumerate(lines, 1) if isinstance(line, dict)]
    _totals(inv, errors, books.tax_rates)
    return draft


def apply_contact(books: Books, raw: dict[str, Any], inv: dict[str, Any], draft: Draft) -> None:
    given = raw.get("Contact")
    if given is None:
        if not inv.get("_contact_id"):
            draft.errors.append("A Contact must be specified for this type of transaction")
        return
    if not isinstance(given, dict):
        draft.errors.append("Contact must be an object, e.g. {\"ContactID\": \"…\"}")
        return
    found = None
    if given.get("ContactID"):
        found = books.contact(str(given["ContactID"]))
        if found is None:
            draft.errors.append(f"The Contact with ContactID {given['ContactID']} could not be found")
            return
    elif given.get("ContactNumber"):
        found = books.contact_by_number(str(given["ContactNumber"]))
    if found is None and given.get("Name"):
        found = books.contact_by_name(str(given["Name"]))
        if found is None:
            draft.new_contact_name = str(given["Name"]).strip()
            inv["_contact_id"] = None
            return
    if found is None:
        draft.errors.append("A Contact must be specified for this type of transaction")
        return
    if found.get("ContactStatus") == "ARCHIVED":
        draft.errors.append(f"The contact {found['Name']} is archived and cannot be used")
    inv["_contact_id"] = found["ContactID"]


def apply_currency(books: Books, raw: dict[str, Any], inv: dict[str, Any], errors: list[str]) -> None:
    base = books.org["BaseCurrency"]
    code = str(raw.get("CurrencyCode") or inv.get("CurrencyCode") or base).upper()
    inv["CurrencyCode"] = code
    if code not in books.currencies:
        errors.append(f"Organisation is not subscribed to currency {code}")
    rate = _decimal(raw.get("CurrencyRate"), "CurrencyRate", errors)
    if rate is not None and rate <= 0:
        errors.append("CurrencyRate must be greater than zero")
    if code == base:
        inv["CurrencyRate"] = Decimal("1.000000")
    elif rate is not None:
        inv["CurrencyRate"] = rate
    else:
        inv.setdefault("CurrencyRate", DEFAULT_RATES.get(code, Decimal("1.000000")))


def apply_document_number(raw: dict[str, Any], doc: dict[str, Any], errors: list[str], taken: set[str], *,
                          number_field: str, id_field: str, numbered_type: str, label: str,
                          find: Callable[[str], dict[str, Any] | None]) -> None:
    """A client-given document number (invoice or credit note): ≤ 255 characters and, for sales
    documents, unique in the organisation — Xero's rule and messages for both kinds."""
    number = raw.get(number_field)
    if number in (None, ""):
        doc.setdefault(number_field, "")
        return
    number = str(number).strip()
    if len(number) > 255:
        errors.append(f"{number_field} must not exceed 255 characters")
    if doc["Type"] == numbered_type and number != doc.get(number_field):
        other = find(number)
        if (other is not None and other[id_field] != doc[id_field]) or number.lower() in taken:
            errors.append(f"{label} # must be unique.")
    doc[number_field] = number


def _line(books: Books, raw: dict[str, Any], inv: dict[str, Any], errors: list[str],
          old_ids: set[str], unitdp: int, n: int) -> dict[str, Any]:
    line: dict[str, Any] = {}
    line_id = raw.get("LineItemID")
    line["LineItemID"] = line_id if line_id in old_ids else str(uuid.uuid4())
    line["Description"] = str(raw.get("Description") or "")
    if raw.get("ItemCode"):
        line["ItemCode"] = str(raw["ItemCode"])
    if not line["Description"] and "ItemCode" not in line:
        errors.append(f"Line {n}: Description must be specified")
    quantity = _decimal(raw.get("Quantity"), f"Line {n}: Quantity", errors, Decimal("1"))
    unit = _decimal(raw.get("UnitAmount"), f"Line {n}: UnitAmount", errors, Decimal("0"))
    discount = _decimal(raw.get("DiscountRate"), f"Line {n}: DiscountRate", errors)
    if discount is not None and not (0 <= discount <= 100):
        errors.append(f"Line {n}: DiscountRate must be between 0 and 100")
        discount = None
    line["Quantity"] = quantity.quantize(QTY, ROUND_HALF_UP)  # type: ignore[union-attr]
    line["UnitAmount"] = unit.quantize(QTY if unitdp == 4 else CENT, ROUND_HALF_UP)  # type: ignore[union-attr]
    if discount is not None:
        line["DiscountRate"] = discount.quantize(CENT, ROUND_HALF_UP)
    account = None
    code = raw.get("AccountCode")
    if code not in (None, ""):
        account = books.accounts.get(str(code))
        if account is None or account["Status"] != "ACTIVE":
            errors.append(f"Account code '{code}' is not a valid code for this document.")
        else:
            line["AccountCode"] = account["Code"]
            line["AccountID"] = account["AccountID"]
    elif inv["Status"] != "DRAFT":
        errors.append(f"Line {n}: AccountCode must be specified on an approved invoice")
    line["TaxType"] = _tax_type(books, raw, inv, account, errors, n)
    line["Tracking"] = raw.get("Tracking") if isinstance(raw.get("Tracking"), list) else []
    return line


def document_lines(books: Books, raw_lines: Any, *, side: str, status: str, amount_types: str,
                   errors: list[str], old_ids: set[str] | None = None, unitdp: int = 2) -> list[dict[str, Any]]:
    """Line items of any sales (side "ACCREC") or purchase ("ACCPAY") document — credit notes and
    overpayments take the same line rules (accounts, tax types, rounding) as invoices do."""
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append("At least one line item must be specified")
        return []
    shape = {"Type": side, "Status": status, "LineAmountTypes": amount_types}
    return [_line(books, line, shape, errors, old_ids or set(), unitdp, n)
            for n, line in enumerate(raw_lines, 1) if isinstance(line, dict)]


def _tax_type(books: Books, raw: dict[str, Any], inv: dict[str, Any], account: dict[str, Any] | None,
              errors: list[str], n: int) -> str:
    if inv["LineAmountTypes"] == "NoTax":
        return "NONE"
    given = raw.get("TaxType")
    code = str(given) if given not in (None, "") else (account or {}).get("TaxType") or "NONE"
    rate = books.tax_rates.get(code)
    usable = rate is not None and rate["Status"] == "ACTIVE" and (
        rate["CanApplyToRevenue"] if inv["Type"] == "ACCREC" else rate["CanApplyToExpenses"])
    if not usable:
        errors.append(f"The TaxType code {code} does not exist or cannot be used for this type of transaction.")
    return code


def _totals(inv: dict[str, Any], errors: list[str], tax_rates: dict[str, dict[str, Any]]) -> None:
    """Line amounts, tax and document totals, exactly as Xero derives them."""
    line_totals(inv, tax_rates)
    if inv["Total"] < 0:
        errors.append("The invoice total must not be negative; raise a credit note instead")
    paid = applied(inv)
    if paid > inv["Total"]:
        errors.append("The invoice total cannot be less than the amount already paid")
    inv["AmountDue"] = money(inv["Total"] - paid)


def line_totals(doc: dict[str, Any], tax_rates: dict[str, dict[str, Any]]) -> None:
    """LineAmount/TaxAmount per line and SubTotal/TotalTax/Total/TotalDiscount of any document
    with line items (invoices, credit notes, overpayments): one rounding rule for all of them."""
    sub_total = total_tax = total_discount = ZERO
    mode = doc.get("LineAmountTypes") or "Exclusive"
    for line in doc.get("LineItems", []):
        gross = money(line["Quantity"] * line["UnitAmount"])
        amount = money(line["Quantity"] * line["UnitAmount"] * (1 - line.get("DiscountRate", ZERO) / 100))
        rate = tax_rates.get(line["TaxType"], {}).get("EffectiveRate", Decimal("0"))
        if mode == "Exclusive":
            tax = money(amount * rate / 100)
            net = amount
        elif mode == "Inclusive":
            tax = money(amount * rate / (100 + rate))
            net = amount - tax
        else:
            tax, net = ZERO, amount
        line["LineAmount"], line["TaxAmount"] = amount, tax
        sub_total += net
        total_tax += tax
        total_discount += gross - amount
    doc["SubTotal"], doc["TotalTax"] = money(sub_total), money(total_tax)
    doc["Total"] = money(sub_total + total_tax)
    doc["TotalDiscount"] = money(total_discount)


def render_invoice(inv: dict[str, Any], contact: dict[str, Any] | None, payments: list[dict[str, Any]],
                   *, summary: bool = False, credit_notes: list[dict[str, Any]] | None = None,
                   overpayments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The invoice as Xero's JSON writes it (MS-JSON dates, Decimal amounts)."""
    out: dict[str, Any] = {
        "Type": inv["Type"], "InvoiceID": inv["InvoiceID"], "InvoiceNumber": inv.get("InvoiceNumber", ""),
        "Reference": inv.get("Reference", ""), "Payments": payments, "CreditNotes": credit_notes or [],
        "Prepayments": [], "Overpayments": overpayments or [], "AmountDue": inv["AmountDue"],
        "AmountPaid": inv["AmountPaid"], "AmountCredited": inv["AmountCredited"],
        "CurrencyRate": inv["CurrencyRate"], "IsDiscounted": inv["TotalDiscount"] > 0,
        "HasAttachments": False, "HasErrors": False, "SentToContact": inv.get("SentToContact", False),
        "Contact": contact_summary(inv, contact),
        "DateString": xero_date_string(inv["_date"]), "Date": ms_date(day_ms(inv["_date"])),
        "Status": inv["Status"], "LineAmountTypes": inv["LineAmountTypes"],
        "SubTotal": inv["SubTotal"], "TotalTax": inv["TotalTax"], "Total": inv["Total"],
        "UpdatedDateUTC": ms_date(inv["_updated_ms"]) if inv.get("_updated_ms") else None,
        "CurrencyCode": inv["CurrencyCode"],
    }
    if inv.get("_due"):
        out["DueDateString"] = xero_date_string(inv["_due"])
        out["DueDate"] = ms_date(day_ms(inv["_due"]))
    if inv["TotalDiscount"] > 0:
        out["TotalDiscount"] = inv["TotalDiscount"]
    if inv.get("_fully_paid"):
        out["FullyPaidOnDate"] = ms_date(day_ms(inv["_fully_paid"]))
    if out["UpdatedDateUTC"] is None:
        del out["UpdatedDateUTC"]
    if not summary:
        out["LineItems"] = [{k: v for k, v in line.items()} for line in inv.get("LineItems", [])]
    return out


def render_invalid(raw: dict[str, Any], draft: Draft) -> dict[str, Any]:
    """An element Xero refused: what was sent, with computed amounts where possible, and why."""
    out = dict(raw) if isinstance(raw, dict) else {}
    inv = draft.invoice
    for key in ("SubTotal", "TotalTax", "Total", "AmountDue", "AmountPaid", "AmountCredited"):
        if key in inv:
            out[key] = inv[key]
    out["InvoiceID"] = draft.existing["InvoiceID"] if draft.existing else ZERO_GUID
    out["HasErrors"] = True
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out


def contact_summary(inv: dict[str, Any], contact: dict[str, Any] | None) -> dict[str, Any]:
    if contact is None:
        return {"ContactID": inv.get("_contact_id") or ZERO_GUID, "HasValidationErrors": False}
    summary = {"ContactID": contact["ContactID"], "Name": contact["Name"],
               "ContactStatus": contact.get("ContactStatus", "ACTIVE"), "HasValidationErrors": False}
    for key in ("ContactNumber", "EmailAddress"):
        if contact.get(key):
            summary[key] = contact[key]
    return summary
