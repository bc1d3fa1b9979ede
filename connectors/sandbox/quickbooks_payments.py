"""Payments, and credit memos applied through them, as QBO moves the money.

A QBO Payment has lines, each linking one transaction: `{"Amount": 100, "LinkedTxn": [{"TxnId":
"42", "TxnType": "Invoice"}]}`. A line linking an Invoice reduces its `Balance`; a line linking a
CreditMemo uses that much of its remaining credit. QBO applies a credit memo to an invoice exactly
this way — a Payment whose lines link both (its `TotalAmt` is the cash part, often 0) — so a
client reading an invoice learns of payments and credits alike through the `LinkedTxn` entries of
type Payment the emulator adds to the invoice (and to the credit memo). What is paid in but not
applied is `UnappliedAmt`. Deleting a payment, or voiding or deleting a linked document, gives the
money back (`unlink_transaction`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.sandbox.quickbooks_books import QuickBooksBooks
from connectors.sandbox.quickbooks_customers import check_fields, ref_value
from connectors.sandbox.quickbooks_http import business, invalid_reference, missing, unsupported_property
from connectors.sandbox.timeutil import today_utc

WRITABLE = frozenset({"CustomerRef", "TotalAmt", "TxnDate", "Line", "CurrencyRef", "PaymentRefNum",
                      "PrivateNote", "DepositToAccountRef", "ExchangeRate"})
READ_ONLY = frozenset({"Id", "SyncToken", "sparse", "domain", "status", "MetaData", "UnappliedAmt",
                       "ProcessPayment"})
LINKABLE = ("Invoice", "CreditMemo")


def create_payment(books: QuickBooksBooks, payload: dict[str, Any],
                   visible_below: int | None = None) -> dict[str, Any]:
    from connectors.sandbox.quickbooks_sales import day, number  # one parser for both

    check_fields("Payment", payload, WRITABLE | READ_ONLY)
    customer_id = ref_value(payload.get("CustomerRef"))
    customer = books.get("Customer", customer_id or "", visible_below)
    if customer is None:
        raise invalid_reference("Names", customer_id)
    if "TotalAmt" not in payload:
        raise missing("TotalAmt")
    total = number(payload["TotalAmt"], "TotalAmt")
    if total < 0:
        raise business("A payment cannot be negative.", "TotalAmt")
    currency = ref_value(customer.get("CurrencyRef")) or books.home_currency
    if ref_value(payload.get("CurrencyRef")) not in (None, currency):
        raise business(f"The payment currency must be the customer's currency ({currency}).", "CurrencyRef")
    lines, applied, credited = [], Decimal("0.00"), Decimal("0.00")
    targets: list[tuple[str, dict[str, Any], Decimal]] = []
    for line in payload.get("Line") or []:
        if not isinstance(line, dict):
            raise missing("Line")
        for name in line:
            if name not in ("Amount", "LinkedTxn", "LineEx"):
                raise unsupported_property(f"Line.{name}")
        links = line.get("LinkedTxn") or []
        if len(links) != 1 or not isinstance(links[0], dict):
            raise business("Each payment line must link exactly one transaction.", "LinkedTxn")
        kind, txn_id = links[0].get("TxnType"), str(links[0].get("TxnId", ""))
        if kind not in LINKABLE:
            raise business(f"A payment cannot be applied to a {kind}.", "LinkedTxn")
        amount = number(line.get("Amount", 0), "Amount")
        target = books.get(kind, txn_id, visible_below)
        if target is None or ref_value(target.get("CustomerRef")) != customer_id:
            raise invalid_reference(kind, txn_id)
        already = sum((a for k, t, a in targets if t is target), Decimal(0))
        if amount <= 0 or amount + already > target["Balance"]:
            raise business(f"The amount {amount} applied to {kind} {txn_id} exceeds its open "
                           f"balance {target['Balance']}.", "Amount")
        targets.append((kind, target, amount))
        if kind == "Invoice":
            applied += amount
        else:
            credited += amount
        lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": kind}]})
    unapplied = total + credited - applied
    if unapplied < 0:
        raise business(f"The payment of {total} plus credits of {credited} does not cover the "
                       f"{applied} applied to invoices.", "TotalAmt")
    if credited > applied:
        raise business("Credits can only be applied against invoices in the same payment.", "Line")
    payment_id = books.new_id()
    record = {"Id": payment_id, "CustomerRef": {"value": customer_id, "name": customer["DisplayName"]},
              "CurrencyRef": dict(customer["CurrencyRef"]), "TxnDate": day(payload.get("TxnDate") or today_utc(), "TxnDate"),
              "TotalAmt": total, "UnappliedAmt": unapplied, "ProcessPayment": False, "Line": lines,
              "ExchangeRate": books.exchange_rate(currency) if currency != books.home_currency else Decimal(1)}
    for key in ("PaymentRefNum", "PrivateNote", "DepositToAccountRef"):
        if key in payload:
            record[key] = payload[key]
    for kind, target, amount in targets:
        _move(books, kind, target, -amount, payment_id, link=True)
    return books.save("Payment", record, created=True)


def _move(books: QuickBooksBooks, kind: str, target: dict[str, Any], delta: Decimal,
          payment_id: str, link: bool) -> None:
    """Change a document's open balance by `delta`, adding or dropping its link to the payment."""
    target["Balance"] = target["Balance"] + delta
    if kind == "CreditMemo":
        target["RemainingCredit"] = target["Balance"]
    links = [t for t in target.get("LinkedTxn") or [] if not (t["TxnType"] == "Payment"
                                                              and t["TxnId"] == payment_id)]
    if link:
        links.append({"TxnId": payment_id, "TxnType": "Payment"})
    target["LinkedTxn"] = links
    books.save(kind, target)


def _linked(payment: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [line for line in payment["Line"] if line["LinkedTxn"][0]["TxnType"] == kind]


def unlink_transaction(books: QuickBooksBooks, entity: str, txn_id: str) -> None:
    """Give the money back before `txn_id` is deleted or voided.

    A payment: every document it touched gets its amount back. An invoice or credit memo: its
    lines are dropped from each linked payment, which is then rebalanced (credits never exceed
    what the payment still applies to invoices; what is left is UnappliedAmt).
    """
    if entity == "Payment":
        payment = books.records["Payment"][txn_id]
        for line in payment["Line"]:
            link = line["LinkedTxn"][0]
            target = books.records[link["TxnType"]].get(link["TxnId"])
            if target is not None:
                _move(books, link["TxnType"], target, line["Amount"], txn_id, link=False)
        return
    record = books.records[entity][txn_id]
    for link in list(record.get("LinkedTxn") or []):
        payment = books.records["Payment"].get(link["TxnId"]) if link["TxnType"] == "Payment" else None
        if payment is None:
            continue
        payment["Line"] = [line for line in payment["Line"] if line["LinkedTxn"][0]["TxnId"] != txn_id]
        _rebalance(books, payment)
    record["LinkedTxn"] = []


def _rebalance(books: QuickBooksBooks, payment: dict[str, Any]) -> None:
    def total(kind: str) -> Decimal:
        return sum((line["Amount"] for line in _linked(payment, kind)), Decimal("0.00"))

    for kind, excess in (("CreditMemo", total("CreditMemo") - total("Invoice")),
                         ("Invoice", total("Invoice") - payment["TotalAmt"] - total("CreditMemo"))):
        for line in reversed(_linked(payment, kind)):
            if excess <= 0:
                break
            give_back = min(excess, line["Amount"])
            line["Amount"] -= give_back
            excess -= give_back
            link = line["LinkedTxn"][0]
            target = books.records[kind].get(link["TxnId"])
            if target is not None:
                _move(books, kind, target, give_back, payment["Id"], link=line["Amount"] > 0)
        payment["Line"] = [line for line in payment["Line"] if line["Amount"] > 0]
    payment["UnappliedAmt"] = payment["TotalAmt"] + total("CreditMemo") - total("Invoice")
    books.save("Payment", payment)
