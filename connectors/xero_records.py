"""Xero's records in ledgerlink's canonical shape (`ledgerlink.ledger`): the only place that knows
what Xero calls an invoice's status, its amounts, a contact's CRM id or a tax rate's percentage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerLine, LedgerTaxRate
from ledgerlink.model import InvoiceStatus
from ledgerlink.money import to_decimal
from ledgerlink.timestamps import parse_timestamp

_STATUSES = {status.value.upper(): status for status in InvoiceStatus}


def _amount(record: Mapping[str, Any], key: str) -> Decimal:
    return to_decimal(record.get(key) or 0, key)


def _date(record: Mapping[str, Any], *keys: str) -> date | None:
    for key in keys:
        moment = parse_timestamp(record.get(key)) if record.get(key) else None
        if moment is not None:
            return moment.date()
    return None


def tax_rate_from_xero(rate: Mapping[str, Any]) -> LedgerTaxRate:
    percent = rate.get("EffectiveRate", rate.get("DisplayTaxRate", 0))
    return LedgerTaxRate(code=str(rate.get("TaxType") or ""), name=str(rate.get("Name") or rate.get("TaxType") or ""),
                         rate=to_decimal(percent or 0, "EffectiveRate") / Decimal(100),
                         active=rate.get("Status") == "ACTIVE")


def contact_from_xero(contact: Mapping[str, Any]) -> LedgerContact:
    return LedgerContact(id=contact["ContactID"], name=contact.get("Name"), tax_number=contact.get("TaxNumber"),
                         email=contact.get("EmailAddress"), crm_id=contact.get("ContactNumber") or None,
                         active=contact.get("ContactStatus", "ACTIVE") == "ACTIVE",
                         updated_at=parse_timestamp(contact.get("UpdatedDateUTC")))


def invoice_from_xero(invoice: Mapping[str, Any]) -> LedgerInvoice:
    """Xero's AmountDue is already net of payments, credit notes and overpayment allocations."""
    status = _STATUSES.get(str(invoice.get("Status") or "").upper())
    if status is None:
        raise ValueError(f"invoice {invoice.get('InvoiceNumber')}: unknown status {invoice.get('Status')!r}")
    return LedgerInvoice(
        id=invoice["InvoiceID"], number=invoice.get("InvoiceNumber"), reference=invoice.get("Reference"),
        contact_id=(invoice.get("Contact") or {}).get("ContactID"), status=status,
        currency=invoice.get("CurrencyCode") or "", subtotal=_amount(invoice, "SubTotal"),
        total_tax=_amount(invoice, "TotalTax"), total=_amount(invoice, "Total"),
        amount_paid=_amount(invoice, "AmountPaid"), amount_due=_amount(invoice, "AmountDue"),
        amount_credited=_amount(invoice, "AmountCredited"),
        issue_date=_date(invoice, "DateString", "Date"), due_date=_date(invoice, "DueDateString", "DueDate"),
        fully_paid_on=_date(invoice, "FullyPaidOnDate"), updated_at=parse_timestamp(invoice.get("UpdatedDateUTC")),
        lines=tuple(LedgerLine(tax_code=line.get("TaxType"), net=_amount(line, "LineAmount"))
                    for line in invoice.get("LineItems") or []))


def payment_change(payment: Mapping[str, Any]) -> LedgerChange:
    invoice = (payment.get("Invoice") or {}).get("InvoiceID")
    return LedgerChange(id=payment.get("PaymentID") or "", invoice_ids=(invoice,) if invoice else (),
                        updated_at=parse_timestamp(payment.get("UpdatedDateUTC")))


def credit_note_change(note: Mapping[str, Any]) -> LedgerChange:
    touched = [(allocation.get("Invoice") or {}).get("InvoiceID") for allocation in note.get("Allocations") or []]
    return LedgerChange(id=note.get("CreditNoteID") or "", invoice_ids=tuple(i for i in touched if i),
                        updated_at=parse_timestamp(note.get("UpdatedDateUTC")))
