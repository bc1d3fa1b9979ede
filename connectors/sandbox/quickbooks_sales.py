"""Invoices and credit memos: lines, VAT and totals computed the way QBO computes them.

Clients send `SalesItemLineDetail` lines (`ItemRef`, `Qty`, `UnitPrice`, optional `DiscountRate`,
`TaxCodeRef`) with the line `Amount`; QBO answers with the totals it computed, and refuses an
Amount that does not agree with the line (code 6070). The emulator's assumption, stated because
QBO's documentation is silent on the exact rule: **Amount must equal
round_half_up(Qty × UnitPrice × (1 − DiscountRate/100), 2)** — the same per-line rounding Xero and
HubSpot use (`ledgerlink.model.line_net`). VAT is computed per line from the line's TaxCode (the
sum of the RateValues of its `SalesTaxRateList`), rounded half-up per line and per rate, and
reported in `TxnTaxDetail` (TotalTax and one TaxLine per rate). With multicurrency on, a
document's currency must be its customer's currency. A void keeps the document but zeroes every
amount and sets PrivateNote "Voided", as QBO does; a delete leaves a CDC tombstone.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.quickbooks_books import QuickBooksBooks
from connectors.sandbox.quickbooks_customers import check_fields, ref_value
from connectors.sandbox.quickbooks_http import (
    business, invalid_reference, missing, not_found, stale, unsupported_property, validation)
from connectors.sandbox.quickbooks_payments import unlink_transaction
from connectors.sandbox.timeutil import today_utc

CENT = Decimal("0.01")
MAX_DOC_NUMBER = 21
WRITABLE = frozenset({"DocNumber", "TxnDate", "DueDate", "CustomerRef", "CurrencyRef", "Line",
                      "GlobalTaxCalculation", "PrivateNote", "CustomerMemo", "BillEmail",
                      "BillAddr", "ShipAddr", "SalesTermRef", "ApplyTaxAfterDiscount",
                      "PrintStatus", "EmailStatus", "ExchangeRate", "TxnTaxDetail"})
READ_ONLY = frozenset({"Id", "SyncToken", "sparse", "domain", "status", "MetaData", "TotalAmt",
                       "Balance", "HomeTotalAmt", "HomeBalance", "LinkedTxn", "RemainingCredit"})
LINE_FIELDS = frozenset({"Id", "LineNum", "Description", "Amount", "DetailType",
                         "SalesItemLineDetail", "SubTotalLineDetail", "DescriptionLineDetail",
                         "LinkedTxn"})
DETAIL_FIELDS = frozenset({"ItemRef", "Qty", "UnitPrice", "DiscountRate", "TaxCodeRef",
                           "ServiceDate", "TaxInclusiveAmt"})
CALCULATIONS = ("TaxExcluded", "TaxInclusive", "NotApplicable")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise validation("2010", "Request has invalid or unsupported property",
                         f"{field}: not a decimal number", field)
    try:
        result = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise validation("2010", "Request has invalid or unsupported property",
                         f"{field}: {str(value)[:30]!r} is not a decimal number", field) from None
    if not result.is_finite():
        raise validation("2010", "Request has invalid or unsupported property", f"{field}: not finite", field)
    return result


def day(value: Any, field: str) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise validation("2010", "Request has invalid or unsupported property",
                         f"{field}: {str(value)[:30]!r} is not a date (YYYY-MM-DD)", field) from None


def create_sales(books: QuickBooksBooks, entity: str, payload: dict[str, Any],
                 visible_below: int | None = None) -> dict[str, Any]:
    """Create an Invoice or a CreditMemo from a client payload."""
    check_fields(entity, payload, WRITABLE | READ_ONLY)
    if payload.get("Id"):
        raise validation("2010", "Request has invalid or unsupported property",
                         "Id is assigned by QuickBooks on create", "Id")
    record = {k: v for k, v in payload.items() if k in WRITABLE}
    _compute(books, entity, record, visible_below)
    record["Balance"] = record["TotalAmt"]
    if entity == "CreditMemo":
        record["RemainingCredit"] = record["Balance"]
    record["LinkedTxn"] = []
    return books.save(entity, record, created=True)


def update_sales(books: QuickBooksBooks, entity: str, payload: dict[str, Any],
                 visible_below: int | None = None) -> dict[str, Any]:
    """Sparse or full update; the amount already paid or applied stays applied."""
    check_fields(entity, payload, WRITABLE | READ_ONLY)
    current = _current(books, entity, payload, visible_below)
    sent = {k: v for k, v in payload.items() if k in WRITABLE}
    if payload.get("sparse") is True:
        record = {**{k: v for k, v in current.items() if k in WRITABLE}, **sent}
    else:
        record = sent
    _compute(books, entity, record, visible_below)
    applied = current["TotalAmt"] - current["Balance"]
    if record["TotalAmt"] < applied:
        raise business(f"The new total {record['TotalAmt']} is less than the {applied} already applied.")
    keep = {k: v for k, v in current.items() if k not in WRITABLE and k not in record}
    record = {**keep, **record, "Balance": record["TotalAmt"] - applied}
    if entity == "CreditMemo":
        record["RemainingCredit"] = record["Balance"]
    return books.save(entity, record)


def void_invoice(books: QuickBooksBooks, payload: dict[str, Any],
                 visible_below: int | None = None) -> dict[str, Any]:
    """`POST /invoice?operation=void`: amounts to zero, payments unlinked, PrivateNote "Voided"."""
    current = _current(books, "Invoice", payload, visible_below)
    unlink_transaction(books, "Invoice", current["Id"])
    for line in current["Line"]:
        line["Amount"] = Decimal("0.00")
        if line.get("DetailType") == "SalesItemLineDetail":
            line["SalesItemLineDetail"]["Qty"] = Decimal(0)
    current["TxnTaxDetail"] = {"TotalTax": Decimal("0.00")}
    current["TotalAmt"] = current["Balance"] = Decimal("0.00")
    for key in ("HomeTotalAmt", "HomeBalance"):
        if key in current:
            current[key] = Decimal("0.00")
    current["PrivateNote"] = "Voided"
    current["LinkedTxn"] = []
    return books.save("Invoice", current)


def delete_transaction(books: QuickBooksBooks, entity: str, payload: dict[str, Any],
                       visible_below: int | None = None) -> dict[str, Any]:
    """`POST /{entity}?operation=delete` with Id and SyncToken: gone, a tombstone for CDC."""
    current = _current(books, entity, payload, visible_below)
    unlink_transaction(books, entity, current["Id"])
    books.delete(entity, current["Id"])
    return {"status": "Deleted", "domain": "QBO", "Id": current["Id"]}


def _current(books: QuickBooksBooks, entity: str, payload: dict[str, Any],
             visible_below: int | None) -> dict[str, Any]:
    if not isinstance(payload, dict) or not payload.get("Id"):
        raise missing("Id")
    if payload.get("SyncToken") in (None, ""):
        raise missing("SyncToken")
    current = books.get(entity, payload["Id"], visible_below)
    if current is None:
        raise not_found(entity, payload["Id"])
    if str(payload["SyncToken"]) != current["SyncToken"]:
        raise stale(current["Id"])
    return current


def _compute(books: QuickBooksBooks, entity: str, record: dict[str, Any],
             visible_below: int | None) -> None:
    customer_id = ref_value(record.get("CustomerRef"))
    if customer_id is None:
        raise missing("CustomerRef")
    customer = books.get("Customer", customer_id, visible_below)
    if customer is None or not customer.get("Active", True):
        raise invalid_reference("Names", customer_id)
    home = books.home_currency
    currency = ref_value(record.get("CurrencyRef")) or ref_value(customer.get("CurrencyRef")) or home
    if currency != (ref_value(customer.get("CurrencyRef")) or home):
        raise business(f"The currency of the transaction ({currency}) is invalid for customer "
                       f"{customer['DisplayName']}, who is invoiced in "
                       f"{ref_value(customer.get('CurrencyRef'))}.", "CurrencyRef")
    number_ = record.get("DocNumber")
    if number_ is not None and (not isinstance(number_, str) or len(number_) > MAX_DOC_NUMBER):
        raise validation("2050", "String length is either shorter or longer than supported by "
                         "specification", f"String length specified does not match the supported "
                         f"length. Min:0 Max:{MAX_DOC_NUMBER} supported. Supplied length:"
                         f"{len(str(number_))}", "DocNumber")
    calculation = record.setdefault("GlobalTaxCalculation", "TaxExcluded")
    if calculation not in CALCULATIONS:
        raise validation("2010", "Request has invalid or unsupported property",
                         f"GlobalTaxCalculation: {calculation!r}", "GlobalTaxCalculation")
    record["TxnDate"] = day(record.get("TxnDate") or today_utc(), "TxnDate")
    terms = books.get("Term", ref_value(record.get("SalesTermRef") or customer.get("SalesTermRef")) or "")
    default_due = date.fromisoformat(record["TxnDate"]) + timedelta(days=(terms or {}).get("DueDays", 0))
    record["DueDate"] = day(record.get("DueDate") or default_due.isoformat(), "DueDate")
    lines, net, taxes = _lines(books, record.get("Line"), calculation, visible_below)
    total_tax = sum((t for t, _ in taxes.values()), Decimal("0.00"))
    record["Line"] = lines + [{"Amount": net, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}]
    record["TxnTaxDetail"] = {"TotalTax": total_tax, "TaxLine": [
        {"Amount": tax, "DetailType": "TaxLineDetail", "TaxLineDetail": {
            "TaxRateRef": {"value": rate_id}, "PercentBased": True,
            "TaxPercent": books.records["TaxRate"][rate_id]["RateValue"], "NetAmountTaxable": base}}
        for rate_id, (tax, base) in taxes.items()]}
    record["TotalAmt"] = net + total_tax if calculation == "TaxExcluded" else net
    record["CustomerRef"] = {"value": customer_id, "name": customer["DisplayName"]}
    record["CurrencyRef"] = dict(customer["CurrencyRef"])
    rate = books.exchange_rate(currency) if currency != home else Decimal(1)
    record["ExchangeRate"] = rate
    if currency != home:
        record["HomeTotalAmt"] = cents(record["TotalAmt"] * rate)
    if terms:
        record["SalesTermRef"] = {"value": terms["Id"], "name": terms["Name"]}
    if "BillEmail" not in record and customer.get("PrimaryEmailAddr"):
        record["BillEmail"] = dict(customer["PrimaryEmailAddr"])
    record.setdefault("ApplyTaxAfterDiscount", False)
    record.setdefault("PrintStatus", "NotSet")
    record.setdefault("EmailStatus", "NotSet")


def _lines(books: QuickBooksBooks, raw: Any, calculation: str, visible_below: int | None
           ) -> tuple[list[dict[str, Any]], Decimal, dict[str, tuple[Decimal, Decimal]]]:
    """(rendered lines, sum of line amounts, {TaxRate id: (tax, net amount taxable)})."""
    if not isinstance(raw, list) or not raw:
        raise missing("Line")
    lines: list[dict[str, Any]] = []
    net = Decimal("0.00")
    taxes: dict[str, tuple[Decimal, Decimal]] = {}
    for line in raw:
        if not isinstance(line, dict):
            raise missing("Line")
        for name in line:
            if name not in LINE_FIELDS:
                raise unsupported_property(f"Line.{name}")
        kind = line.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue  # recomputed
        number_ = len(lines) + 1
        if kind == "DescriptionOnly":
            lines.append({"Id": str(number_), "LineNum": number_, "Description": line.get("Description", ""),
                          "DetailType": "DescriptionOnly", "DescriptionLineDetail": {}})
            continue
        if kind != "SalesItemLineDetail":
            raise unsupported_property(f"Line.DetailType={kind}")
        detail = line.get("SalesItemLineDetail")
        if not isinstance(detail, dict):
            raise missing("SalesItemLineDetail")
        for name in detail:
            if name not in DETAIL_FIELDS:
                raise unsupported_property(f"SalesItemLineDetail.{name}")
        item_id = ref_value(detail.get("ItemRef"))
        item = books.get("Item", item_id or "", visible_below)
        if item is None or not item.get("Active", True):
            raise invalid_reference("Item", item_id)
        qty = number(detail.get("Qty", 1), "Qty")
        price = number(detail.get("UnitPrice", item.get("UnitPrice", 0)), "UnitPrice")
        discount = number(detail.get("DiscountRate", 0), "DiscountRate")
        if not Decimal(0) <= discount <= Decimal(100):
            raise validation("2010", "Request has invalid or unsupported property",
                             f"DiscountRate {discount} is not between 0 and 100", "DiscountRate")
        if "Amount" not in line:
            raise missing("Amount")
        amount = number(line["Amount"], "Amount")
        expected = cents(qty * price * (Decimal(100) - discount) / Decimal(100))
        if amount != expected:
            raise validation("6070", "Amount is not equal to UnitPrice * Qty",
                             f"Amount calculation incorrect: Qty {qty} × UnitPrice {price} less "
                             f"DiscountRate {discount}% is {expected}. Supplied value:{amount}", "Amount")
        rendered_detail: dict[str, Any] = {"ItemRef": {"value": item["Id"], "name": item["Name"]},
                                           "Qty": qty, "UnitPrice": price}
        if "DiscountRate" in detail:
            rendered_detail["DiscountRate"] = discount
        if calculation != "NotApplicable":
            code_id = ref_value(detail.get("TaxCodeRef"))
            if code_id is None:
                raise business("Make sure all your transactions have a VAT rate before you save.", "TaxCodeRef")
            rendered_detail["TaxCodeRef"] = {"value": code_id}
            _tax(books, code_id, amount, calculation, taxes, visible_below)
        lines.append({"Id": str(number_), "LineNum": number_, "Description": line.get("Description", ""),
                      "Amount": cents(amount), "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": rendered_detail})
        net += cents(amount)
    if not any(line["DetailType"] == "SalesItemLineDetail" for line in lines):
        raise missing("Line")
    return lines, net, taxes


def _tax(books: QuickBooksBooks, code_id: str, amount: Decimal, calculation: str,
         taxes: dict[str, tuple[Decimal, Decimal]], visible_below: int | None) -> None:
    code = books.get("TaxCode", code_id, visible_below)
    if code is None:
        raise invalid_reference("TaxCode", code_id)
    if not code.get("Active", True):
        raise business(f"The tax code {code['Name']} (Id {code_id}) is inactive and cannot be used.",
                       "TaxCodeRef")
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    if not details:
        raise business(f"The tax code {code['Name']} is not a sales tax code.", "TaxCodeRef")
    rates = [(d["TaxRateRef"]["value"], books.records["TaxRate"][d["TaxRateRef"]["value"]]["RateValue"])
             for d in details]
    total_rate = sum((r for _, r in rates), Decimal(0))
    base = cents(amount - cents(amount * total_rate / (Decimal(100) + total_rate))) \
        if calculation == "TaxInclusive" else cents(amount)
    for rate_id, rate in rates:
        tax, taxable = taxes.get(rate_id, (Decimal("0.00"), Decimal("0.00")))
        taxes[rate_id] = (tax + cents(base * rate / Decimal(100)), taxable + base)
