"""Python shortcuts that move money through the books: pay, credit, overpay, refund, void.

Tests and the demo need "the customer paid R 1 150.00 on 3 March" without an HTTP client. Each
shortcut builds the request body Xero would receive and hands it to the very function the HTTP
route calls (xero_batches), under the state lock — so a shortcut can never accept what the API
refuses, or settle a balance differently. They return what the API would answer (Xero's JSON
form with Decimal amounts) and raise `Refused` with Xero's validation messages otherwise.
Amounts must be Decimal (or int): a float is refused before it can lose a cent.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from connectors.sandbox.timeutil import today_utc

if TYPE_CHECKING:
    from connectors.sandbox.xero_books import XeroBooks

DEFAULT_BANK = "090"


class Refused(ValueError):
    """Xero would have refused this movement; `messages` are its validation errors."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _amount(value: Decimal | int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"amounts must be Decimal (or int), not {type(value).__name__}")
    return Decimal(value)


def _day(on: date | str | None) -> str:
    return on.isoformat() if isinstance(on, date) else (on or today_utc())


class MoneyMovements:
    """Mixed into XeroBooks: every method takes the lock and writes through xero_batches
    (imported when called: xero_batches depends on XeroBooks, which this class is part of)."""

    lock: threading.RLock

    def _one(self: XeroBooks, write: Callable[..., tuple[int, list[dict[str, Any]]]],
             element: dict[str, Any], **options: Any) -> dict[str, Any]:
        with self.lock:
            _, items = write(self, [element], summarize=False, **options)
        item = items[0]
        if item.get("StatusAttributeString") == "ERROR":
            raise Refused([e["Message"] for e in item.get("ValidationErrors", [])])
        return item

    def _invoice_or_refuse(self: XeroBooks, invoice: str) -> dict[str, Any]:
        found = self.invoice(invoice)
        if found is None:
            raise Refused([f"Invoice {invoice} could not be found"])
        return found

    def pay(self: XeroBooks, invoice: str, amount: Decimal | int, on: date | str | None = None, *,
            account: str = DEFAULT_BANK, reference: str = "") -> dict[str, Any]:
        """Apply a payment to an invoice (by InvoiceID or InvoiceNumber), as PUT /Payments does."""
        from connectors.sandbox.xero_batches import write_payments
        with self.lock:
            found = self._invoice_or_refuse(invoice)
            return self._one(write_payments, {"Invoice": {"InvoiceID": found["InvoiceID"]},
                                              "Account": {"Code": account}, "Amount": _amount(amount),
                                              "Date": _day(on), "Reference": reference})

    def reverse_payment(self: XeroBooks, payment_id: str) -> dict[str, Any]:
        """Delete a payment (POST /Payments/{id} Status DELETED): its invoice re-opens."""
        from connectors.sandbox.xero_batches import reverse_payment
        with self.lock:
            found = self.payment(payment_id)
            if found is None:
                raise Refused([f"Payment {payment_id} could not be found"])
            return reverse_payment(self, found)

    def credit(self: XeroBooks, invoice: str, amount: Decimal | int, on: date | str | None = None, *,
               reference: str = "") -> dict[str, Any]:
        """Raise an AUTHORISED credit note for `amount` (tax-inclusive, at the invoice's first line's
        account and tax type, so the VAT is reversed) and allocate all of it to the invoice.
        Returns the credit note after allocation (RemainingCredit 0, Status PAID)."""
        from connectors.sandbox.xero_allocations import prepare_allocation
        from connectors.sandbox.xero_batches import write_allocations, write_credit_notes
        with self.lock:
            inv = self._invoice_or_refuse(invoice)
            value, day = _amount(amount), _day(on)
            line = (inv.get("LineItems") or [{}])[0]
            trial = {"Status": "AUTHORISED", "Type": "ACCRECCREDIT", "CreditNoteID": "", "RemainingCredit": value,
                     "_contact_id": inv.get("_contact_id"), "CurrencyCode": inv["CurrencyCode"]}
            allocation = {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": value, "Date": day}
            check = prepare_allocation(self, "credit_notes", trial, allocation, {})
            if check.errors:       # refuse before a credit note is left behind unallocated
                raise Refused(check.errors)
            note = self._one(write_credit_notes, {
                "Type": "ACCRECCREDIT", "Contact": {"ContactID": inv["_contact_id"]}, "Date": day,
                "Status": "AUTHORISED", "CurrencyCode": inv["CurrencyCode"], "CurrencyRate": inv["CurrencyRate"],
                "LineAmountTypes": "NoTax" if inv["LineAmountTypes"] == "NoTax" else "Inclusive",
                "Reference": reference or f"Credit for {inv.get('InvoiceNumber') or inv['InvoiceID']}",
                "LineItems": [{"Description": f"Credit against {inv.get('InvoiceNumber') or 'invoice'}",
                               "Quantity": 1, "UnitAmount": value, "AccountCode": line.get("AccountCode", "200"),
                               "TaxType": line.get("TaxType", "NONE")}]}, match_number=False)
            self._one(write_allocations, allocation, source="credit_notes", forced_id=note["CreditNoteID"])
            return self.render_credit_note(self.credit_notes[note["CreditNoteID"]])

    def overpay(self: XeroBooks, invoice: str, amount: Decimal | int, on: date | str | None = None, *,
                account: str = DEFAULT_BANK, reference: str = "") -> dict[str, Any]:
        """The customer paid more than was due: pay the AmountDue, and record the excess as a
        RECEIVE-OVERPAYMENT bank transaction for the invoice's contact (Xero's way).
        Returns {"Payment", "BankTransaction", "Overpayment"}."""
        from connectors.sandbox.xero_batches import write_bank_transactions, write_payments
        from connectors.sandbox.xero_overpayments import prepare_bank_transaction
        from connectors.sandbox.xero_payments import prepare_payment
        with self.lock:
            inv = self._invoice_or_refuse(invoice)
            value, day, due = _amount(amount), _day(on), inv["AmountDue"]
            if value <= due:
                raise Refused([f"An overpayment must exceed the amount due ({due}); use pay() instead"])
            number = inv.get("InvoiceNumber") or inv["InvoiceID"]
            payment = {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Account": {"Code": account}, "Amount": due,
                       "Date": day, "Reference": reference}
            excess = {"Type": "RECEIVE-OVERPAYMENT", "Contact": {"ContactID": inv["_contact_id"]},
                      "BankAccount": {"Code": account}, "Date": day, "CurrencyCode": inv["CurrencyCode"],
                      "Reference": reference or f"Overpayment on {number}", "LineAmountTypes": "NoTax",
                      "LineItems": [{"Description": f"Overpayment on {number}", "Quantity": 1,
                                     "UnitAmount": value - due}]}
            problems = prepare_payment(self, payment, {}).errors + prepare_bank_transaction(self, excess).errors
            if problems:           # refuse before half of the money is booked
                raise Refused(problems)
            paid = self._one(write_payments, payment)
            txn = self._one(write_bank_transactions, excess)
            return {"Payment": paid, "BankTransaction": txn,
                    "Overpayment": self.render_overpayment(self.overpayments[txn["OverpaymentID"]])}

    def allocate_overpayment(self: XeroBooks, overpayment_id: str, invoice: str, amount: Decimal | int,
                             on: date | str | None = None) -> dict[str, Any]:
        """PUT /Overpayments/{id}/Allocations: use part of an overpayment to settle an invoice."""
        from connectors.sandbox.xero_batches import write_allocations
        with self.lock:
            inv = self._invoice_or_refuse(invoice)
            return self._one(write_allocations, {"Invoice": {"InvoiceID": inv["InvoiceID"]},
                                                 "Amount": _amount(amount), "Date": _day(on)},
                             source="overpayments", forced_id=overpayment_id)

    def refund_overpayment(self: XeroBooks, overpayment_id: str, amount: Decimal | int,
                           on: date | str | None = None, *, account: str = DEFAULT_BANK,
                           reference: str = "") -> dict[str, Any]:
        """Pay (part of) an overpayment back to the customer: an AROVERPAYMENTPAYMENT payment."""
        from connectors.sandbox.xero_batches import write_payments
        return self._one(write_payments, {"Overpayment": {"OverpaymentID": overpayment_id},
                                          "Account": {"Code": account}, "Amount": _amount(amount),
                                          "Date": _day(on), "Reference": reference})

    def refund_credit_note(self: XeroBooks, credit_note: str, amount: Decimal | int,
                           on: date | str | None = None, *, account: str = DEFAULT_BANK,
                           reference: str = "") -> dict[str, Any]:
        """Pay (part of) a credit note's remaining credit out: an ARCREDITPAYMENT payment."""
        from connectors.sandbox.xero_batches import write_payments
        with self.lock:
            found = self.credit_note(credit_note)
            key = {"CreditNoteID": found["CreditNoteID"]} if found else {"CreditNoteNumber": credit_note}
            return self._one(write_payments, {"CreditNote": key, "Account": {"Code": account},
                                              "Amount": _amount(amount), "Date": _day(on),
                                              "Reference": reference})

    def void(self: XeroBooks, invoice: str, *, status: str | None = None) -> dict[str, Any]:
        """POST /Invoices/{id} with Status VOIDED (approved invoices) or DELETED (DRAFT/SUBMITTED
        ones — Xero deletes drafts rather than voiding them). Refused while payments or credit
        are applied, as in Xero."""
        from connectors.sandbox.xero_batches import write_invoices
        with self.lock:
            found = self._invoice_or_refuse(invoice)
            wanted = status or ("DELETED" if found["Status"] in ("DRAFT", "SUBMITTED") else "VOIDED")
            return self._one(write_invoices, {"Status": wanted}, match_number=True, forced_id=found["InvoiceID"])
