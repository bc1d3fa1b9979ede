"""Xero's records in ledgerlink's canonical shape (`ledgerlink.ledger`): the only place that knows
what Xero calls an invoice's status, its amounts, a contact's CRM id or a tax rate's percentage.

Every field is read through `connectors.vendor_fields`, so a malformed record raises a ValueError
naming the record and the field, never a KeyError or TypeError."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.vendor_fields import (VendorRecordError, amount, label, nested, record, records, required_text, text,
                                      timestamp)
from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerLine, LedgerTaxRate
from ledgerlink.model import InvoiceStatus
from ledgerlink.money import shown

_STATUSES = {status.value.upper(): status for status in InvoiceStatus}


def _date(record_: Mapping[str, Any], what: str, *keys: str) -> date | None:
    for key in keys:
        if record_.get(key):
            moment = timestamp(record_, key, what)
            if moment is not None:
                return moment.date()
    return None


def tax_rate_from_xero(rate: Mapping[str, Any]) -> LedgerTaxRate:
    what = label("Xero tax rate", rate, "TaxType", "Name")
    rate = record(rate, what)
    key = "EffectiveRate" if "EffectiveRate" in rate else "DisplayTaxRate"
    code = text(rate, "TaxType", what) or ""
    return LedgerTaxRate(code=code, name=text(rate, "Name", what) or code,
                         rate=amount(rate, key, what) / Decimal(100), active=rate.get("Status") == "ACTIVE")


def contact_from_xero(contact: Mapping[str, Any]) -> LedgerContact:
    what = label("Xero contact", contact, "ContactID", "Name")
    contact = record(contact, what)
    return LedgerContact(id=required_text(contact, "ContactID", what), name=text(contact, "Name", what),
                         tax_number=text(contact, "TaxNumber", what), email=text(contact, "EmailAddress", what),
                         crm_id=text(contact, "ContactNumber", what) or None,
                         active=contact.get("ContactStatus", "ACTIVE") == "ACTIVE",
                         updated_at=timestamp(contact, "UpdatedDateUTC", what))


def invoice_from_xero(invoice: Mapping[str, Any]) -> LedgerInvoice:
    """Xero's AmountDue is already net of payments, credit notes and overpayment allocations."""
    what = label("Xero invoice", invoice, "InvoiceNumber", "InvoiceID")
    invoice = record(invoice, what)
    status = _STATUSES.get(str(invoice.get("Status") or "").upper())
    if status is None:
        raise VendorRecordError(f"{what}: Status is missing" if invoice.get("Status") in (None, "") else
                                f"{what}: Status {shown(invoice.get('Status'))} is not a Xero invoice status")
    return LedgerInvoice(
        id=required_text(invoice, "InvoiceID", what), number=text(invoice, "InvoiceNumber", what),
        reference=text(invoice, "Reference", what),
        contact_id=text(nested(invoice, "Contact", what), "ContactID", f"{what}: Contact"), status=status,
        currency=text(invoice, "CurrencyCode", what) or "", subtotal=amount(invoice, "SubTotal", what),
        total_tax=amount(invoice, "TotalTax", what), total=amount(invoice, "Total", what),
        amount_paid=amount(invoice, "AmountPaid", what), amount_due=amount(invoice, "AmountDue", what),
        amount_credited=amount(invoice, "AmountCredited", what),
        issue_date=_date(invoice, what, "DateString", "Date"),
        due_date=_date(invoice, what, "DueDateString", "DueDate"),
        fully_paid_on=_date(invoice, what, "FullyPaidOnDate"),
        updated_at=timestamp(invoice, "UpdatedDateUTC", what),
        lines=tuple(LedgerLine(tax_code=text(line, "TaxType", f"{what}: line"),
                               net=amount(line, "LineAmount", f"{what}: line"))
                    for line in records(invoice, "LineItems", what)))


def payment_change(payment: Mapping[str, Any]) -> LedgerChange:
    what = label("Xero payment", payment, "PaymentID")
    payment = record(payment, what)
    invoice = text(nested(payment, "Invoice", what), "InvoiceID", f"{what}: Invoice")
    return LedgerChange(id=text(payment, "PaymentID", what) or "", invoice_ids=(invoice,) if invoice else (),
                        updated_at=timestamp(payment, "UpdatedDateUTC", what))


def credit_note_change(note: Mapping[str, Any]) -> LedgerChange:
    what = label("Xero credit note", note, "CreditNoteNumber", "CreditNoteID")
    note = record(note, what)
    touched = [text(nested(allocation, "Invoice", what), "InvoiceID", f"{what}: allocation")
               for allocation in records(note, "Allocations", what)]
    return LedgerChange(id=text(note, "CreditNoteID", what) or "", invoice_ids=tuple(i for i in touched if i),
                        updated_at=timestamp(note, "UpdatedDateUTC", what))
