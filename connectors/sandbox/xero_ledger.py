"""Money movements applied to balances: payments, refunds, allocations, and what they settle.

Balances are never adjusted by increments: after every movement (a payment, its deletion, an
allocation) the documents it touches are *recomputed* from their live movements — AmountPaid from
AUTHORISED payments, AmountCredited from allocations, AmountDue = Total − both, RemainingCredit =
Total − allocations − refunds. So a reversal cannot leave a cent behind, and saved state reloads to
the same balances. Every recompute stamps UpdatedDateUTC, so If-Modified-Since readers see it.

Status follows Xero: an invoice with nothing left due is PAID (FullyPaidOnDate = the latest
payment or allocation date) and goes back to AUTHORISED when a payment is deleted; a credit note or
overpayment with no credit left is PAID likewise. Mixed into XeroBooks; callers hold the lock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterator

from connectors.sandbox.xero_allocations import render_allocation
from connectors.sandbox.xero_credit_notes import credit_note_summary, render_credit_note
from connectors.sandbox.xero_invoices import money
from connectors.sandbox.xero_overpayments import overpayment_summary, render_bank_transaction, render_overpayment
from connectors.sandbox.xero_payments import payment_document, payment_summary

ZERO = Decimal("0.00")


class Ledger:
    """The money-movement half of XeroBooks (see xero_books for storage and indexes)."""

    records: dict[str, dict[str, dict[str, Any]]]
    accounts: dict[str, dict[str, Any]]
    payments_by_doc: dict[str, list[str]]           # invoice/credit note/overpayment id -> payment ids
    allocations_by_invoice: dict[str, list[tuple[str, str]]]   # invoice id -> [(collection, credit id)]
    credit_note_numbers: dict[str, str]
    next_credit_note_number: int

    if TYPE_CHECKING:   # provided by XeroBooks
        def _stamp(self, collection: str, record: dict[str, Any], key: str) -> None: ...
        def contact(self, contact_id: str) -> dict[str, Any] | None: ...
        def invoice(self, key: str) -> dict[str, Any] | None: ...

    # ---- writes -------------------------------------------------------------------------
    def save_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        """Record a new payment (or refund) and settle the document it pays."""
        key = payment["PaymentID"] = payment["PaymentID"].lower()
        self.records["payments"][key] = payment
        self._stamp("payments", payment, key)
        collection, doc_id = payment_document(payment)
        self.payments_by_doc.setdefault(doc_id or "", []).append(key)
        self.settle(collection, doc_id)
        return payment

    def delete_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        """Xero's reversal of a payment: it stays listed as DELETED and its document re-opens."""
        payment["Status"] = "DELETED"
        self._stamp("payments", payment, payment["PaymentID"])
        self.settle(*payment_document(payment))
        return payment

    def save_credit_note(self, note: dict[str, Any]) -> dict[str, Any]:
        key = note["CreditNoteID"] = note["CreditNoteID"].lower()
        if note["Type"] == "ACCRECCREDIT" and not note.get("CreditNoteNumber"):
            note["CreditNoteNumber"] = self._next_credit_note_number()
        previous = self.records["credit_notes"].get(key)
        if previous is not None and previous.get("CreditNoteNumber"):
            self.credit_note_numbers.pop(previous["CreditNoteNumber"].lower(), None)
        self.records["credit_notes"][key] = note
        self._index_credit_note(key, note)
        self._stamp("credit_notes", note, key)
        return note

    def save_bank_transaction(self, txn: dict[str, Any], overpayment: dict[str, Any]) -> dict[str, Any]:
        """A RECEIVE-OVERPAYMENT bank transaction and the Overpayment it creates (same id)."""
        key = txn["BankTransactionID"] = overpayment["OverpaymentID"] = txn["BankTransactionID"].lower()
        txn["_overpayment_id"] = overpayment["_bank_transaction_id"] = key
        self.records["bank_transactions"][key] = txn
        self.records["overpayments"][key] = overpayment
        self._stamp("bank_transactions", txn, key)
        self._stamp("overpayments", overpayment, key)
        return txn

    def allocate(self, source_kind: str, source: dict[str, Any], allocation: dict[str, Any]) -> dict[str, Any]:
        """Apply credit from a credit note or overpayment to an invoice."""
        source.setdefault("_allocations", []).append(allocation)
        source_id = source["CreditNoteID" if source_kind == "credit_notes" else "OverpaymentID"]
        links = self.allocations_by_invoice.setdefault(allocation["_invoice_id"], [])
        if (source_kind, source_id) not in links:
            links.append((source_kind, source_id))
        self.settle("invoices", allocation["_invoice_id"])
        self.settle(source_kind, source_id)
        return allocation

    # ---- settling -----------------------------------------------------------------------
    def settle(self, collection: str, doc_id: str | None) -> None:
        """Recompute a document's balances and status from its live movements."""
        document = self.records[collection].get(doc_id or "")
        if document is None:
            return
        if collection == "invoices":
            self._settle_invoice(document)
        else:
            self._settle_credit(collection, document)

    def _live_payments(self, doc_id: str) -> list[dict[str, Any]]:
        payments = self.records["payments"]
        return [payments[p] for p in self.payments_by_doc.get(doc_id, [])
                if payments[p]["Status"] == "AUTHORISED"]

    def allocations_to(self, invoice_id: str) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(collection, credit, allocation) for every allocation made to an invoice."""
        for kind, source_id in self.allocations_by_invoice.get(invoice_id, []):
            source = self.records[kind][source_id]
            for allocation in source.get("_allocations", []):
                if allocation["_invoice_id"] == invoice_id:
                    yield kind, source, allocation

    def _settle_invoice(self, invoice: dict[str, Any]) -> None:
        live = self._live_payments(invoice["InvoiceID"])
        credits = [a for _, _, a in self.allocations_to(invoice["InvoiceID"])]
        invoice["AmountPaid"] = money(sum((p["Amount"] for p in live), ZERO))
        invoice["AmountCredited"] = money(sum((a["Amount"] for a in credits), ZERO))
        invoice["AmountDue"] = money(invoice["Total"] - invoice["AmountPaid"] - invoice["AmountCredited"])
        self._set_paid(invoice, invoice["AmountDue"], [m["_date"] for m in live + credits])
        self._stamp("invoices", invoice, invoice["InvoiceID"])

    def _settle_credit(self, collection: str, credit: dict[str, Any]) -> None:
        credit_id = credit["CreditNoteID" if collection == "credit_notes" else "OverpaymentID"]
        used = self._live_payments(credit_id) + credit.get("_allocations", [])
        credit["RemainingCredit"] = money(credit["Total"] - sum((m["Amount"] for m in used), ZERO))
        self._set_paid(credit, credit["RemainingCredit"], [m["_date"] for m in used])
        self._stamp(collection, credit, credit_id)

    @staticmethod
    def _set_paid(document: dict[str, Any], left: Decimal, dates: list[str]) -> None:
        if left <= 0 and dates and document["Status"] in ("AUTHORISED", "PAID"):
            document["Status"] = "PAID"
            document["_fully_paid"] = max(dates)
        elif document["Status"] == "PAID":
            document["Status"] = "AUTHORISED"
            document.pop("_fully_paid", None)

    # ---- rendering ----------------------------------------------------------------------
    def invoice_movements(self, invoice: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """The Payments, CreditNotes and Overpayments lists written inside an invoice."""
        applied: dict[tuple[str, str], Decimal] = {}
        sources: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, source, allocation in self.allocations_to(invoice["InvoiceID"]):
            link = (kind, source.get("CreditNoteID") or source["OverpaymentID"])
            applied[link] = applied.get(link, ZERO) + allocation["Amount"]
            sources[link] = source
        return {
            "payments": [payment_summary(p) for p in self._live_payments(invoice["InvoiceID"])],
            "credit_notes": [credit_note_summary(sources[k], amount) for k, amount in applied.items()
                             if k[0] == "credit_notes"],
            "overpayments": [overpayment_summary(sources[k], amount) for k, amount in applied.items()
                             if k[0] == "overpayments"],
        }

    def _credit_movements(self, kind: str, credit: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        credit_id = credit["CreditNoteID" if kind == "credit_notes" else "OverpaymentID"]
        payments = [payment_summary(p) for p in self._live_payments(credit_id)]
        allocations = [render_allocation(a, kind, credit, self.invoice(a["_invoice_id"] or ""))
                       for a in credit.get("_allocations", [])]
        return payments, allocations

    def render_credit_note(self, note: dict[str, Any], summary: bool = False) -> dict[str, Any]:
        payments, allocations = self._credit_movements("credit_notes", note)
        return render_credit_note(note, self.contact(note.get("_contact_id") or ""), payments, allocations,
                                  summary=summary)

    def render_overpayment(self, over: dict[str, Any], summary: bool = False) -> dict[str, Any]:
        payments, allocations = self._credit_movements("overpayments", over)
        return render_overpayment(over, self.contact(over.get("_contact_id") or ""), payments, allocations,
                                  summary=summary)

    def render_bank_transaction(self, txn: dict[str, Any], summary: bool = False) -> dict[str, Any]:
        return render_bank_transaction(txn, self.contact(txn.get("_contact_id") or ""),
                                       self.accounts.get(txn.get("_account_code") or ""))

    # ---- indexes ------------------------------------------------------------------------
    def _next_credit_note_number(self) -> str:
        while True:
            number = f"CN-{self.next_credit_note_number:04d}"
            self.next_credit_note_number += 1
            if number.lower() not in self.credit_note_numbers:
                return number

    def _index_credit_note(self, key: str, note: dict[str, Any]) -> None:
        if note["Type"] == "ACCRECCREDIT" and note.get("CreditNoteNumber"):
            self.credit_note_numbers[note["CreditNoteNumber"].lower()] = key

    def reindex_money(self) -> None:
        """Rebuild the movement indexes from the records (after loading saved state)."""
        self.payments_by_doc.clear()
        self.allocations_by_invoice.clear()
        self.credit_note_numbers.clear()
        for key, payment in self.records["payments"].items():
            self.payments_by_doc.setdefault(payment_document(payment)[1] or "", []).append(key)
        for kind in ("credit_notes", "overpayments"):
            for key, credit in self.records[kind].items():
                for allocation in credit.get("_allocations", []):
                    links = self.allocations_by_invoice.setdefault(allocation["_invoice_id"], [])
                    if (kind, key) not in links:
                        links.append((kind, key))
        for key, note in self.records["credit_notes"].items():
            self._index_credit_note(key, note)
