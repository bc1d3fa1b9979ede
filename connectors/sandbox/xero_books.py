"""One Xero organisation's books: reference data, contacts, invoices and the money that moves.

Records are stored in an internal form (Decimals, day strings, epoch-ms stamps under `_` keys)
and written out in Xero's form only at the HTTP edge. Every save stamps `UpdatedDateUTC` past
its previous value and keeps the (updated, id) index that If-Modified-Since paging walks; name
and number indexes make the uniqueness rules (contact names, invoice numbers) O(1). Payments,
credit notes, overpayments and allocations are applied by the Ledger mixin (xero_ledger); the
Python shortcuts tests and the demo use (pay, credit, overpay, refund, void) by MoneyMovements.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from connectors.sandbox.ordered_index import ModifiedIndex, QueryCache
from connectors.sandbox.timeutil import MonotonicMs, wall_ms
from connectors.sandbox.xero_contacts import render_contact
from connectors.sandbox.xero_invoices import render_invoice
from connectors.sandbox.xero_ledger import Ledger
from connectors.sandbox.xero_money import MoneyMovements
from connectors.sandbox.xero_reference import (
    default_accounts, default_currencies, default_organisation, default_tax_rates, with_bank_account)

COLLECTIONS = ("contacts", "invoices", "payments", "credit_notes", "overpayments", "bank_transactions")


class XeroBooks(Ledger, MoneyMovements):
    """The books of one tenant. Callers hold the state lock (`lock`, shared with the XeroState)."""

    def __init__(self, tenant_id: str, name: str, clock: MonotonicMs,
                 lock: threading.RLock | None = None) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self.lock = lock or threading.RLock()
        self.org = default_organisation(tenant_id, name, wall_ms())
        self.tax_rates = default_tax_rates()
        self.accounts = default_accounts(tenant_id)
        self.currencies = default_currencies()
        self.records: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        self.indexes: dict[str, ModifiedIndex[str]] = {c: ModifiedIndex() for c in COLLECTIONS}
        self.versions = {c: 0 for c in COLLECTIONS}
        self.cache = QueryCache()
        self.contact_names: dict[str, str] = {}       # lower(name) of ACTIVE contacts -> id
        self.contact_numbers: dict[str, str] = {}
        self.invoice_numbers: dict[str, str] = {}     # lower(number) of ACCREC invoices -> id
        self.payments_by_doc: dict[str, list[str]] = {}
        self.allocations_by_invoice: dict[str, list[tuple[str, str]]] = {}
        self.credit_note_numbers: dict[str, str] = {}  # lower(number) of ACCRECCREDIT notes -> id
        self.next_invoice_number = 1
        self.next_credit_note_number = 1
        self.idempotency: dict[str, dict[str, Any]] = {}

    @property
    def contacts(self) -> dict[str, dict[str, Any]]:
        return self.records["contacts"]

    @property
    def invoices(self) -> dict[str, dict[str, Any]]:
        return self.records["invoices"]

    @property
    def payments(self) -> dict[str, dict[str, Any]]:
        return self.records["payments"]

    @property
    def credit_notes(self) -> dict[str, dict[str, Any]]:
        return self.records["credit_notes"]

    @property
    def overpayments(self) -> dict[str, dict[str, Any]]:
        return self.records["overpayments"]

    @property
    def bank_transactions(self) -> dict[str, dict[str, Any]]:
        return self.records["bank_transactions"]

    # ---- lookups ------------------------------------------------------------------------
    def contact(self, contact_id: str) -> dict[str, Any] | None:
        return self.contacts.get(str(contact_id).lower())

    def contact_by_name(self, name: str) -> dict[str, Any] | None:
        found = self.contact_names.get(name.strip().lower())
        return self.contacts.get(found) if found else None

    def contact_by_number(self, number: str) -> dict[str, Any] | None:
        found = self.contact_numbers.get(number.strip().lower())
        return self.contacts.get(found) if found else None

    def invoice(self, key: str) -> dict[str, Any] | None:
        """By InvoiceID, or by InvoiceNumber (GET /Invoices/{InvoiceNumber} works on Xero)."""
        return self.invoices.get(str(key).lower()) or self.invoice_by_number(str(key))

    def invoice_by_number(self, number: str) -> dict[str, Any] | None:
        found = self.invoice_numbers.get(number.strip().lower())
        return self.invoices.get(found) if found else None

    def payment(self, payment_id: str) -> dict[str, Any] | None:
        return self.payments.get(str(payment_id).lower())

    def credit_note(self, key: str) -> dict[str, Any] | None:
        """By CreditNoteID, or by CreditNoteNumber."""
        return self.credit_notes.get(str(key).lower()) or self.credit_note_by_number(str(key))

    def credit_note_by_number(self, number: str) -> dict[str, Any] | None:
        found = self.credit_note_numbers.get(number.strip().lower())
        return self.credit_notes.get(found) if found else None

    def overpayment(self, overpayment_id: str) -> dict[str, Any] | None:
        return self.overpayments.get(str(overpayment_id).lower())

    def bank_transaction(self, transaction_id: str) -> dict[str, Any] | None:
        return self.bank_transactions.get(str(transaction_id).lower())

    # ---- writes -------------------------------------------------------------------------
    def _stamp(self, collection: str, record: dict[str, Any], key: str) -> None:
        old = record.get("_updated_ms")
        record["_updated_ms"] = self.clock.stamp(after=old)
        if old is not None:
            self.indexes[collection].move(old, record["_updated_ms"], key)
        else:
            self.indexes[collection].add(record["_updated_ms"], key)
        self.versions[collection] += 1

    def save_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        contact["ContactID"] = contact["ContactID"].lower()
        key = contact["ContactID"]
        previous = self.contacts.get(key)
        if previous is not None:
            self._unindex_contact(previous)
        self.contacts[key] = contact
        self._index_contact(contact)
        self._stamp("contacts", contact, key)
        return contact

    def add_contact(self, name: str, **fields: Any) -> dict[str, Any]:
        """Python-side shortcut (seeding, tests): create an ACTIVE contact without validation."""
        contact = {"ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE", "Name": name,
                   "IsSupplier": False, "IsCustomer": False, **fields}
        return self.save_contact(contact)

    def _index_contact(self, contact: dict[str, Any]) -> None:
        if contact.get("ContactStatus") == "ACTIVE" and contact.get("Name"):
            self.contact_names[contact["Name"].strip().lower()] = contact["ContactID"]
        if contact.get("ContactNumber"):
            self.contact_numbers[str(contact["ContactNumber"]).strip().lower()] = contact["ContactID"]

    def _unindex_contact(self, contact: dict[str, Any]) -> None:
        for table, value in ((self.contact_names, contact.get("Name")),
                             (self.contact_numbers, contact.get("ContactNumber"))):
            if value and table.get(str(value).strip().lower()) == contact["ContactID"]:
                del table[str(value).strip().lower()]

    def next_number(self) -> str:
        while True:
            number = f"INV-{self.next_invoice_number:04d}"
            self.next_invoice_number += 1
            if number.lower() not in self.invoice_numbers:
                return number

    def save_invoice(self, invoice: dict[str, Any]) -> dict[str, Any]:
        invoice["InvoiceID"] = invoice["InvoiceID"].lower()
        key = invoice["InvoiceID"]
        if invoice["Type"] == "ACCREC" and not invoice.get("InvoiceNumber"):
            invoice["InvoiceNumber"] = self.next_number()
        previous = self.invoices.get(key)
        if previous is not None and previous.get("InvoiceNumber"):
            self.invoice_numbers.pop(previous["InvoiceNumber"].lower(), None)
        self.invoices[key] = invoice
        if invoice["Type"] == "ACCREC" and invoice.get("InvoiceNumber"):
            self.invoice_numbers[invoice["InvoiceNumber"].lower()] = key
        self._stamp("invoices", invoice, key)
        if invoice["Type"] == "ACCREC" and invoice["Status"] in ("AUTHORISED", "PAID"):
            contact = self.contact(invoice.get("_contact_id") or "")
            if contact is not None and not contact.get("IsCustomer"):
                contact["IsCustomer"] = True
                self._stamp("contacts", contact, contact["ContactID"])
        return invoice

    # ---- rendering ----------------------------------------------------------------------
    def render_invoice(self, invoice: dict[str, Any], summary: bool = False) -> dict[str, Any]:
        moves = self.invoice_movements(invoice)
        return render_invoice(invoice, self.contact(invoice.get("_contact_id") or ""), moves["payments"],
                              summary=summary, credit_notes=moves["credit_notes"],
                              overpayments=moves["overpayments"])

    def render_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        return render_contact(contact)

    # ---- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "org": self.org, "tax_rates": self.tax_rates,
                "accounts": self.accounts, "currencies": self.currencies,
                "records": self.records, "next_invoice_number": self.next_invoice_number,
                "next_credit_note_number": self.next_credit_note_number,
                "idempotency": {k: {**v, "stored_at": None} for k, v in self.idempotency.items()}}

    def load_dict(self, data: dict[str, Any]) -> None:
        for key in ("org", "tax_rates", "accounts", "currencies"):
            setattr(self, key, data[key])
        self.accounts = with_bank_account(self.accounts, self.tenant_id)
        self.records = {c: dict(data["records"].get(c, {})) for c in COLLECTIONS}
        self.next_invoice_number = data.get("next_invoice_number", 1)
        self.next_credit_note_number = data.get("next_credit_note_number", 1)
        now = time.monotonic()   # retention of loaded keys restarts with the process
        self.idempotency = {k: {**v, "stored_at": now} for k, v in data.get("idempotency", {}).items()}
        self.reindex()

    def reindex(self) -> None:
        """Rebuild every index from the records (after loading or bulk seeding)."""
        self.contact_names.clear()
        self.contact_numbers.clear()
        self.invoice_numbers.clear()
        for collection, rows in self.records.items():
            self.indexes[collection].rebuild([(r["_updated_ms"], k) for k, r in rows.items()])
            for record in rows.values():
                self.clock.observe(record["_updated_ms"])
            self.versions[collection] += 1
        for contact in self.contacts.values():
            self._index_contact(contact)
        for key, invoice in self.invoices.items():
            if invoice["Type"] == "ACCREC" and invoice.get("InvoiceNumber"):
                self.invoice_numbers[invoice["InvoiceNumber"].lower()] = key
        self.reindex_money()
        self.cache.clear()
